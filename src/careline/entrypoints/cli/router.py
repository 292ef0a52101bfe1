"""`careline router`: one routing process of the scale-out deployment (docs/routing.md#several-routers).

It takes routing jobs from the Redis stream the API and worker processes publish to (a consumer group: each job
goes to one router at a time, and a dead router's jobs are reclaimed by the others), runs each in its own
database transaction, and sweeps the timers every few seconds. Start as many as the load needs.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Annotated, Any

import typer
from rich.console import Console

from careline.adapters.jobs import JobsUnavailable

console = Console(stderr=True)


def router(
    ctx: typer.Context,
    idle_exit: Annotated[
        float | None,
        typer.Option(help="stop after this many seconds with no job to run (benchmarks and tests)", min=0.1),
    ] = None,
    batch: Annotated[int, typer.Option(help="jobs read from the stream at a time", min=1, max=1000)] = 50,
) -> None:
    """Run routing jobs from the Redis stream until interrupted (needs CARELINE_REDIS_URL)."""
    careline = ctx.obj.app()
    try:
        jobs = careline.jobs
        if jobs is None:
            raise typer.BadParameter(
                "a router process needs CARELINE_REDIS_URL: without Redis every process routes in-process"
            )
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        last_work = [time.monotonic()]
        handled = [0]
        took: list[float] = []  # milliseconds per job (a fill: all the offers its agent has room for)

        def handle(job: Any) -> None:
            started = time.perf_counter()
            careline.bus.publish(careline.router.run(job))
            took.append(1000 * (time.perf_counter() - started))
            handled[0] += 1
            last_work[0] = time.monotonic()

        def sweep() -> None:
            while not stop.wait(careline.settings.routing_sweep_seconds):
                if idle_exit is not None and time.monotonic() - last_work[0] > idle_exit:
                    stop.set()  # the consumer finishes its batch in hand and returns
                    return
                try:
                    careline.bus.publish(careline.router.sweep())
                except Exception as error:  # noqa: BLE001 - a database hiccup must not end the sweeps
                    console.print(f"[yellow]sweep failed, trying again:[/] {error}")

        sweeper = threading.Thread(target=sweep, name="careline-routing-sweep", daemon=True)
        sweeper.start()
        console.print(f"router {jobs.consumer} taking jobs from {jobs.stream}")
        while not stop.is_set():
            try:
                jobs.consume(handle, count=batch, block_ms=1000, stop=stop)
            except JobsUnavailable as error:
                console.print(f"[yellow]{error}; trying again[/]")
                stop.wait(2)
        sweeper.join(timeout=30)
        console.print(f"router {jobs.consumer} stopped after {handled[0]} jobs{_timing(took)}")
    finally:
        careline.close()


def _timing(took: list[float]) -> str:
    if not took:
        return ""
    ordered = sorted(took)

    def at(share: float) -> float:
        return ordered[int(share * (len(ordered) - 1))]

    return f" (job time p50 {at(0.5):.1f} ms, p99 {at(0.99):.1f} ms)"
