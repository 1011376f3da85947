"""The root ``dq-sdk`` command (minimal: the ``cli`` branch brings the full one).

``schemas`` and ``asyncapi`` are typer commands; ``broker`` and ``demo`` still run through the
argparse entry point in ``dq_sdk._cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

try:  # typer >= 0.22 carries its own copy of click; its exceptions are not click's
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer on the real click
    from click import exceptions as click_errors  # type: ignore[no-redef]

from .._exceptions import DQError
from . import asyncapi, schemas
from .view import view

__all__ = ["app", "main"]

app = typer.Typer(
    name="dq-sdk",
    help="Typed Kafka data queues for the SKA Science Data Processor.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(schemas.app, name="schemas")
app.command("asyncapi")(asyncapi.command)
app.command("view")(view)

_LEGACY = frozenset({"broker", "demo"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dq-sdk`` with ``argv`` (default: the process arguments); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in _LEGACY:
        from .._cli import main as legacy_main

        return legacy_main(args)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="dq-sdk", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click_errors.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help())
        return 0
    except click_errors.UsageError as exc:
        print(f"dq-sdk: {exc.format_message()}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except click_errors.ClickException as exc:
        print(f"dq-sdk: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except DQError as exc:
        print(f"dq-sdk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
