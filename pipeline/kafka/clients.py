"""Kafka clients built from configuration (I/O shell): connection and security options shared
by every client, and the producer and group consumer every service uses."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, codec
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.partitioner import DefaultPartitioner, murmur2

from pipeline.config import Config, KafkaConfig
from pipeline.errors import ConfigError


def kafka_client_options(kafka: KafkaConfig) -> dict[str, Any]:
    """Connection options shared by every aiokafka client (bootstrap, identity, security).

    Raises:
        ConfigError: the SASL password file or a TLS file cannot be read.
    """
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "security_protocol": kafka.security_protocol,
    }
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        import ssl

        try:
            context = ssl.create_default_context(cafile=kafka.ssl_cafile or None)
            if kafka.ssl_certfile:
                context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile or None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"kafka TLS files: {exc}") from None
        context.check_hostname = kafka.ssl_check_hostname
        options["ssl_context"] = context
    if kafka.security_protocol.startswith("SASL"):
        password = kafka.sasl_password
        if kafka.sasl_password_file:
            try:
                with open(kafka.sasl_password_file, encoding="utf-8") as fh:
                    password = fh.read().strip()
            except OSError as exc:
                raise ConfigError(
                    f"kafka.sasl_password_file: cannot read: {exc.strerror}") from None
        options.update(sasl_mechanism=kafka.sasl_mechanism,
                       sasl_plain_username=kafka.sasl_username, sasl_plain_password=password)
    return options


def check_codec(config: Config) -> None:
    """Fail now, naming the setting, if the output compression's library is missing (rather
    than when the first batch is sent).

    Raises:
        ConfigError: `kafka.compression_type` names a codec this installation cannot write.
    """
    name = config.kafka.compression_type
    available = {"none": True, "gzip": codec.has_gzip(), "snappy": codec.has_snappy(),
                 "lz4": codec.has_lz4(), "zstd": codec.has_zstd()}
    if not available[name]:
        raise ConfigError(f"kafka.compression_type: {name!r} needs a compression library "
                          "this installation lacks (cramjam, pinned in pyproject.toml); "
                          "reinstall mimamori or choose another codec")


class KeyHashCache:
    """The default partitioner (a key's murmur2 hash, as the Java client), with each key's
    hash remembered: a worker writes two or three outputs for every post with a hit, all keyed
    by the same `site:user`, and murmur2 is a pure-Python loop over the key's bytes. The cache
    is cleared when it reaches `max_keys`, so its memory stays bounded."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._hashes: dict[bytes, int] = {}
        self._max_keys = max_keys
        self._default = DefaultPartitioner()

    def __call__(self, key: bytes | None, all_partitions: list[int],
                 available: list[int]) -> int:
        if key is None:  # a random partition, as the default does
            return int(self._default(key, all_partitions, available))
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self._max_keys:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[hashed % len(all_partitions)]


def make_producer(config: Config, partitioner: KeyHashCache | None = None) -> AIOKafkaProducer:
    """A service's producer as configured (`kafka.*`): acks, batching, linger, compression;
    `partitioner` shares its cache of key hashes with the caller (a new one by default).

    Its request size limit also admits the largest DLQ record (`topics.dlq_max_message_bytes`):
    the copy of an input record of the input topic's full size, with its `dlq.*` headers.
    """
    k = config.kafka
    return AIOKafkaProducer(
        **kafka_client_options(k),
        client_id=f"{k.client_id}-producer",
        partitioner=partitioner or KeyHashCache(),
        acks="all" if k.acks == "all" else 1,
        enable_idempotence=k.enable_idempotence,
        linger_ms=k.linger_ms,
        max_batch_size=k.max_batch_size_bytes,
        max_request_size=max(k.max_request_size_bytes, config.topics.dlq_max_message_bytes),
        compression_type=None if k.compression_type == "none" else k.compression_type,
        request_timeout_ms=k.request_timeout_ms,
        retry_backoff_ms=k.retry_backoff_ms,
    )


def make_consumer(config: Config, group_id: str | None = None, *,
                  copartitioned: bool = False) -> AIOKafkaConsumer:
    """A group consumer as configured: manual commits, fetch sizes, batch size. `group_id`
    defaults to `kafka.group_id` (the filter's group).

    `copartitioned` assigns partition p of every input topic to the same member (range
    assignment), as a service with partition-local state over several topics needs (the
    enforcer: a user's violations and decisions); otherwise partitions are dealt round robin,
    which spreads them more evenly.
    """
    k = config.kafka
    assignor = RangePartitionAssignor if copartitioned else RoundRobinPartitionAssignor
    return AIOKafkaConsumer(
        **kafka_client_options(k),
        client_id=k.client_id,
        group_id=group_id or k.group_id,
        enable_auto_commit=False,
        auto_offset_reset=k.auto_offset_reset,
        fetch_max_wait_ms=k.fetch_max_wait_ms,
        fetch_max_bytes=k.fetch_max_bytes,
        max_partition_fetch_bytes=k.max_partition_fetch_bytes,
        max_poll_records=config.worker.max_batch_records,
        session_timeout_ms=k.session_timeout_ms,
        heartbeat_interval_ms=k.heartbeat_interval_ms,
        max_poll_interval_ms=k.max_poll_interval_ms,
        request_timeout_ms=k.request_timeout_ms,
        retry_backoff_ms=k.retry_backoff_ms,
        partition_assignment_strategy=(assignor,),
    )
