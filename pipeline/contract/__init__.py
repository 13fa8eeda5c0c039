"""The message contract (ARCHITECTURE.md): message types, their codecs, stable ids and keys.
Pure: no Kafka, HTTP or metrics imports."""
