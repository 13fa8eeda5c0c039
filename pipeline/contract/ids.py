"""Stable ids and partitioning keys (part of the message contract). Pure."""

from __future__ import annotations

import hashlib

_ESCAPE = str.maketrans({"\x1e": "\x1e\x1e", "\x1f": "\x1e\x1f"})


def stable_id(*parts: str) -> str:
    """A deterministic id for an output, derived from the identity of its input: the 128-bit
    BLAKE2b of the parts joined by U+001F.

    The same input always yields the same id, so a replay after a crash produces duplicates
    that downstream can drop by id. Distinct inputs get distinct ids even when a part holds
    the separator itself: inside a part, U+001E and U+001F are escaped with U+001E (parts
    without them, which is every real id, are hashed as they are).
    """
    joined = "\x1f".join(parts)
    if "\x1e" in joined or joined.count("\x1f") != len(parts) - 1:  # a part holds one
        joined = "\x1f".join(part.translate(_ESCAPE) for part in parts)
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def user_key(site_id: str, user_id: str) -> bytes:
    """The partitioning key of every message about a user: `site_id:user_id`."""
    return f"{site_id}:{user_id}".encode()
