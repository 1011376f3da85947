"""``python -m dq_sdk.cli``: the ``dq-sdk`` command."""

from ._app import main

main()
