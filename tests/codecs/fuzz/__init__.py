"""A deterministic fuzzer for dq-sdk's decoders: only dq-sdk errors may come out of them.

``python -m tests.codecs.fuzz --iterations 100000`` is the full run (also ``nox -s fuzz``); the
test suite runs a short one (``tests/codecs/fuzz/test_fuzz.py``). See ``_engine.py`` for what is
generated and ``docs/reliability.md`` for the figures of the last full run.
"""
