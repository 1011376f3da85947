"""Tests against a real Kafka-protocol broker (a package, so its conftest has its own module name)."""
