"""The instruments: made once per meter provider, counters read from running totals."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Protocol

from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation

from . import _names as n
from ._shared import SCOPE, Attributes, version

__all__ = ["Instruments", "LagSource", "Tallies", "instruments_for"]


class LagSource(Protocol):
    """A running consumer, asked for its lag when the reader collects."""

    def lag_observations(self) -> list[Observation]: ...


class Tallies:
    """Cumulative [messages, bytes] per attribute set, shared by every client of one meter
    provider, so totals survive the clients that counted them.

    The hot path adds two integers to a list it holds; observable counters read the totals
    only when a reader collects. A synchronous counter would do the same work per message
    inside the SDK (hashing and checking every attribute), which costs more than dq-sdk's
    whole per-message path on a consumer.
    """

    def __init__(self) -> None:
        self._by_attributes: dict[frozenset[tuple[str, str | int]], tuple[Attributes, list[int]]]
        self._by_attributes = {}

    def tally(self, attributes: Attributes) -> list[int]:
        """The [messages, bytes] list to add to for this attribute set."""
        entry = self._by_attributes.setdefault(frozenset(attributes.items()), (attributes, [0, 0]))
        return entry[1]

    def observe(self, index: int) -> list[Observation]:
        # Called from the reader's thread: a copy of the entries, read once.
        return [Observation(t[index], a) for a, t in list(self._by_attributes.values())]


def _counter_callback(
    tallies: Tallies, index: int
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    return lambda _options: tallies.observe(index)


class Instruments:
    """One meter's instruments, shared by every client instrumented with that meter provider
    (an SDK refuses a second instrument of the same name, so they are made once)."""

    def __init__(self, meter: Meter) -> None:
        message, byte = "{message}", "By"
        self.sent, self.consumed, self.rejected = Tallies(), Tallies(), Tallies()
        for tallies, messages, nbytes, what in (
            (
                self.sent,
                n.SENT_MESSAGES,
                n.SENT_BYTES,
                "a producer tried to send (error.type on those that failed)",
            ),
            (
                self.consumed,
                n.CONSUMED_MESSAGES,
                n.CONSUMED_BYTES,
                "a consumer handed to the application",
            ),
            (
                self.rejected,
                n.REJECTED_MESSAGES,
                n.REJECTED_BYTES,
                "a consumer could not decode "
                "or validate, by dq_sdk.on_error (raise, skip, dead_letter) and error.type",
            ),
        ):
            meter.create_observable_counter(
                messages, [_counter_callback(tallies, 0)], message, f"Messages {what}."
            )
            meter.create_observable_counter(
                nbytes,
                [_counter_callback(tallies, 1)],
                byte,
                f"Value bytes of the messages {what}.",
            )
        self.duration = meter.create_histogram(
            n.OPERATION_DURATION,
            "s",
            "Duration of a send (send() or send_batch()), from the call to the broker's answer.",
            explicit_bucket_boundaries_advisory=n.DURATION_BUCKETS_S,
        )
        # Consumers whose lag is reported; a consumer leaves when it stops (or is collected).
        self.consumers: weakref.WeakSet[LagSource] = weakref.WeakSet()
        meter.create_observable_gauge(
            n.CONSUMER_LAG,
            [self._observe_lag],
            message,
            "Messages in a partition after the consumer's position (high-water mark minus the "
            "offset after the last message handed over or refused).",
        )

    def _observe_lag(self, _options: CallbackOptions) -> Iterable[Observation]:
        observations: list[Observation] = []
        for consumer in list(self.consumers):
            observations.extend(consumer.lag_observations())
        return observations


# One set of instruments per meter provider, for the provider's lifetime.
_INSTRUMENTS: weakref.WeakKeyDictionary[MeterProvider, Instruments] = weakref.WeakKeyDictionary()


def instruments_for(provider: MeterProvider) -> Instruments:
    found = _INSTRUMENTS.get(provider)
    if found is None:
        found = Instruments(provider.get_meter(SCOPE, version()))
        _INSTRUMENTS[provider] = found
    return found
