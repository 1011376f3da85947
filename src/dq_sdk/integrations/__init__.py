"""Adapters that let other stream-processing engines read and write dq-sdk messages.

Each lives in its own module and needs its own extra, loaded only when imported:
:mod:`dq_sdk.integrations.quixstreams` (``pip install 'dq-sdk[quix]'``).
"""

__all__: list[str] = []
