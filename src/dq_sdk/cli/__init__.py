"""The ``dq-sdk`` command line (typer): one module per command group, registered in ``_app``."""

from ._app import app, main

__all__ = ["app", "main"]
