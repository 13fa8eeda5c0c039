"""Stable ids and partitioning keys (part of the message contract). Pure."""

from __future__ import annotations

import hashlib


def stable_id(*parts: str) -> str:
    """A deterministic id for an output, derived from the identity of its input.

    The same input always yields the same id, so a replay after a crash produces duplicates
    that downstream can drop by id.
    """
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=16).hexdigest()


def user_key(site_id: str, user_id: str) -> bytes:
    """The partitioning key of every message about a user: `site_id:user_id`."""
    return f"{site_id}:{user_id}".encode()
