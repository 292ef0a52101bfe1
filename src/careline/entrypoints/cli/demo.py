"""`careline demo`: a fresh database, the API, real traffic and simulated agents, in one command (docs/demo.md)."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from careline.bootstrap import bootstrap
from careline.config import Settings
from careline.demo.bots import SimulatedAgent, start_agents
from careline.demo.client import ApiClient, ApiError
from careline.demo.scenario import SAMPLE_FORMAT, DemoWorld, NotADemoHome, build_world, sample_path, wipe_database
from careline.entrypoints.cli.replay import ReplayTotals, create_accounts, due_offsets, feed, prepare
from careline.ingestion.importers import parse

if TYPE_CHECKING:
    from careline.entrypoints.api.server import ServerHandle

console = Console(stderr=True)
REFRESH_SECONDS = 1.0


@dataclasses.dataclass
class _Traffic:
    """What the replay thread and the report watcher share with the display."""

    total: int
    totals: ReplayTotals = dataclasses.field(default_factory=ReplayTotals)
    done: bool = False
    error: str | None = None
    first_resolved: float | None = None  # seconds from the first post to the first resolved conversation


def demo(
    home: Annotated[Path, typer.Option(help="the demo's data directory; its database is wiped")] = Path(
        ".careline-demo"
    ),
    agents: Annotated[int, typer.Option(help="how many simulated agents work beside you")] = 3,
    speed: Annotated[float, typer.Option(help="times real speed of the sample's traffic")] = 300.0,
    max_gap: Annotated[float, typer.Option(help="longest wait between two posts, in seconds")] = 1.0,
    duration: Annotated[float, typer.Option(help="seconds to run; 0 runs until Ctrl-C")] = 0.0,
    until_resolved: Annotated[int, typer.Option(help="stop once this many are resolved (0: never)")] = 0,
    host: Annotated[str, typer.Option(help="address the API listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port the API listens on")] = 8000,
    seed: Annotated[int, typer.Option(help="seed of the simulated agents' choices and pauses")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the final report as JSON, last line")] = False,
) -> None:
    """Serve a fresh demo: real posts arrive, simulated agents answer and resolve them, you can join in."""
    if agents < 0 or speed <= 0 or max_gap < 0 or duration < 0 or until_resolved < 0:
        raise typer.BadParameter("--agents, --max-gap, --duration and --until-resolved cannot be negative; "
                                 "--speed must be positive")
    if not 0 < port < 65536:
        raise typer.BadParameter("--port must be between 1 and 65535")
    try:
        wipe_database(home)
    except NotADemoHome as error:
        raise typer.BadParameter(str(error)) from error
    settings = Settings(home=home, database_url=f"sqlite:///{(home / 'careline.db').resolve()}")
    # Replies to the sample's X accounts are recorded, never sent: the demo has no X connector (docs/demo.md).
    logging.getLogger("careline.adapters.delivery").setLevel(logging.ERROR)
    from careline.entrypoints.api.server import run_server_in_thread  # the web stack only when serving

    careline = bootstrap(settings)
    try:
        world = build_world(careline, agents)
        try:
            server = run_server_in_thread(careline, host, port)
        except RuntimeError as error:
            raise typer.BadParameter(f"{error}; is port {port} in use? Try --port") from error
        try:
            _announce(server.url, world, settings)
            outcome = _run(server, world, speed, max_gap, duration, until_resolved, seed)
        finally:
            server.stop()
        report = careline.reports.summary()
    finally:
        careline.close()
    _print_final(report, outcome)
    if as_json:
        print(json.dumps({**report, "demo": outcome}))


def _announce(url: str, world: DemoWorld, settings: Settings) -> None:
    human = world.human
    console.print(f"[bold]Careline demo[/] serving {url}  (interactive API docs: {url}/docs)")
    console.print(f"database: {settings.effective_database_url}")
    console.print(f"agent desktop: open [bold]{url}/[/] in a browser and sign in beside the simulated agents as "
                  f"[bold]{human.email}[/] / [bold]{human.password}[/]; or through the API:")
    console.print(
        f"  curl -s {url}/api/v1/auth/token -H 'content-type: application/json' "
        f"-d '{{\"email\": \"{human.email}\", \"password\": \"{human.password}\"}}'",
        soft_wrap=True,
    )
    console.print(f"admin: {world.admin.email} / {world.admin.password}   stop with Ctrl-C")


def _run(
    server: ServerHandle, world: DemoWorld, speed: float, max_gap: float, duration: float, until_resolved: int,
    seed: int,
) -> dict[str, Any]:
    """Traffic and agents until the duration, the resolved count or Ctrl-C; returns what the demo saw."""
    stop = threading.Event()
    messages = prepare(parse(sample_path(), SAMPLE_FORMAT).messages, inbound_only=True)
    traffic = _Traffic(total=len(messages))
    bots = [SimulatedAgent(server.url, b.email, b.password, seed + i, stop) for i, b in enumerate(world.bots)]
    threads = start_agents(bots)
    replay = threading.Thread(
        target=_replay, args=(server.url, world, messages, speed, max_gap, traffic, stop), name="demo-replay",
        daemon=True,
    )
    started = time.monotonic()
    replay.start()
    threads.append(replay)
    # `kill` or a service manager's SIGTERM ends the demo like Ctrl-C: agents go offline, the report prints.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        _watch(server.url, world, traffic, started, duration, until_resolved)
    except KeyboardInterrupt:
        console.print(("" if console.is_terminal else "\n") + "[yellow]stopping[/]")
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop.set()
        for thread in threads:
            thread.join(10)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "first_resolved_after_seconds": traffic.first_resolved,
        "replayed": dataclasses.asdict(traffic.totals) | {"total": traffic.total, "error": traffic.error},
        "simulated_agents": [{"email": b.email, "answered": b.answered, "resolved": b.resolved} for b in bots],
    }


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _watch(url: str, world: DemoWorld, traffic: _Traffic, started: float, duration: float, until: int) -> None:
    """Redraw the live report every second until the duration or the resolved count is reached."""
    with ApiClient(url) as watcher, Live(console=console, auto_refresh=False) as live:
        watcher.login(world.admin.email, world.admin.password)
        while True:
            try:
                summary = watcher.summary()
            except ApiError as error:
                console.print(f"[red]the report could not be read:[/] {escape(str(error))}")
                break
            elapsed = time.monotonic() - started
            resolved = summary["conversations"]["resolved"]
            if resolved and traffic.first_resolved is None:
                traffic.first_resolved = round(elapsed, 1)
            live.update(_progress_table(summary, traffic, elapsed), refresh=True)
            if (duration and elapsed >= duration) or (until and resolved >= until):
                break
            time.sleep(REFRESH_SECONDS)
    if not console.is_terminal:
        console.line()  # a non-interactive Live leaves its last frame without a line end


def _replay(
    url: str, world: DemoWorld, messages: list[Any], speed: float, max_gap: float, traffic: _Traffic,
    stop: threading.Event,
) -> None:
    """The traffic source: the sample's customer posts, retimed to now, over the live API."""
    try:
        with ApiClient(url) as client:
            client.login(world.admin.email, world.admin.password)
            create_accounts(client, messages)
            offsets = due_offsets([m.created_at for m in messages], speed, max_gap)
            feed(client, messages, offsets, retime=True, stop=stop, totals=traffic.totals)
    except ApiError as error:
        if not stop.is_set():
            traffic.error = str(error)
    traffic.done = True


def _progress_table(summary: dict[str, Any], traffic: _Traffic, elapsed: float) -> Table:
    conversations, messages, frt = summary["conversations"], summary["messages"], summary["first_response_minutes"]
    state = "done" if traffic.done else "replaying"
    if traffic.error:
        state = f"[red]failed: {traffic.error}[/]"
    table = Table(title=f"Careline demo — {elapsed:.0f} s", show_header=False, min_width=60)
    table.add_row("sample posts sent", f"{traffic.totals.sent} of {traffic.total} ({state})")
    table.add_row("messages received", str(messages["inbound"]))
    table.add_row("conversations", str(conversations["total"]))
    table.add_row("answered (first responses)", str(frt["count"]))
    table.add_row("replies sent", str(messages["outbound"]))
    table.add_row("resolved", str(conversations["resolved"]))
    table.add_row("open backlog", str(conversations["open_backlog"]))
    p50 = frt["p50"]
    table.add_row("first response p50", "—" if p50 is None else f"{p50 * 60:.1f} s")
    return table


def _print_final(report: dict[str, Any], outcome: dict[str, Any]) -> None:
    conversations = report["conversations"]
    console.print(
        f"demo ran {outcome['seconds']} s: {conversations['total']} conversations, "
        f"{report['first_response_minutes']['count']} answered, {conversations['resolved']} resolved "
        f"(first resolved after {outcome['first_resolved_after_seconds']} s)"
    )
    for bot in outcome["simulated_agents"]:
        console.print(f"  {bot['email']}: answered {bot['answered']}, resolved {bot['resolved']}")
