"""dq-sdk benchmarks: ``python -m benchmarks`` (or ``nox -s bench``).

Every comparison is a ratio of two figures measured in the same run, each the best of several
repeats, with the cases of one comparison interleaved repeat by repeat: on a noisy machine the
absolute numbers move, the ratios much less.

Areas, one module each:

- :mod:`benchmarks.producers` typed ``Producer[M].send`` / ``send_batch``, the seed's
  ``DataQueueProducer``, and a raw aiokafka twin sending the same bytes and headers with the
  same settings; the confluent transport against the aiokafka one;
- :mod:`benchmarks.consumers` typed ``Consumer[M]``, ``DataQueueConsumer`` and raw clients;
- :mod:`benchmarks.codecs` encoding/decoding large arrays against one ``ndarray.copy()``;
- :mod:`benchmarks.validation` validation and the per-message typed-layer work;
- :mod:`benchmarks.settings` what linger, batch size and compression do to these payloads;
- :mod:`benchmarks.telemetry` what ``dq_sdk.telemetry`` costs, absent and on.

Results go to ``benchmarks/results/`` as ``latest.json`` and ``latest.md``.
"""

from ._core import Row, Settings

__all__ = ["Row", "Settings"]
