"""Dataset importers: turn the files described in shared/data/README.md into normalized messages.

Importers only parse and order; storing goes through the same Ingestor as the live API, so an import
is exactly a replay without the waiting (docs/ingestion.md#importers).
"""

from __future__ import annotations

import csv
import dataclasses
import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from careline.ingestion.model import InboundMessage

FORMATS = ("twcs", "airline")
MENTION = re.compile(r"@(\w{1,50})")


@dataclasses.dataclass(frozen=True)
class Rejection:
    line: int | None  # None: refused by the ingestor after parsing
    reason: str


@dataclasses.dataclass
class ParsedFile:
    messages: list[InboundMessage]  # in arrival order, parents before their replies
    rejected: list[Rejection]


def parse(path: Path, fmt: str) -> ParsedFile:
    if fmt == "twcs":
        return parse_twcs(path)
    if fmt == "airline":
        return parse_airline(path)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _records(path: Path, expected: list[str]) -> Iterator[tuple[int, dict[str, str] | None, str | None]]:
    """(line, record, problem) per CSV record; blank lines are skipped, short records are reported."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != expected:
            raise ValueError(f"{path}: header must be {','.join(expected)}; got {','.join(header or [])}")
        for fields in reader:
            if not fields:
                continue
            line = reader.line_num
            required = len(expected) if expected[-1] != "in_response_to_tweet_id" else 6
            if len(fields) < required or len(fields) > len(expected):
                yield line, None, (
                    f"{len(fields)} fields where {len(expected)} are expected "
                    "(a line break inside an unquoted text splits a record)"
                )
                continue
            padded = fields + [""] * (len(expected) - len(fields))
            yield line, dict(zip(expected, padded, strict=True)), None


TWCS_COLUMNS = [
    "", "tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id", "in_response_to_tweet_id",
]


def _tweet_id(value: str) -> str | None:
    """Ids are digits; reply ids are written as floats (``3.0``)."""
    value = value.strip()
    if value.endswith(".0"):
        value = value[:-2]
    return value if value.isdigit() else None


def parse_twcs(path: Path) -> ParsedFile:
    """Customer Support on Twitter: threads from reply chains, brand tweets as outbound replies."""
    rows: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    for line, record, problem in _records(path, TWCS_COLUMNS):
        if record is None:
            rejected.append(Rejection(line, problem or "malformed"))
            continue
        parsed, problem = _twcs_row(record)
        if parsed is None:
            rejected.append(Rejection(line, problem or "malformed"))
        else:
            rows.append(parsed)
    by_id = {r["tweet_id"]: r for r in rows}
    brands = {r["author_id"] for r in rows if not r["inbound"]}
    root = _thread_roots(rows, by_id)
    brand_of_thread = _thread_brands(rows, root, brands)
    messages = [
        InboundMessage(
            channel="x",
            account=brand_of_thread[root[r["tweet_id"]]],
            platform_message_id=r["tweet_id"],
            author_id=r["author_id"],
            text=html.unescape(r["text"]),  # X sends &amp; &lt; &gt; escaped
            created_at=r["created_at"],
            direction="inbound" if r["inbound"] else "outbound",
            visibility="public",
            reply_to=r["reply_to"],
            raw=r["raw"],
        )
        for r in _arrival_order(rows, by_id)
    ]
    return ParsedFile(messages, rejected)


def _twcs_row(record: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    tweet_id = _tweet_id(record["tweet_id"])
    if tweet_id is None:
        return None, f"tweet_id {record['tweet_id']!r} is not a number"
    if record["inbound"] not in ("True", "False"):
        return None, f"inbound must be True or False, not {record['inbound']!r}"
    author = record["author_id"].strip()
    if not author:
        return None, "author_id is empty"
    try:
        created = datetime.strptime(record["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        return None, f"created_at {record['created_at']!r} is not like 'Tue Oct 31 22:10:47 +0000 2017'"
    if not record["text"].strip():
        return None, "text is empty"
    reply_to = None
    if record["in_response_to_tweet_id"].strip():
        reply_to = _tweet_id(record["in_response_to_tweet_id"])
        if reply_to is None:
            return None, f"in_response_to_tweet_id {record['in_response_to_tweet_id']!r} is not a number"
    raw = {k: v for k, v in record.items() if k}
    return {
        "tweet_id": tweet_id,
        "author_id": author,
        "inbound": record["inbound"] == "True",
        "created_at": created,
        "text": record["text"],
        "reply_to": reply_to,
        "raw": raw,
    }, None


def _thread_roots(rows: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> dict[str, str]:
    """tweet id -> id of the earliest ancestor present in the file (the reply chain's root)."""
    roots: dict[str, str] = {}
    for row in rows:
        chain = []
        current = row["tweet_id"]
        while current not in roots:
            chain.append(current)
            parent = by_id[current]["reply_to"]
            if parent is None or parent not in by_id or parent in chain:
                roots[current] = current
                break
            current = parent
        top = roots[current]
        for tweet in chain:
            roots[tweet] = top
    return roots


def _thread_brands(rows: list[dict[str, Any]], root: dict[str, str], brands: set[str]) -> dict[str, str]:
    """The brand account of each thread: the first brand that answers, else the brand first mentioned."""
    answered: dict[str, tuple[datetime, str]] = {}
    mentioned: dict[str, tuple[datetime, str]] = {}
    for row in rows:
        thread = root[row["tweet_id"]]
        at = row["created_at"]
        if not row["inbound"]:
            if thread not in answered or at < answered[thread][0]:
                answered[thread] = (at, row["author_id"])
        else:
            names = MENTION.findall(row["text"])
            known = [n for n in names if n in brands] or [n for n in names if not n.isdigit()]
            if known and (thread not in mentioned or at < mentioned[thread][0]):
                mentioned[thread] = (at, known[0])
    threads = set(root.values())
    return {
        t: (answered.get(t) or mentioned.get(t) or (None, "unknown-brand"))[1] for t in threads
    }


def _arrival_order(rows: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """By creation time; a reply stamped before its parent still comes after it."""
    ordered = sorted(rows, key=lambda r: (r["created_at"], int(r["tweet_id"])))
    placed: set[str] = set()
    out: list[dict[str, Any]] = []

    def place(row: dict[str, Any]) -> None:
        pending = []
        current: dict[str, Any] | None = row
        while current is not None and current["tweet_id"] not in placed:
            pending.append(current)
            placed.add(current["tweet_id"])
            parent = current["reply_to"]
            current = by_id.get(parent) if parent else None
        out.extend(reversed(pending))

    for row in ordered:
        place(row)
    return out


AIRLINE_COLUMNS = ["tweet_id", "airline_sentiment", "negativereason", "airline", "text", "tweet_created"]


def parse_airline(path: Path) -> ParsedFile:
    """Twitter US Airline Sentiment: one public post per row, addressed to the airline's account.

    The file names no author, so each post gets an anonymous author of its own rather than merging
    strangers into one customer. ``tweet_created`` has minute resolution and no zone: taken as UTC.
    """
    messages: list[InboundMessage] = []
    rejected: list[Rejection] = []
    for line, record, problem in _records(path, AIRLINE_COLUMNS):
        if record is None:
            rejected.append(Rejection(line, problem or "malformed"))
            continue
        tweet_id = _tweet_id(record["tweet_id"])
        if tweet_id is None:
            rejected.append(Rejection(line, f"tweet_id {record['tweet_id']!r} is not a number"))
            continue
        if not record["airline"].strip() or not record["text"].strip():
            rejected.append(Rejection(line, "airline and text must not be empty"))
            continue
        try:
            created = datetime.strptime(record["tweet_created"].strip(), "%m/%d/%Y %H:%M").replace(tzinfo=UTC)
        except ValueError:
            rejected.append(Rejection(line, f"tweet_created {record['tweet_created']!r} is not like 2/24/2015 11:35"))
            continue
        messages.append(
            InboundMessage(
                channel="x",
                account=record["airline"].strip(),
                platform_message_id=tweet_id,
                author_id=f"anonymous-{tweet_id}",
                author_name="anonymous",
                text=html.unescape(record["text"]),
                created_at=created,
                raw=dict(record),
            )
        )
    messages.sort(key=lambda m: (m.created_at, int(m.platform_message_id)))
    return ParsedFile(messages, rejected)
