"""`careline replay`: a dataset fed through the live HTTP ingestion path at N times real speed (docs/demo.md).

Messages go out in arrival order over ``POST /api/v1/messages``, exactly as a channel connector would send
them; the pacing is a pure function of the timestamps so that it can be tested without waiting.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from careline.demo.client import ApiClient, ApiError
from careline.ingestion.importers import FORMATS, parse
from careline.ingestion.model import InboundMessage

MAX_BATCH = 500  # the API takes up to 1000 items per request
console = Console(stderr=True)


def due_offsets(created: Sequence[datetime | None], speed: float, max_gap: float | None = None) -> list[float]:
    """Seconds after the start at which each message is due.

    The gap to the latest earlier timestamp is divided by ``speed`` and then capped at ``max_gap`` (wall
    seconds), since datasets hold multi-day silences; a message stamped earlier than one before it, or
    without a timestamp, is due at once.
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    offsets: list[float] = []
    at = 0.0
    latest: datetime | None = None
    for when in created:
        if when is not None:
            if latest is not None and when > latest:
                gap = (when - latest).total_seconds() / speed
                at += gap if max_gap is None else min(gap, max_gap)
            latest = when if latest is None else max(latest, when)
        offsets.append(at)
    return offsets


def batch_end(offsets: Sequence[float], start: int, elapsed: float, limit: int = MAX_BATCH) -> int:
    """End (exclusive) of the batch from ``start``: the messages due by ``elapsed``, at least one."""
    end = start + 1
    while end < len(offsets) and end - start < limit and offsets[end] <= elapsed:
        end += 1
    return end


def thread_roots(messages: Sequence[InboundMessage]) -> list[str]:
    """Per message, the platform id of its reply chain's first message in the file (parents come first)."""
    root: dict[str, str] = {}
    out = []
    for message in messages:
        top = root.get(message.reply_to or "", message.platform_message_id)
        root[message.platform_message_id] = top
        out.append(top)
    return out


def prepare(messages: Sequence[InboundMessage], *, inbound_only: bool) -> list[InboundMessage]:
    """With ``inbound_only`` the brand's own posts are left out (the agents play the brand) and every
    customer post carries its thread's root as thread key, so that follow-ups still join their thread."""
    if not inbound_only:
        return list(messages)
    roots = thread_roots(messages)
    return [
        dataclasses.replace(m, thread_key=m.thread_key or root)
        for m, root in zip(messages, roots, strict=True)
        if m.direction == "inbound"
    ]


def to_payload(message: InboundMessage, *, retime: bool) -> dict[str, Any]:
    """The API's message body; ``retime`` leaves out created_at, so the server stamps the arrival."""
    body: dict[str, Any] = {
        "channel": message.channel,
        "account": message.account,
        "platform_message_id": message.platform_message_id,
        "author_id": message.author_id,
        "text": message.text,
        "direction": message.direction,
        "visibility": message.visibility,
    }
    optional = {
        "author_name": message.author_name,
        "reply_to": message.reply_to,
        "thread_key": message.thread_key,
        "raw": message.raw,
        "created_at": None if retime or message.created_at is None else message.created_at.isoformat(),
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


@dataclasses.dataclass
class ReplayTotals:
    sent: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[str] = dataclasses.field(default_factory=list)

    def add(self, sent: int, answer: dict[str, Any]) -> None:
        self.sent += sent
        self.created += int(answer.get("created", 0))
        self.duplicates += int(answer.get("duplicates", 0))
        self.rejected += int(answer.get("rejected", 0))
        for result in answer.get("results", []):
            if result.get("status") == "rejected" and len(self.rejections) < 20:
                self.rejections.append(str(result.get("error")))


def create_accounts(client: ApiClient, messages: Sequence[InboundMessage]) -> int:
    """Every (channel, account) of the file, since the live API refuses messages for unknown accounts."""
    created = 0
    for channel, account in sorted({(m.channel, m.account) for m in messages}):
        created += client.create_channel_account(channel, account)
    return created


def feed(
    client: ApiClient,
    messages: Sequence[InboundMessage],
    offsets: Sequence[float],
    *,
    retime: bool,
    on_batch: Callable[[ReplayTotals], None] = lambda _totals: None,
    stop: threading.Event | None = None,
    totals: ReplayTotals | None = None,
) -> ReplayTotals:
    """POST the messages in order, each batch when its first message is due; ``stop`` ends it early."""
    stop = stop or threading.Event()
    totals = totals if totals is not None else ReplayTotals()
    started = time.monotonic()
    position = 0
    while position < len(messages):
        if stop.wait(max(offsets[position] - (time.monotonic() - started), 0.0)):
            break
        end = batch_end(offsets, position, time.monotonic() - started)
        batch = [to_payload(m, retime=retime) for m in messages[position:end]]
        totals.add(len(batch), client.post_messages(batch))
        position = end
        on_batch(totals)
    return totals


def replay(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the dataset file")],
    format: Annotated[str, typer.Option("--format", help=f"one of {', '.join(FORMATS)}")] = "twcs",
    speed: Annotated[float, typer.Option(help="times real speed: 60 plays an hour in a minute")] = 60.0,
    url: Annotated[str, typer.Option(envvar="CARELINE_URL", help="the API's base URL")] = "http://127.0.0.1:8000",
    token: Annotated[str | None, typer.Option(envvar="CARELINE_TOKEN", help="an admin's API token")] = None,
    email: Annotated[str | None, typer.Option(help="log in with email and password instead of a token")] = None,
    password: Annotated[str | None, typer.Option(envvar="CARELINE_PASSWORD", help="the password for --email")] = None,
    max_gap: Annotated[float, typer.Option(help="longest wait between two messages, in seconds")] = 5.0,
    limit: Annotated[int | None, typer.Option(help="replay only the first N messages")] = None,
    retime: Annotated[bool, typer.Option("--retime", help="stamp posts on arrival, not with their own time")] = False,
    inbound_only: Annotated[bool, typer.Option("--inbound-only", help="only customers' posts: agents answer")] = False,
) -> None:
    """Feed a dataset through the live API in arrival order, at N times real speed."""
    if format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    if speed <= 0 or max_gap < 0 or (limit is not None and limit < 1):
        raise typer.BadParameter("--speed must be positive, --max-gap not negative and --limit at least 1")
    if token is None and (email is None or password is None):
        raise typer.BadParameter("give --token, or --email and --password (an admin's log-in)")
    try:
        parsed = parse(file, format)
    except (ValueError, UnicodeDecodeError) as error:
        raise typer.BadParameter(str(error)) from error
    messages = prepare(parsed.messages, inbound_only=inbound_only)[:limit]
    offsets = due_offsets([m.created_at for m in messages], speed, max_gap)
    totals = ReplayTotals()
    with ApiClient(url, token) as client:
        try:
            if token is None:
                client.login(email or "", password or "")
            _ensure_accounts(client, messages)
            _feed_with_progress(client, messages, offsets, retime, file.name, totals)
        except ApiError as error:
            console.print(f"[red]replay failed:[/] {escape(_explain(error))}")
            raise typer.Exit(1) from error
        except KeyboardInterrupt:
            print_totals(totals, len(parsed.rejected))
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
    print_totals(totals, len(parsed.rejected))


def _ensure_accounts(client: ApiClient, messages: Sequence[InboundMessage]) -> None:
    try:
        create_accounts(client, messages)
    except ApiError as error:
        if error.status != 403:
            raise
        console.print("[yellow]this log-in may not create channel accounts (an admin's may):[/] posts for "
                      "accounts that do not exist yet will be rejected")


def _feed_with_progress(
    client: ApiClient, messages: list[InboundMessage], offsets: list[float], retime: bool, name: str,
    totals: ReplayTotals,
) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"replaying {name}", total=len(messages))

        def show(totals: ReplayTotals) -> None:
            progress.update(task, completed=totals.sent, description=_describe(name, totals))

        feed(client, messages, offsets, retime=retime, on_batch=show, totals=totals)


def _describe(name: str, totals: ReplayTotals) -> str:
    return f"{name}: {totals.created} created, {totals.duplicates} duplicates, {totals.rejected} rejected"


def print_totals(totals: ReplayTotals, unparsable: int) -> None:
    for reason in totals.rejections:
        console.print(f"[yellow]rejected[/] {escape(reason)}")
    console.print(
        f"sent {totals.sent} messages: {totals.created} created, {totals.duplicates} duplicates, "
        f"{totals.rejected} rejected by the API; {unparsable} records of the file could not be parsed"
    )


def _explain(error: ApiError) -> str:
    if error.status == 0:
        return f"{error.detail} (is `careline serve` running?)"
    if error.status in (401, 403):
        return f"the log-in was refused ({error.detail})"
    return str(error)
