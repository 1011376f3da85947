"""``python -m dq_sdk.cli``: the ``dq-sdk`` command."""

from ._app import main

__all__: list[str] = []

main()
