"""Tests against a real Kafka-protocol broker (a package: its conftest needs its own name)."""
