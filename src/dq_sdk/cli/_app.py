"""The root ``dq-sdk`` command: registers every command module and turns failures into exit codes.

Exit codes: 0 success, 1 a dq-sdk or Kafka error (one line on stderr), 2 a usage error (bad
argument or option), 130 Ctrl-C, 141 the reader of our output went away (``| head``).
``--debug`` (anywhere on the command line) shows the traceback as well.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence

import typer

from .._exceptions import DQError
from . import asyncapi, broker, consume, demo, lag, produce, schemas, stats, topics
from ._common import CliError, DebugOption, state
from .view import view

__all__ = ["app", "main"]

app = typer.Typer(
    name="dq-sdk",
    help="Inspect, move and watch SKA data-queue messages on Kafka.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"dq-sdk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
    debug: DebugOption = False,
) -> None:
    """dq-sdk: typed Kafka data queues for the SKA Science Data Processor."""


app.add_typer(topics.app, name="topics")
app.command("produce")(produce.produce)
app.command("consume")(consume.consume)
app.command("lag")(lag.lag)
app.command("stats")(stats.stats)
app.command("broker")(broker.broker)
app.command("demo")(demo.demo)

app.add_typer(schemas.app, name="schemas")
app.command("asyncapi")(asyncapi.command)
app.command("view")(view)


def _fail(message: str, code: int, error: BaseException | None = None) -> int:
    if state.debug and error is not None:
        traceback.print_exception(error, file=sys.stderr)
    print(f"dq-sdk: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dq-sdk`` with ``argv`` (default: the process arguments); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    state.debug = "--debug" in args
    # aiokafka logs (with tracebacks) what dq-sdk then reports as one error line.
    # aiokafka and librdkafka log (aiokafka with tracebacks) what dq-sdk then reports as one
    # error line; --debug shows them.
    for noisy in ("aiokafka", "dq_sdk.librdkafka"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if state.debug else logging.CRITICAL)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="dq-sdk", standalone_mode=False)
        sys.stdout.flush()
        return result if isinstance(result, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt) as exc:
        return _fail("interrupted", 130, exc)
    except typer.TyperException as exc:  # click's errors, as typer vendors it
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())  # `dq-sdk topics` alone: the group's help
            return 0
        code = int(getattr(exc, "exit_code", 1))
        message = exc.format_message()
        if code == 2:
            message += f" (see {ctx.command_path if ctx is not None else 'dq-sdk'} --help)"
        return _fail(message, code, exc)
    except CliError as exc:
        return _fail(str(exc), exc.exit_code, exc)
    except DQError as exc:
        return _fail(str(exc), 1, exc)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        # A bug of ours: still one line, with the way to see more.
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)", 1, exc
        )


if __name__ == "__main__":
    sys.exit(main())
