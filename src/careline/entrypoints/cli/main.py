"""The `careline` command (docs/ARCHITECTURE.md#entry-points)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from careline.entrypoints.cli import classify, demo, poll, replay, router, secrets, simulate
from careline.entrypoints.cli.context import DEFAULT_TRAINING_DATA, CliState
from careline.entrypoints.cli.setup import ensure_admin, ensure_defaults
from careline.ingestion.commands import IngestMessages
from careline.ingestion.importers import FORMATS, Rejection, parse
from careline.kernel.errors import CarelineError

app = typer.Typer(
    help="Careline: social customer care as just another contact-center channel.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
IMPORT_BATCH = 1000


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option("--database-url", envvar="CARELINE_DATABASE_URL", help="SQLAlchemy database URL")
    ] = None,
    home: Annotated[
        Path | None, typer.Option("--home", envvar="CARELINE_HOME", help="data directory (default ./.careline)")
    ] = None,
) -> None:
    ctx.obj = CliState(home=home, database_url=database_url)


@app.command()
def init(
    ctx: typer.Context,
    admin_email: Annotated[str, typer.Option(help="the admin's log-in")] = "admin@careline.local",
    admin_password: Annotated[
        str | None, typer.Option(envvar="CARELINE_ADMIN_PASSWORD", help="generated when not given")
    ] = None,
) -> None:
    """Create or migrate the database, the default queue and API account, and an admin user."""
    careline = ctx.obj.app()
    try:
        ensure_defaults(careline)
        admin, created, generated = ensure_admin(careline, admin_email, admin_password)
    except CarelineError as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        careline.close()
    console.print(f"database ready: {careline.settings.effective_database_url}")
    if generated:
        console.print(f"admin [bold]{escape(admin.email)}[/] created with password [bold]{generated}[/] (shown once)")
    elif created:
        console.print(f"admin {escape(admin.email)} created")
    else:
        console.print(f"admin {escape(admin.email)} exists already")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    format: Annotated[str, typer.Option("--format", help=f"one of {', '.join(FORMATS)}")] = "twcs",
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON summary as the last line")] = False,
) -> None:
    """Load a dataset through the ingestion path: threads, customers, brands, triage."""
    if format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    try:
        parsed = parse(file, format)
    except (ValueError, UnicodeDecodeError) as error:
        raise typer.BadParameter(str(error)) from error
    records = len(parsed.messages) + len(parsed.rejected)
    careline = ctx.obj.app()
    totals = {"messages": 0, "inbound": 0, "outbound": 0, "conversations": 0, "customers": 0, "duplicates_skipped": 0}
    try:
        ensure_defaults(careline)
        with _progress() as progress:
            task = progress.add_task(f"importing {file.name}", total=len(parsed.messages))
            for start in range(0, len(parsed.messages), IMPORT_BATCH):
                chunk = tuple(parsed.messages[start : start + IMPORT_BATCH])
                result = careline.handle(IngestMessages(items=chunk, create_accounts=True))
                totals["messages"] += result.count("created")
                totals["duplicates_skipped"] += result.count("duplicate")
                totals["conversations"] += result.conversations_created
                totals["customers"] += result.customers_created
                for item in result.items:
                    if item.status == "created":
                        totals[chunk[item.index].direction] += 1
                    if item.status == "rejected":
                        message_id = chunk[item.index].platform_message_id
                        parsed.rejected.append(Rejection(None, f"message {message_id}: {item.error}"))
                progress.advance(task, len(chunk))
    finally:
        careline.close()
    summary = {
        "records": records,
        **totals,
        "rejected": len(parsed.rejected),
        "rejects": [{"line": r.line, "reason": r.reason} for r in parsed.rejected],
    }
    for reject in parsed.rejected:
        where = f"line {reject.line}" if reject.line is not None else "record"
        console.print(f"[yellow]rejected[/] {where}: {escape(reject.reason)}")
    console.print(
        f"added {totals['messages']} messages ({totals['inbound']} inbound, {totals['outbound']} outbound), "
        f"{totals['conversations']} conversations, "
        f"{totals['customers']} customers; {totals['duplicates_skipped']} duplicates skipped, "
        f"{len(parsed.rejected)} rejected"
    )
    if as_json:
        print(json.dumps(summary))


@app.command()
def report(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    since: Annotated[
        str | None, typer.Option(help="only conversations created at or after this time (ISO 8601, UTC if no zone)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="only conversations created before this time")] = None,
) -> None:
    """Volumes, first response time, service level, resolution and backlog, from the event log."""
    window = (_moment(since, "--since"), _moment(until, "--until"))
    if window[0] is not None and window[1] is not None and window[0] >= window[1]:
        raise typer.BadParameter("--since must be before --until")
    careline = ctx.obj.app()
    try:
        summary = careline.reports.summary(since=window[0], until=window[1])
    finally:
        careline.close()
    if as_json:
        print(json.dumps(summary))
        return
    _print_report(summary)


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"{option} {value!r} is not an ISO 8601 date or time") from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _print_report(summary: dict) -> None:
    from rich.table import Table

    conversations, messages, frt, sl = (
        summary["conversations"],
        summary["messages"],
        summary["first_response_minutes"],
        summary["service_level"],
    )
    table = Table(title="Careline summary", show_header=False)
    table.add_row("conversations", str(conversations["total"]))
    table.add_row("resolved", f"{conversations['resolved']} (rate {conversations['resolution_rate']})")
    table.add_row("open backlog", str(conversations["open_backlog"]))
    table.add_row("messages in / out", f"{messages['inbound']} / {messages['outbound']}")
    table.add_row("first response p50 / p90 (min)", f"{frt['p50']} / {frt['p90']}")
    table.add_row("service level", f"{sl['within_target']} of {sl['answered']} (rate {sl['rate']})")
    for channel, counts in messages["by_channel"].items():
        table.add_row(f"  channel {channel}", f"{counts['inbound']} in / {counts['outbound']} out")
    for queue, count in conversations["by_queue"].items():
        table.add_row(f"  queue {queue}", f"{count} conversations")
    Console().print(table)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="address to listen on (default CARELINE_HOST or 127.0.0.1)")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="port to listen on (default CARELINE_PORT or 8000)")
    ] = None,
) -> None:
    """Serve the HTTP API (docs/api.md) and deliver replies until interrupted."""
    from careline.entrypoints.api.server import serve as serve_api

    careline = ctx.obj.app()
    try:
        ensure_defaults(careline)
        with careline.uow(read_only=True) as uow:
            nobody_can_log_in = not any(a.password_hash for a in uow.agents.all())
        if nobody_can_log_in:
            console.print("[yellow]no account can log in yet:[/] run `careline init` to create the admin")
        careline.warm_up()
        serve_api(careline, host or careline.settings.host, port or careline.settings.port)
    finally:
        careline.close()


@app.command()
def train(
    ctx: typer.Context,
    source: Annotated[
        Path, typer.Option("--from", help="labelled tweets (airline columns airline_sentiment, negativereason)")
    ] = DEFAULT_TRAINING_DATA,
    format: Annotated[str, typer.Option("--format", help="the labelled file's format")] = "airline",
    seed: Annotated[int, typer.Option(help="seed of the fixed train/test split")] = 0,
) -> None:
    """Train triage's sentiment and complaint-reason models into the data directory (deterministic)."""
    if format != "airline":
        raise typer.BadParameter("--format must be airline (the only labelled format so far)")
    if not source.is_file():
        raise typer.BadParameter(f"{source} does not exist; pass the labelled file with --from")
    from careline.triage import training  # scikit-learn loads only for this command

    settings = ctx.obj.settings()
    settings.ensure_home()
    target = settings.home / "models" / "triage"
    try:
        with console.status(f"training on {source.name} (seed {seed})"):
            models = training.train(source, seed=seed)
    except training.TrainingDataError as error:
        raise typer.BadParameter(str(error)) from error
    training.save(models, target)
    metrics = models.manifest["metrics"]
    console.print(
        f"models written to {target} in {models.manifest['training_seconds']} s; held-out "
        f"{models.manifest['split']['test']} tweets: sentiment accuracy {metrics['sentiment_accuracy']}, "
        f"negative recall {metrics['negative_recall']}, reason macro-F1 {metrics['reason_macro_f1']}"
        + ("" if models.category is not None else " (no reason model: the file names fewer than two reasons)")
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )


app.command("classify")(classify.classify)
app.command("replay")(replay.replay)
app.command("demo")(demo.demo)
app.command("simulate")(simulate.simulate)
app.command("router")(router.router)
app.command("poll")(poll.poll)
app.add_typer(secrets.app, name="secrets")


def run() -> None:
    app()
