"""`mimamori users ...` on the command line: the password comes from standard input only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.console.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _mimamori(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], input=stdin, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_users_add_disable_and_reset(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    added = _mimamori("users", "add", "alice", "--role", "lead", "--sites", "site-01,site-02",
                      "--store", url, "--password-stdin", stdin="first password 1\n")
    assert added.returncode == 0, added.stderr
    assert "first password" not in added.stdout + added.stderr
    store = Store(url)
    try:
        user = store.get_user("alice")
        assert user is not None
        assert (user.role, user.sites) == ("lead", frozenset({"site-01", "site-02"}))
        opened = store.login("alice", "first password 1", client="t", ttl_s=60,
                             throttle_keys=["t"])
        assert opened is not None
        short = _mimamori("users", "reset-password", "alice", "--store", url,
                          "--password-stdin", stdin="short\n")
        assert (short.returncode, short.stderr.strip()) == (
            1, "mimamori: Use 10 characters or more.")
        reset = _mimamori("users", "reset-password", "alice", "--store", url,
                          "--password-stdin", stdin="second password 2\n")
        assert reset.returncode == 0, reset.stderr
        assert store.session(opened[0]) is None  # a new password ends the old sessions
        assert store.login("alice", "first password 1", client="t", ttl_s=60,
                           throttle_keys=["t"]) is None
        assert _mimamori("users", "disable", "alice", "--store", url).returncode == 0
        assert store.login("alice", "second password 2", client="t", ttl_s=60,
                           throttle_keys=["t"]) is None
        missing = _mimamori("users", "disable", "bob", "--store", url)
        assert (missing.returncode, missing.stderr.strip()) == (1, "mimamori: No such account.")
    finally:
        store.close()


def test_the_password_is_never_a_flag() -> None:
    answer = _mimamori("users", "add", "x", "--role", "staff", "--password", "p")
    assert answer.returncode == 2
    assert "unrecognized arguments: p" in answer.stderr
    missing = _mimamori("users", "add", "x", "--role", "staff")
    assert missing.returncode == 2
    assert "--password-stdin" in missing.stderr
