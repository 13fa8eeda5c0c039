"""mimamori: a streaming content-moderation pipeline for community sites."""

__version__ = "0.1.0"
