"""``python -m dq_sdk.cli``."""

import sys

from ._app import main

sys.exit(main())
