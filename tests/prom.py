"""Debian's `prometheus` and `promtool` for the observability tests: find them (a missing one
skips a test on a developer's machine and fails it under `CI=true`), and run a real Prometheus
server on loopback with its HTTP API."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = sorted((ROOT / "config" / "prometheus").glob("*.rules.yml"))


def require(name: str) -> str:
    """Path of a Prometheus binary. `scripts/setup.sh test` installs Debian's `prometheus`
    package; without it a test is skipped, except under `CI=true`, where it fails."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found: run `bash scripts/setup.sh test` (Debian's prometheus)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrometheusServer:
    """A real Prometheus on a free loopback port with a temporary data directory."""

    def __init__(self, workdir: Path, scrape_configs: list[dict[str, Any]],
                 rule_files: list[Path], interval_s: float = 1.0) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        interval = f"{int(interval_s * 1000)}ms"
        config = {
            "global": {"scrape_interval": interval, "evaluation_interval": interval,
                       "scrape_timeout": interval},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": scrape_configs,
        }
        self.config_path = workdir / "prometheus.yml"
        # JSON is YAML: no YAML writer needed.
        self.config_path.write_text(json.dumps(config, indent=2))
        self.log_path = workdir / "prometheus.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30) -> None:
        """Start it and wait until `/-/ready` answers 200."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [require("prometheus"), f"--config.file={self.config_path}",
                 f"--storage.tsdb.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 "--storage.tsdb.retention.time=1d", "--log.level=warn"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"prometheus not ready in {timeout_s}s")

    def stop(self) -> None:
        """Terminate it (and kill it if it does not exit within 10 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def api(self, path: str, **params: str) -> Any:
        """GET `/api/v1/<path>` and return its `data`; an API error raises with its message."""
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}",
                                        timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read())
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant vector result of `expr` now (a scalar comes back as one sample)."""
        data = self.api("query", query=expr)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def query_range(self, expr: str, start: float, end: float,
                    step_s: float) -> list[dict[str, Any]]:
        """Range result of `expr` (a matrix)."""
        data = self.api("query_range", query=expr, start=str(start), end=str(end),
                        step=str(step_s))
        result: list[dict[str, Any]] = data["result"]
        return result
