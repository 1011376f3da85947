"""Shared test set-up. The broker fixtures (dq_bootstrap, dq_topic, dq_topic_factory) come from
dq-sdk's own pytest plugin, exactly as users' suites get them."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dq-sdk",
    deadline=None,
    max_examples=int(os.environ.get("DQ_SDK_HYPOTHESIS_EXAMPLES", "100")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("dq-sdk")
