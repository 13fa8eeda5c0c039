"""Configuration: defaults, the example file, precedence and errors that name the place."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import pytest

from pipeline.config import (
    Config,
    TopicsConfig,
    _structured,
    effective,
    env_overrides,
    load_config,
    parse_bool,
    to_environment,
)
from pipeline.errors import ConfigError
from pipeline.kafka.admin import failures
from pipeline.kafka.clients import check_codec, kafka_client_options

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "mimamori.example.toml"


def test_example_config_matches_defaults() -> None:
    assert load_config(EXAMPLE, environ={}) == Config()


def test_example_config_lists_every_key() -> None:
    example = tomllib.loads(EXAMPLE.read_text())
    for section in msgspec.structs.fields(Config):
        keys = {f.name for f in msgspec.structs.fields(section.type)}
        assert set(example[section.name]) == keys, section.name


def test_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[kafka]\nbootstrap_servers = "file:1"\nlinger_ms = 1\nclient_id = "f"\n')
    env = {"MIMAMORI_KAFKA_BOOTSTRAP_SERVERS": "env:2", "MIMAMORI_KAFKA_LINGER_MS": "2"}
    config = load_config(path, environ=env,
                         overrides={"kafka": {"bootstrap_servers": "flag:3"}})
    assert config.kafka.bootstrap_servers == "flag:3"
    assert config.kafka.linger_ms == 2
    assert config.kafka.client_id == "f"
    assert config.kafka.group_id == "mimamori-filter"


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[worker]\nmax_batch_records = 7\n")
    assert load_config(environ={"MIMAMORI_CONFIG": str(path)}).worker.max_batch_records == 7


def test_env_list_and_bool_parsing() -> None:
    config = load_config(environ={
        "MIMAMORI_POLICY_URGENT_CATEGORIES": "self_harm, crime,drugs",
        "MIMAMORI_KAFKA_ENABLE_IDEMPOTENCE": "yes",
    })
    assert config.policy.urgent_categories == ["self_harm", "crime", "drugs"]
    assert config.kafka.enable_idempotence is True


@pytest.mark.parametrize(("value", "expected"), [
    ("1", True), ("TRUE", True), ("on", True), ("yes", True),
    ("0", False), ("false", False), ("Off", False), ("no", False),
])
def test_parse_bool(value: str, expected: bool) -> None:
    assert parse_bool("X", value) is expected


@pytest.mark.parametrize(("toml", "message"), [
    ('[kafka]\nlinger_ms = "soon"\n', "bad.toml: [kafka] linger_ms: Expected `int`, got `str`"),
    ("[kafka]\nlingerms = 5\n", "unknown field `lingerms`"),
    ("[nope]\n", "unknown field `nope`"),
    ('[kafka]\nacks = "2"\n', "bad.toml: [kafka] acks: Invalid enum value '2'"),
    ("[worker]\nmax_batch_records = 0\n", "[worker] max_batch_records: Expected `int` >= 1"),
    ("[worker]\nmax_batch_records = 1\n", None),
    ("[kafka]\nlinger_ms = -1\n", "[kafka] linger_ms: Expected `int` >= 0"),
    ("[kafka]\nlinger_ms = 0\n", None),
    ("[metrics]\nport = 70000\n", "[metrics] port: Expected `int` <= 65535"),
    ("[metrics]\nport = 65535\n", None),
    ("[policy]\nurgent_priority = 101\n", "[policy] urgent_priority: Expected `int` <= 100"),
    ('[kafka]\nbootstrap_servers = "  "\n', "[kafka] bootstrap_servers: Expected `str`"),
    ('[policy]\nurgent_queue = "a b"\n', "[policy] urgent_queue: Expected `str` matching"),
    ('[policy]\nurgent_queue = "standard"\n', "[policy] urgent_queue: the three queue names"),
    ("[worker]\nmax_record_bytes = 600000\n", "[worker] max_record_bytes: 600000 bytes leave"),
    ("[worker]\nmax_record_bytes = 524288\n", None),
    ("[kafka\n", "invalid TOML"),
])
def test_bad_file_names_file_and_key(tmp_path: Path, toml: str, message: str | None) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    if message is None:  # the boundary that is still good
        load_config(path, environ={})
        return
    with pytest.raises(ConfigError, match=r"bad\.toml") as info:
        load_config(path, environ={})
    assert message in str(info.value)


@pytest.mark.parametrize(("env", "message"), [
    ({"MIMAMORI_KAFKA_LINGER_MS": "soon"}, "MIMAMORI_KAFKA_LINGER_MS='soon': expected an integer"),
    ({"MIMAMORI_KAFKA_LINGER_MS": "-5"}, "MIMAMORI_KAFKA_LINGER_MS: Expected `int` >= 0"),
    ({"MIMAMORI_KAFKA_ENABLE_IDEMPOTENCE": "maybe"}, "expected true/false"),
    ({"MIMAMORI_KAFKA_ACKS": "2"}, "MIMAMORI_KAFKA_ACKS: Invalid enum value '2'"),
])
def test_bad_env_names_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ=env)
    assert message in str(info.value)


def test_platform_variables_warn_and_do_not_stop_start_up(
        caplog: pytest.LogCaptureFixture) -> None:
    # What Kubernetes injects for services named mimamori and mimamori-kafka, and a typo.
    env = {"MIMAMORI_SERVICE_HOST": "10.0.0.7", "MIMAMORI_SERVICE_PORT": "9464",
           "MIMAMORI_PORT": "tcp://10.0.0.7:9464", "MIMAMORI_PORT_9464_TCP_ADDR": "10.0.0.7",
           "MIMAMORI_KAFKA_SERVICE_HOST": "10.0.0.8", "MIMAMORI_KAFKA_LINGERMS": "7",
           "MIMAMORI_KAFKA_LINGER_MS": "9"}
    with caplog.at_level("WARNING", logger="pipeline.config"):
        config = load_config(environ=env)
    assert config.kafka.linger_ms == 9
    assert config == load_config(environ={"MIMAMORI_KAFKA_LINGER_MS": "9"})
    warned = sorted(r.getMessage().split(":")[0] for r in caplog.records)
    assert warned == ["MIMAMORI_KAFKA_LINGERMS", "MIMAMORI_KAFKA_SERVICE_HOST", "MIMAMORI_PORT",
                      "MIMAMORI_PORT_9464_TCP_ADDR", "MIMAMORI_SERVICE_HOST",
                      "MIMAMORI_SERVICE_PORT"]


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml: config file not found"):
        load_config("nowhere.toml", environ={})


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.kafka.linger_ms = 9  # type: ignore[misc]


def test_sasl_password_is_redacted_everywhere_it_is_shown() -> None:
    config = load_config(environ={
        "MIMAMORI_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "MIMAMORI_KAFKA_SASL_USERNAME": "mimamori",
        "MIMAMORI_KAFKA_SASL_PASSWORD": "hunter2-secret",
    })
    shown = effective(config)
    assert shown["kafka"]["sasl_password"] == "<redacted>"
    assert "hunter2-secret" not in repr(shown)
    options = kafka_client_options(config.kafka)
    assert options["sasl_plain_password"] == "hunter2-secret"
    assert (options["sasl_mechanism"], options["sasl_plain_username"]) == (
        "SCRAM-SHA-512", "mimamori")


def test_sasl_password_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    config = load_config(environ={
        "MIMAMORI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "MIMAMORI_KAFKA_SASL_USERNAME": "u",
        "MIMAMORI_KAFKA_SASL_PASSWORD_FILE": str(secret),
    })
    options = kafka_client_options(config.kafka)
    assert options["sasl_plain_password"] == "from-a-file"
    assert options["ssl_context"].check_hostname is True


def test_plaintext_has_no_security_options() -> None:
    assert kafka_client_options(Config().kafka) == {
        "bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize(("env", "message"), [
    ({"MIMAMORI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "default kafka.sasl_username: required"),
    ({"MIMAMORI_KAFKA_SSL_CAFILE": "/nowhere/ca.pem"}, "MIMAMORI_KAFKA_SSL_CAFILE: no such file"),
    ({"MIMAMORI_KAFKA_SECURITY_PROTOCOL": "TLS"}, "MIMAMORI_KAFKA_SECURITY_PROTOCOL"),
])
def test_bad_security_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ=env)
    assert message in str(info.value)


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_every_output_codec_is_installed(codec: str) -> None:
    check_codec(load_config(environ={"MIMAMORI_KAFKA_COMPRESSION_TYPE": codec}))


def test_an_output_codec_without_its_library_is_a_config_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aiokafka.codec.cramjam", None)
    config = load_config(environ={"MIMAMORI_KAFKA_COMPRESSION_TYPE": "zstd"})
    with pytest.raises(ConfigError, match=r"kafka\.compression_type: 'zstd' needs"):
        check_codec(config)
    check_codec(load_config(environ={"MIMAMORI_KAFKA_COMPRESSION_TYPE": "gzip"}))


@pytest.mark.parametrize(("errors", "expected"), [
    ([("a", 0, None), ("b", 36, "Topic 'b' already exists.")],
     {"b": "TopicAlreadyExistsError: Topic 'b' already exists."}),
    ([("c", 38)], {"c": "InvalidReplicationFactorError"}),  # CreateTopics v0: no message
    ([], {}),
])
def test_refused_topics_are_reported_by_name(errors: list[tuple[object, ...]],
                                             expected: dict[str, str]) -> None:
    assert failures(errors) == expected


@pytest.mark.parametrize(("env", "toml", "flags", "message"), [
    ({"MIMAMORI_KAFKA_SASL_PASSWORD": "x", "MIMAMORI_KAFKA_SASL_PASSWORD_FILE": __file__}, "",
     {}, "MIMAMORI_KAFKA_SASL_PASSWORD_FILE: kafka.sasl_password is set too; set one, not both"),
    ({}, "[worker]\nmax_record_bytes = 600000\n", {},
     "c.toml: [worker] max_record_bytes: 600000 bytes leave no room in "
     "kafka.max_request_size_bytes (1048576) for the outputs that echo a record; keep it at "
     "most half of that"),
    ({"MIMAMORI_KAFKA_ENABLE_IDEMPOTENCE": "maybe"}, "", {},
     "MIMAMORI_KAFKA_ENABLE_IDEMPOTENCE='maybe': expected true/false, yes/no, on/off or 1/0"),
    ({"MIMAMORI_KAFKA_LINGER_MS": "5"}, "[kafka]\nlinger_ms = 3\n", {"kafka": {"linger_ms": -1}},
     "command-line flag for kafka.linger_ms: Expected `int` >= 0"),
    ({}, "[kafka]\nlinger_ms = -3\n", {}, "c.toml: [kafka] linger_ms: Expected `int` >= 0"),
    ({}, "[policy]\nurgent_queue = 3\n", {}, "c.toml: [policy] urgent_queue: Expected `str`, "
     "got `int`"),
    ({}, "kafka = 3\n", {}, "c.toml: kafka: Expected `object`, got `int`"),
    # Inside a table (the ladder): the variable or the file's key, then the path in it.
    ({"MIMAMORI_LADDER_RUNGS": "warn"}, "", {},  # not JSON: a list of one string
     "MIMAMORI_LADDER_RUNGS: ladder.rungs[0]: Expected `object`, got `str`"),
    ({"MIMAMORI_LADDER_RUNGS": ' [{"name": "w", "at_weight": 2, "action": "warn"}, '
                               '{"name": "w2", "at_weight": 2, "action": "warn"}]'}, "", {},
     "MIMAMORI_LADDER_RUNGS: ladder.rungs[1] (w2): at_weight 2 is not above the previous "
     "rung's 2; thresholds must increase"),
    ({}, '[ladder]\nrungs = [{ name = "w", at_weight = 2, action = "warn" }, '
         '{ name = "w2", at_weight = 2, action = "warn" }]\n', {},
     "c.toml: [ladder] rungs: ladder.rungs[1] (w2): at_weight 2 is not above the previous "
     "rung's 2; thresholds must increase"),
    ({}, "[ladder]\nrungs = [3]\n", {},
     "c.toml: [ladder] rungs: ladder.rungs[0]: Expected `object`, got `int`"),
])
def test_config_errors_say_where_and_what(tmp_path: Path, env: dict[str, str], toml: str,
                                          flags: dict[str, dict[str, object]],
                                          message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=env, overrides=flags)
    assert str(info.value).replace(f"{tmp_path}/", "") == message
@pytest.mark.parametrize(("toml", "env", "flags", "message"), [
    # A whole section of the wrong type, and an unknown section: the file and no key.
    ("kafka = 5\n", {}, None, "bad.toml: kafka: Expected `object`, got `int`"),
    ("[nope]\n", {}, None, "bad.toml: Object contains unknown field `nope`"),
    ("kafka = 5\n", {"MIMAMORI_KAFKA_LINGER_MS": "3"}, None, "[kafka] must be a table"),
    # The key is the last "at" of msgspec's message, whatever the value says.
    ('[kafka]\nacks = "2 - at `$.x"\n', {}, None,
     "bad.toml: [kafka] acks: Invalid enum value '2 - at `$.x'"),
    ("", {}, {"kafka": {"linger_ms": -1}},
     "command-line flag for kafka.linger_ms: Expected `int` >= 0"),
    ("", {"MIMAMORI_KAFKA_ENABLE_IDEMPOTENCE": "maybe"}, None,
     "MIMAMORI_KAFKA_ENABLE_IDEMPOTENCE='maybe': expected true/false, yes/no, on/off or 1/0"),
    ("[kafka]\nsasl_password = \"a\"\nsasl_password_file = \"/nowhere/password\"\n", {}, None,
     "bad.toml: [kafka] sasl_password_file: kafka.sasl_password is set too; set one, not both"),
    ("[worker]\nmax_record_bytes = 524289\n", {}, None,
     "bad.toml: [worker] max_record_bytes: 524289 bytes leave no room in "
     "kafka.max_request_size_bytes (1048576) for the outputs that echo a record; keep it at "
     "most half of that"),
])
def test_config_errors_word_for_word(tmp_path: Path, toml: str, env: dict[str, str],
                                     flags: dict[str, dict[str, object]] | None,
                                     message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=env, overrides=flags)
    assert str(info.value) == message.replace("bad.toml", str(path))


def test_a_config_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, environ={})
    assert str(info.value) == f"{tmp_path}: cannot read: Is a directory"


def test_only_mimamori_settings_are_read_from_the_environment() -> None:
    warnings: list[str] = []
    env = {"PATH": "/bin", "MIMAMORI_CONFIG": "x.toml", "MIMAMORI_KAFKA_LINGER_MS": "3",
           "MIMAMORI_SERVICE_HOST": "10.0.0.7", "MIMAMORI_WORKER_MAX_BATCH_RECORDS": "7"}
    assert env_overrides(env, warnings) == {"kafka": {"linger_ms": 3},
                                            "worker": {"max_batch_records": 7}}
    assert warnings == [
        "MIMAMORI_SERVICE_HOST: not a mimamori setting (MIMAMORI_<SECTION>_<KEY> with a section "
        "of broker, console, enforcer, kafka, ladder, metrics, policy, topics, wordlists, "
        "worker); ignored"]


def test_to_environment_is_what_env_overrides_reads_back() -> None:
    config = load_config(environ={}, overrides={
        "kafka": {"enable_idempotence": True, "linger_ms": 0, "client_id": "c"},
        "policy": {"urgent_categories": ["crime", "drugs"], "strike_exempt_categories": []},
    })
    env = to_environment(config)
    assert (env["MIMAMORI_KAFKA_ENABLE_IDEMPOTENCE"], env["MIMAMORI_KAFKA_SSL_CHECK_HOSTNAME"],
            env["MIMAMORI_KAFKA_LINGER_MS"], env["MIMAMORI_KAFKA_CLIENT_ID"],
            env["MIMAMORI_POLICY_URGENT_CATEGORIES"],
            env["MIMAMORI_POLICY_STRIKE_EXEMPT_CATEGORIES"]) == (
        "true", "true", "0", "c", "crime,drugs", "")
    assert env["MIMAMORI_WORDLISTS_DETECTORS"] == "phone,email,url,domain,messaging_id"
    assert len(env) == sum(len(msgspec.structs.fields(f.type))
                           for f in msgspec.structs.fields(Config))
    assert load_config(environ=env) == config
    assert to_environment(Config())["MIMAMORI_KAFKA_ENABLE_IDEMPOTENCE"] == "false"


def test_topic_names() -> None:
    topics = TopicsConfig(review_prefix="r.", dlq_suffix="-dead")
    assert (topics.review("urgent"), topics.dlq("mod.posts")) == ("r.urgent", "mod.posts-dead")
    assert TopicsConfig().dlq("mod.reports") == "mod.reports.dlq"


class _Table(msgspec.Struct):
    name: str


@pytest.mark.parametrize(("field_type", "structured"), [
    (dict[str, int], True), (_Table, True), (list[_Table], True), (list[dict[str, str]], True),
    (_Table | None, True), (dict[str, int] | None, True), (list[_Table] | None, True),
    (str, False), (int, False), (list[str], False), (list[int], False), (int | None, False),
    (list[str] | None, False),
])
def test_structured_settings_are_the_tables_and_lists_of_tables(field_type: object,
                                                                structured: bool) -> None:
    # These are read from the environment as JSON (MIMAMORI_LADDER_RUNGS='[...]'); the rest
    # as plain text or comma lists.
    assert _structured(field_type) is structured
