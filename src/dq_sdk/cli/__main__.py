"""``python -m dq_sdk.cli``: the same as the ``dq-sdk`` command."""

import sys

from ._app import main

__all__: list[str] = []

sys.exit(main())
