"""The ``dq-sdk`` command (typer + rich): one module per command group, registered in
:mod:`dq_sdk.cli._app`. ``main()`` is the console-script entry point."""

from ._app import app, main

__all__ = ["app", "main"]
