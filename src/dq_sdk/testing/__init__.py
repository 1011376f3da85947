"""Test helpers for dq-sdk users (being written)."""
