"""`careline poll`: the X poller as its own process (docs/channels.md#x-twitter). It takes the same lease as the
API processes' poller loops, so whichever runs, one process polls at a time and one budget is spent."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from careline.channels.adapters import x_poller
from careline.entrypoints.api.worker import Leased

console = Console(stderr=True)


def poll(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="one pass over every due stream, then exit")] = False,
    interval: Annotated[
        float | None, typer.Option(help="seconds between passes (default CARELINE_X_POLL_SECONDS or 5)", min=0.1)
    ] = None,
) -> None:
    """Poll the mentions and searches of X accounts in poll mode until interrupted."""
    careline = ctx.obj.app()
    poller = Leased(careline, x_poller.LEASE_NAME, x_poller.from_careline(careline), x_poller.LEASE_SECONDS)
    try:
        every = interval or careline.settings.x_poll_seconds or 5.0
        stop = threading.Event()
        if not once:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            console.print(f"polling X accounts in poll mode every {every:g} s (Ctrl-C stops)")
        passes = 0
        waiting = False
        while not stop.is_set():
            poller.run_once()  # a failing account is logged and retried next pass; others go on
            if poller.holding:
                passes += 1
            elif not waiting:
                console.print("another process is polling X (it holds the lease): not polling while it does")
            waiting = not poller.holding
            if once:
                break
            stop.wait(every)
        console.print(f"X poller stopped after {passes} pass{'es' if passes != 1 else ''}")
    finally:
        poller.release()
        careline.close()
