"""Telemetry: Prometheus metric sets and their HTTP endpoint, logging set-up."""
