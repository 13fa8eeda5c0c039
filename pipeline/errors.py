"""Every error mimamori raises, under one root.

    MimamoriError                 retriable = False
    ├── PoisonRecord              a record that can never succeed; it goes to the DLQ with `reason`
    ├── TransientError            retriable = True; broker or network trouble, try again later
    └── ConfigError               fatal; bad configuration, names the place (file, key or line)
        └── WordlistError         a bad wordlist line, names file, line and reason

The consumer loop branches on `exc.retriable`, never on a long `except` list.
"""

from __future__ import annotations


class MimamoriError(Exception):
    """Root of every error mimamori raises on purpose."""

    retriable: bool = False


class PoisonRecord(MimamoriError):
    """A record that can never succeed: trying again fails the same way.

    Attributes:
        reason: a short machine name for the DLQ, bounded, so it is safe as a metric label:
            `invalid_utf8`, `invalid_json`, `schema`, `empty_text`, `oversized` (the record's
            content); `undecodable` (its Kafka record batch cannot be read: corrupt, or a
            compression codec this process lacks); `unproducible` (an output it yields is
            refused by the broker); `internal_error` (a bug in mimamori, also logged).
    """

    REASONS = frozenset({"invalid_utf8", "invalid_json", "schema", "empty_text", "oversized",
                         "undecodable", "unproducible", "internal_error"})

    def __init__(self, reason: str, message: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown poison reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message


class TransientError(MimamoriError):
    """Broker or network trouble that is expected to pass."""

    retriable = True


class ConfigError(MimamoriError):
    """Configuration that cannot be used; the message names the place."""


class WordlistError(ConfigError):
    """A wordlist that cannot be used.

    Attributes:
        path: the file.
        line: 1-based line number, or 0 when the problem is the file as a whole.
        reason: what is wrong.
    """

    def __init__(self, path: str, line: int, reason: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason
