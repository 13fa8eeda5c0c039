"""The ladder and enforcer configuration: defaults, per-site overrides, and the errors
`check-config` reports for a ladder that cannot work."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.enforcer.ladder import NO_RUNG, Ladders
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "mimamori.example.toml"

RUNGS = """
rungs = [
    { name = "warn", at_weight = 2, action = "warn" },
    { name = "suspend-1d", at_weight = 4, action = "suspend", duration_s = 86400 },
    { name = "expel", at_weight = 9, action = "expel" },
]
"""


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return load_config(path, environ={})


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return str(caught.value)


def test_example_site_override_loads_and_means_what_it_says() -> None:
    """The example's commented per-site block (lines starting '#   ') is valid configuration."""
    lines = EXAMPLE.read_text().splitlines()
    block = [line[4:] for line in lines[lines.index("[ladder.sites]") + 1:]
             if line.startswith("#   ")]
    assert block
    text = "\n".join(block)
    config = load_config(environ={"MIMAMORI_LADDER_SITES": _as_json(text)})
    ladder = Ladders(config.ladder).of("site-02")
    assert ladder.weight("abuse") == 2
    assert ladder.weight("crime") == 3  # merged over the default
    assert ladder.rungs[ladder.straight("sexual")].action == "expel"
    assert Ladders(config.ladder).of("site-01").straight("sexual") == NO_RUNG


def _as_json(site_toml: str) -> str:
    import json

    return json.dumps(tomllib.loads(site_toml)["ladder"]["sites"])


def test_default_ladder_lookups() -> None:
    ladder = Ladders(load_config(environ={}).ladder).default
    assert [ladder.rung_for_weight(w) for w in range(11)] == [
        NO_RUNG, NO_RUNG, 0, 0, 1, 1, 2, 2, 2, 3, 3]
    assert ladder.weight("crime") == 3
    assert ladder.weight("unheard_of") == 1
    assert ladder.expiry_s("crime") == 365 * 86400
    assert ladder.expiry_s("abuse") == 90 * 86400
    assert ladder.heaviest(["abuse", "crime", "spam"]) == "crime"
    assert ladder.heaviest(["spam", "abuse"]) == "abuse"  # equal: first by name
    assert ladder.rung_rule(1) == "ladder.rungs.suspend-1d"


def test_thresholds_must_increase(tmp_path: Path) -> None:
    message = error(tmp_path, """[ladder]
rungs = [
    { name = "warn", at_weight = 2, action = "warn" },
    { name = "warn-again", at_weight = 2, action = "warn" },
]""")
    assert "ladder.rungs[1] (warn-again): at_weight 2 is not above the previous rung's 2" in message
    assert message.startswith(str(tmp_path / "c.toml"))
    load(tmp_path, """[ladder]
rungs = [
    { name = "warn", at_weight = 2, action = "warn" },
    { name = "warn-again", at_weight = 3, action = "warn" },
]""")  # one more is enough


def test_no_step_down_in_severity(tmp_path: Path) -> None:
    message = error(tmp_path, """[ladder]
rungs = [
    { name = "suspend", at_weight = 2, action = "suspend", duration_s = 60 },
    { name = "warn", at_weight = 3, action = "warn" },
]""")
    assert "ladder.rungs[1] (warn): warn after suspend" in message


def test_nothing_after_expel(tmp_path: Path) -> None:
    message = error(tmp_path, """[ladder]
rungs = [
    { name = "expel", at_weight = 2, action = "expel" },
    { name = "expel-more", at_weight = 3, action = "expel" },
]""")
    assert "ladder.rungs[1] (expel-more): comes after expel" in message
    assert "cannot be reached" in message


def test_suspensions_must_grow(tmp_path: Path) -> None:
    message = error(tmp_path, """[ladder]
rungs = [
    { name = "s1", at_weight = 2, action = "suspend", duration_s = 3600 },
    { name = "s2", at_weight = 3, action = "suspend", duration_s = 3600 },
]""")
    assert "ladder.rungs[1] (s2): duration_s 3600 is not longer" in message
    load(tmp_path, """[ladder]
rungs = [
    { name = "s1", at_weight = 2, action = "suspend", duration_s = 3600 },
    { name = "s2", at_weight = 3, action = "suspend", duration_s = 3601 },
]""")


def test_duration_belongs_to_suspend_only(tmp_path: Path) -> None:
    assert "a suspend rung needs duration_s" in error(
        tmp_path, '[ladder]\nrungs = [{ name = "s", at_weight = 2, action = "suspend" }]')
    assert "duration_s only applies to suspend, not warn" in error(
        tmp_path, '[ladder]\nrungs = [{ name = "w", at_weight = 2, action = "warn", '
                  "duration_s = 5 }]")


def test_rung_names_are_unique(tmp_path: Path) -> None:
    assert "a second rung named 'w'" in error(tmp_path, """[ladder]
rungs = [
    { name = "w", at_weight = 2, action = "warn" },
    { name = "w", at_weight = 3, action = "warn" },
]""")


def test_straight_to_must_name_a_rung_of_the_site(tmp_path: Path) -> None:
    message = error(tmp_path, f"""[ladder]
{RUNGS}
[ladder.sites.site-02]
straight_to = {{ sexual = "ban" }}
""")
    assert "ladder.sites.site-02.straight_to.sexual: no rung named 'ban'" in message
    assert "(rungs: expel, suspend-1d, warn)" in message
    load(tmp_path, f'[ladder]\n{RUNGS}\n[ladder.sites.site-02]\n'
                   'straight_to = { sexual = "expel" }')


def test_site_rungs_are_checked_under_the_site(tmp_path: Path) -> None:
    message = error(tmp_path, """[ladder.sites.site-03]
rungs = [
    { name = "warn", at_weight = 3, action = "warn" },
    { name = "expel", at_weight = 3, action = "expel" },
]""")
    assert "ladder.sites.site-03.rungs[1] (expel): at_weight 3 is not above" in message


def test_a_ladder_no_strike_can_climb_is_unreachable(tmp_path: Path) -> None:
    zero = "[ladder]\ndefault_weight = 0\nweights = { abuse = 0 }\n"
    assert "every strike weighs 0" in error(tmp_path, zero)
    load(tmp_path, zero.replace("abuse = 0", "abuse = 1"))  # one category can climb
    load(tmp_path, zero + 'straight_to = { abuse = "expel" }')  # or jump


def test_unknown_keys_and_bad_values_name_the_key(tmp_path: Path) -> None:
    assert "ladder.sites.site-02" in error(tmp_path, "[ladder.sites.site-02]\nweight = 3\n")
    assert "at_weight" in error(
        tmp_path, '[ladder]\nrungs = [{ name = "w", at_weight = 0, action = "warn" }]')
    assert "ladder.weights" in error(tmp_path, "[ladder]\nweights = { Abuse = 1 }\n")
    assert "[enforcer] max_ledger_entries: Expected `int` >= 10" in error(
        tmp_path, "[enforcer]\nmax_ledger_entries = 5\n")


def test_ladder_from_the_environment_as_json() -> None:
    config = load_config(environ={
        "MIMAMORI_LADDER_SITES": '{"site-09": {"straight_to": {"crime": "expel"}}}',
        "MIMAMORI_LADDER_WEIGHTS": '{"abuse": 2}',
        "MIMAMORI_ENFORCER_HISTORY_RETENTION_DAYS": "30",
    })
    assert config.ladder.sites["site-09"].straight_to == {"crime": "expel"}
    assert config.ladder.weights == {"abuse": 2}
    assert config.enforcer.history_retention_days == 30
    with pytest.raises(ConfigError, match="MIMAMORI_LADDER_SITES: not valid JSON"):
        load_config(environ={"MIMAMORI_LADDER_SITES": "{nope"})


def test_check_config_reports_a_bad_ladder(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[ladder]\nstraight_to = { sexual = "nowhere" }\n')
    assert main(["check-config", "--config", str(path)]) == 2
    assert "ladder.straight_to.sexual: no rung named 'nowhere'" in capsys.readouterr().err


def test_a_ladder_with_sites_survives_the_environment() -> None:
    """Processes started by tests and benchmarks get their configuration as MIMAMORI_*
    variables; tables go as JSON."""
    import msgspec

    from pipeline.config import Config, to_environment
    from pipeline.enforcer.settings import LadderConfig, SiteLadder

    config = msgspec.structs.replace(Config(), ladder=LadderConfig(
        sites={"site-02": SiteLadder(straight_to={"sexual": "expel"}, weights={"abuse": 2})}))
    env = to_environment(config)
    assert env["MIMAMORI_LADDER_SITES"].startswith("{")
    assert env["MIMAMORI_ENFORCER_OVERTURN_ROLES"] == "lead,chief"
    assert load_config(environ=env) == config


def test_history_needs_site_and_user(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "site-01"]) == 2
    assert "history takes SITE:USER" in capsys.readouterr().err
