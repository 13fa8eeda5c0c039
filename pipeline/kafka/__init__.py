"""Kafka I/O shared by every service: clients from configuration, topic set-up, the embedded
broker, broker health, small read/produce helpers and the aiokafka/uvloop fix."""
