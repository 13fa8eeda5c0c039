"""Typed, frozen configuration.

Precedence: command-line flags, then environment (`MIMAMORI_<SECTION>_<KEY>`, for example
`MIMAMORI_KAFKA_BOOTSTRAP_SERVERS`), then the TOML file, then the defaults below. Every key,
its default and unit is listed in `config/mimamori.example.toml`, which a test loads.
"""

from __future__ import annotations

import logging
import os
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from pipeline.console.settings import ConsoleConfig
from pipeline.enforcer.settings import EnforcerConfig, LadderConfig, check_ladders, site_error
from pipeline.errors import ConfigError

ENV_PREFIX = "MIMAMORI_"

log = logging.getLogger(__name__)

# Constraints live in the types: msgspec checks them while converting and names the key.
Positive = Annotated[int, msgspec.Meta(ge=1)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]
#: A TCP port; 0 turns the endpoint off (or, for the broker, picks a free one).
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
#: A review priority, 0-100 (higher is worked first).
Priority = Annotated[int, msgspec.Meta(ge=0, le=100)]
NonBlank = Annotated[str, msgspec.Meta(pattern=r"\S")]
#: A review queue: the last part of its topic name.
QueueName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
#: Room for a DLQ copy's headers, at least.
DlqBytes = Annotated[int, msgspec.Meta(ge=65_536)]


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class KafkaConfig(_Section, frozen=True):
    """Connection and client tuning shared by every process that talks to Kafka."""

    bootstrap_servers: NonBlank = "127.0.0.1:9092"
    client_id: str = "mimamori"
    group_id: str = "mimamori-filter"
    #: "all" waits for every in-sync replica; outputs are committed only after this ack.
    acks: Literal["all", "1"] = "all"
    #: Off by default: the embedded broker's in-memory storage has no idempotent producers.
    enable_idempotence: bool = False
    linger_ms: NonNegative = 5
    max_batch_size_bytes: Positive = 1_048_576
    max_request_size_bytes: Positive = 1_048_576
    compression_type: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "none"
    fetch_max_wait_ms: NonNegative = 100
    fetch_max_bytes: Positive = 52_428_800
    max_partition_fetch_bytes: Positive = 1_048_576
    session_timeout_ms: Positive = 10_000
    heartbeat_interval_ms: Positive = 3_000
    max_poll_interval_ms: Positive = 300_000
    request_timeout_ms: Positive = 40_000
    retry_backoff_ms: Positive = 100
    #: A new consumer group starts from the earliest offset, so no post is skipped.
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    #: Transport security of every Kafka connection.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    sasl_username: str = ""
    #: Prefer MIMAMORI_KAFKA_SASL_PASSWORD or sasl_password_file; never logged.
    sasl_password: str = ""
    #: A file holding the SASL password (a mounted secret), read at start.
    sasl_password_file: str = ""
    #: CA bundle to verify the brokers, and a client certificate and key for mutual TLS.
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    ssl_check_hostname: bool = True


class TopicsConfig(_Section, frozen=True):
    """Topic names (the defaults are the contract's) and partition counts for topic creation."""

    posts: str = "mod.posts"
    reports: str = "mod.reports"
    review_prefix: str = "mod.review."
    decisions: str = "mod.decisions"
    violations: str = "mod.violations"
    actions: str = "mod.actions"
    #: The enforcer's ledger changelog (compacted where the cluster supports it).
    ledger: str = "mod.ledger"
    dlq_suffix: str = ".dlq"
    #: Largest record a DLQ topic takes (`max.message.bytes`, set by `create-topics`), in
    #: bytes: room for the copy of an input record of Kafka's default 1 MiB limit with its
    #: `dlq.*` headers. A larger one is cut to fit (`dlq.truncated`).
    dlq_max_message_bytes: DlqBytes = 2_097_152
    partitions: Positive = 6
    replication_factor: Positive = 1

    def review(self, queue: str) -> str:
        """The topic of one review queue."""
        return self.review_prefix + queue

    def dlq(self, topic: str) -> str:
        """The dead-letter topic of an input topic."""
        return topic + self.dlq_suffix


class WorkerConfig(_Section, frozen=True):
    """Filter worker behaviour."""

    #: Records fetched and processed as one batch (offsets commit per batch).
    max_batch_records: Positive = 2_000
    #: A record larger than this goes to the DLQ as `oversized`.
    max_record_bytes: Positive = 65_536
    #: A post or report text longer than this (code points) goes to the DLQ as `oversized`.
    max_text_chars: Positive = 10_000
    #: Time allowed on SIGTERM to finish the batch in hand, flush and commit.
    shutdown_timeout_ms: Positive = 30_000
    #: Consumer lag gauges are refreshed at most this often.
    lag_refresh_interval_ms: NonNegative = 5_000
    #: While idle, the broker is probed this often, so an outage is reported even with no
    #: traffic (mimamori_broker_connected, /ready).
    health_check_interval_ms: Positive = 2_000
    #: Longest pause between retries while the broker cannot be reached (the pause doubles
    #: from kafka.retry_backoff_ms up to this).
    max_retry_backoff_ms: Positive = 5_000
    #: A commit that has not completed after this long means the group coordination is stuck
    #: (seen with aiokafka after a broker restart): the worker replaces its consumer, rejoins
    #: the group and replays from the last committed offsets.
    commit_timeout_ms: Positive = 15_000


class WordlistsConfig(_Section, frozen=True):
    """Where the lists live and which detectors run."""

    dir: str = "wordlists"
    #: Aho-Corasick engine: "daachorse", "pyahocorasick" or "ahocorasick-rs" (same results).
    engine: Literal["daachorse", "pyahocorasick", "ahocorasick-rs"] = "daachorse"
    #: How often workers look for changed lists and hot-reload them; 0 turns it off.
    reload_interval_ms: NonNegative = 5_000
    #: Built-in contact-detail detectors (mode watch, category contact); [] turns them off.
    detectors: list[Literal["phone", "email", "url", "domain", "messaging_id"]] = msgspec.field(
        default_factory=lambda: ["phone", "email", "url", "domain", "messaging_id"]
    )


class PolicyConfig(_Section, frozen=True):
    """How hits become outcomes, queues and priorities (higher priority is worked first)."""

    #: Action taken automatically on a post with a surviving NG hit.
    ng_action: Literal["delete", "warn"] = "delete"
    #: Hits in these categories also send the post to the urgent queue, even when NG deleted it.
    urgent_categories: list[str] = msgspec.field(
        default_factory=lambda: ["self_harm", "crime"]
    )
    #: NG hits in these categories delete the post but give the user no strike.
    strike_exempt_categories: list[str] = msgspec.field(default_factory=lambda: ["self_harm"])
    urgent_queue: QueueName = "urgent"
    standard_queue: QueueName = "standard"
    reports_queue: QueueName = "reports"
    urgent_priority: Priority = 90
    standard_priority: Priority = 50
    #: Priority of a report; a report of a rule-violating post, or whose post text hits the
    #: lists, takes the higher of the priorities that apply.
    report_priority: Priority = 30
    violating_post_report_priority: Priority = 60


class MetricsConfig(_Section, frozen=True):
    """The Prometheus `/metrics` endpoint of this process."""

    #: Loopback by default; bind wider only behind a firewall.
    host: str = "127.0.0.1"
    #: 0 turns the endpoint off.
    port: Port = 9464


class BrokerConfig(_Section, frozen=True):
    """The embedded Kafka-protocol broker (`mimamori broker`, the demo and the tests)."""

    host: str = "127.0.0.1"
    port: Port = 9092
    startup_timeout_ms: Positive = 20_000


class Config(_Section, frozen=True):
    """Everything, one section per concern."""

    kafka: KafkaConfig = msgspec.field(default_factory=KafkaConfig)
    topics: TopicsConfig = msgspec.field(default_factory=TopicsConfig)
    worker: WorkerConfig = msgspec.field(default_factory=WorkerConfig)
    wordlists: WordlistsConfig = msgspec.field(default_factory=WordlistsConfig)
    policy: PolicyConfig = msgspec.field(default_factory=PolicyConfig)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    broker: BrokerConfig = msgspec.field(default_factory=BrokerConfig)
    enforcer: EnforcerConfig = msgspec.field(default_factory=EnforcerConfig)
    ladder: LadderConfig = msgspec.field(default_factory=LadderConfig)
    console: ConsoleConfig = msgspec.field(default_factory=ConsoleConfig)


def _sections() -> dict[str, Any]:
    return {f.name: f.type for f in msgspec.structs.fields(Config)}


def _field_type(section: str, key: str) -> Any:
    """The type of a setting, constraints (`Annotated`) stripped; None if there is none."""
    section_type = _sections().get(section)
    if section_type is None:
        return None
    found = {f.name: f.type for f in msgspec.structs.fields(section_type)}.get(key)
    if typing.get_origin(found) is Annotated:
        found = typing.get_args(found)[0]
    return found


def parse_bool(name: str, value: str) -> bool:
    """Explicit boolean parsing for environment variables."""
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r}: expected true/false, yes/no, on/off or 1/0")


def _parse_env_value(name: str, value: str, field_type: Any) -> object:
    """An environment variable's value as its setting's type (`_field_type`: constraints
    already stripped) reads it."""
    if field_type is bool:
        return parse_bool(name, value)
    if field_type is int:
        try:
            return int(value.strip())
        except ValueError:
            raise ConfigError(f"{name}={value!r}: expected an integer") from None
    if value.lstrip().startswith(("{", "[")) and _structured(field_type):
        # Tables and lists of tables (the ladder) come as JSON: MIMAMORI_LADDER_RUNGS='[...]'.
        try:
            return msgspec.json.decode(value)
        except msgspec.DecodeError as exc:
            raise ConfigError(f"{name}: not valid JSON: {exc}") from None
    if typing.get_origin(field_type) is list:
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _structured(field_type: Any) -> bool:
    """A dict, a Struct or a list of them: set from the environment as JSON."""
    args = [a for a in typing.get_args(field_type) if a is not type(None)]
    candidates = [field_type, *args]
    for candidate in candidates:
        origin = typing.get_origin(candidate) or candidate
        if origin is dict or (isinstance(origin, type) and issubclass(origin, msgspec.Struct)):
            return True
        if origin is list and any(_structured(a) for a in typing.get_args(candidate)):
            return True
    return False


def env_overrides(environ: Mapping[str, str],
                  warnings: list[str] | None = None) -> dict[str, dict[str, object]]:
    """Read `MIMAMORI_<SECTION>_<KEY>` variables into a nested dict.

    A `MIMAMORI_*` variable that names no setting is not an error but a warning (appended to
    `warnings`): platforms inject variables of their own under a service's name (Kubernetes
    sets `MIMAMORI_SERVICE_HOST`, `MIMAMORI_PORT_9464_TCP` and the like for a service called
    mimamori, and `MIMAMORI_KAFKA_SERVICE_HOST` for one called mimamori-kafka).

    Raises:
        ConfigError: a setting's value of the wrong type, naming the variable.
    """
    sections = _sections()
    out: dict[str, dict[str, object]] = {}
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == "MIMAMORI_CONFIG":
            continue
        rest = name[len(ENV_PREFIX):].lower()
        section, _, key = rest.partition("_")
        field_type = _field_type(section, key) if section in sections else None
        if field_type is None:
            if warnings is not None:
                warnings.append(f"{name}: not a mimamori setting (MIMAMORI_<SECTION>_<KEY> "
                                f"with a section of {', '.join(sorted(sections))}); ignored")
            continue
        out.setdefault(section, {})[key] = _parse_env_value(name, value, field_type)
    return out


def to_environment(config: Config) -> dict[str, str]:
    """The `MIMAMORI_<SECTION>_<KEY>` variables that make another mimamori process load
    `config` (the inverse of `env_overrides`); used to start workers from tests and benchmarks."""
    env = {}
    for section, values in msgspec.to_builtins(config).items():
        for key, value in values.items():
            if isinstance(value, dict) or (
                    isinstance(value, list) and any(not isinstance(v, str) for v in value)):
                value = msgspec.json.encode(value).decode()
            elif isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            env[f"MIMAMORI_{section.upper()}_{key.upper()}"] = str(value)
    return env


def _merge(base: dict[str, Any], override: Mapping[str, Mapping[str, object]]) -> None:
    for section, values in override.items():
        target = base.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"[{section}] must be a table")
        target.update(values)


def load_config(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, object]] | None = None,
) -> Config:
    """Load configuration: defaults, then the TOML file, then environment, then overrides.

    Args:
        path: a TOML file, or None for defaults only (`MIMAMORI_CONFIG` names one too).
        environ: the environment to read `MIMAMORI_*` from (defaults to `os.environ`).
        overrides: values from command-line flags, `{section: {key: value}}`.

    Raises:
        ConfigError: naming where the bad value came from: the command-line flag, the
            environment variable, or the file and its `[section] key`.
    """
    environ = os.environ if environ is None else environ
    if path is None and environ.get("MIMAMORI_CONFIG"):
        path = environ["MIMAMORI_CONFIG"]
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    warnings: list[str] = []
    from_env = env_overrides(environ, warnings)
    for warning in warnings:
        log.warning("%s", warning)
    origin = _Origin(str(path) if path is not None else None, from_env, overrides or {})
    _merge(data, from_env)
    if overrides:
        _merge(data, overrides)
    try:
        config = msgspec.convert(data, Config)
    except msgspec.ValidationError as exc:
        key, what = _describe(exc)
        if key.startswith("ladder.sites[...]"):
            key, what = site_error(data["ladder"]["sites"]) or (key, what)
        section, _, name = key.partition(".")
        top = name.split(".")[0].split("[")[0]  # the top key of a nested table's path
        where = origin.of(section, top)
        if top != name:  # inside a table (the ladder): say where
            where += f": {key}"
        raise ConfigError(f"{where}: {what}") from None
    _check(config, origin)
    return config


class _Origin:
    """Where each setting's value came from, to name it in an error."""

    def __init__(self, path: str | None, from_env: Mapping[str, Mapping[str, object]],
                 overrides: Mapping[str, Mapping[str, object]]) -> None:
        self._path = path
        self._env = from_env
        self._flags = overrides

    def of(self, section: str, key: str) -> str:
        """The flag, environment variable, or file and `[section] key` of a setting."""
        dotted = f"{section}.{key}" if key else section
        if key in self._flags.get(section, {}):
            return f"command-line flag for {dotted}"
        if key in self._env.get(section, {}):
            return f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
        if self._path is not None:
            if key:
                return f"{self._path}: [{section}] {key}"
            return f"{self._path}: {dotted}" if dotted else self._path  # a top-level error
        return f"default {dotted}"


def _describe(exc: msgspec.ValidationError) -> tuple[str, str]:
    """Split msgspec's "... - at `$.kafka.linger_ms`" into ("kafka.linger_ms", "...")."""
    message = str(exc)
    if " - at `$." in message:
        what, _, where = message.rpartition(" - at `$.")
        return where.rstrip("`"), what
    return "", message


def _check(config: Config, origin: _Origin) -> None:
    """Rules across settings (single values are checked by their types)."""
    k = config.kafka
    if k.security_protocol.startswith("SASL") and not k.sasl_username:
        raise ConfigError(f"{origin.of('kafka', 'sasl_username')}: required with "
                          f"security_protocol {k.security_protocol}")
    if k.sasl_password and k.sasl_password_file:
        raise ConfigError(f"{origin.of('kafka', 'sasl_password_file')}: kafka.sasl_password "
                          "is set too; set one, not both")
    for key in ("sasl_password_file", "ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        path = getattr(k, key)
        if path and not os.path.isfile(path):
            raise ConfigError(f"{origin.of('kafka', key)}: no such file {path!r}")
    check_ladders(config.ladder, lambda key: origin.of("ladder", key))
    policy = config.policy
    queues = [policy.urgent_queue, policy.standard_queue, policy.reports_queue]
    if len(set(queues)) != 3:
        raise ConfigError(f"{origin.of('policy', 'urgent_queue')}: the three queue names "
                          f"(urgent, standard, reports) must be distinct, got {queues}")
    w = config.worker
    if w.max_record_bytes * 2 > k.max_request_size_bytes:
        # An output echoes at most one input's text (a review item carries the post), so
        # twice the largest input leaves room for the rest of the message.
        raise ConfigError(f"{origin.of('worker', 'max_record_bytes')}: {w.max_record_bytes} "
                          f"bytes leave no room in kafka.max_request_size_bytes "
                          f"({k.max_request_size_bytes}) for the outputs that echo a record; "
                          "keep it at most half of that")


SECRET_KEYS = (("kafka", "sasl_password"),)
REDACTED = "<redacted>"


def effective(config: Config) -> dict[str, Any]:
    """The configuration as plain data, for logging and `check-config`, secrets redacted."""
    result: dict[str, Any] = msgspec.to_builtins(config)
    for section, key in SECRET_KEYS:
        if result[section][key]:
            result[section][key] = REDACTED
    return result
