"""Running a consumer service so that SIGTERM stops it as Ctrl-C does.

Kubernetes, systemd and ``docker stop`` end a process with SIGTERM, and by default Python
dies of it at once: no ``finally``, no ``async with`` exit, so a consumer commits nothing and
a producer drops what it had queued. :func:`run` turns SIGTERM (and SIGINT) into a
cancellation of the main coroutine, exactly what ``asyncio.run`` does for Ctrl-C, so every
``async with`` block is left as after an exception: consumers commit what was processed (not
the message in hand), producers deliver what was queued, and the process exits.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stopped(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run(
    main: Coroutine[Any, Any, T],
    *,
    signals: Iterable[signal.Signals] = _STOP_SIGNALS,
    debug: bool | None = None,
) -> T:
    """Run ``main`` as ``asyncio.run`` does, and stop it cleanly on SIGTERM or SIGINT.

    The first signal cancels ``main``; its ``async with`` consumers and producers close as
    after any exception. Then, if the cancellation ended ``main``, the process exits with
    status 128 + the signal's number (143 for SIGTERM, 130 for SIGINT, what a shell reports
    for a process ended by that signal), without a traceback: ``SystemExit`` is raised. If
    ``main`` catches the cancellation and returns, its result is returned. A second signal
    cancels again (for a clean-up that hangs).

    A signal this process ignores (a shell starts background jobs with SIGINT ignored) stays
    ignored. Unix only, as ``loop.add_signal_handler``.
    """
    try:
        return asyncio.run(_cancelled_on(main, tuple(signals)), debug=debug)
    except _Stopped as stopped:
        raise SystemExit(128 + stopped.signum) from None


async def _cancelled_on(main: Coroutine[Any, Any, T], signals: tuple[signal.Signals, ...]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        task.cancel()

    installed = []
    for signum in signals:
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        loop.add_signal_handler(signum, stop, int(signum))
        installed.append(signum)
    try:
        return await main
    except asyncio.CancelledError:
        if not received:
            raise
        raise _Stopped(received[0]) from None
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
