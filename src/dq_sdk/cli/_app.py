"""The root ``dq-sdk`` typer app (minimal: the ``view`` command; other groups register here)."""

from __future__ import annotations

import typer

from .view import view

__all__ = ["app", "main"]

app = typer.Typer(name="dq-sdk", no_args_is_help=True, add_completion=False)
app.command("view")(view)


@app.callback()
def _root() -> None:
    """dq-sdk: typed Kafka data queues for SKA SDP."""


def main() -> None:
    app()
