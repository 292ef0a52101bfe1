"""Voice screen-pop benchmark (issue 6, item 5: "a telephony 'ringing' event for a known phone number returns
the customer and their open conversations in the API within 100 ms").

A fresh database gets --customers customers, each known by a phone number (a voice identity from an earlier
call) with two open conversations written through the generic API channel (ingestion, as a connector would).
Then --calls "ringing" events for numbers picked at random among them are POSTed over real HTTP to
`POST /api/v1/voice/events` as the PBX's integration account; each answer is checked (the right customer,
two open conversations). Measured per request, on the client: from sending to the whole answer read.

    python bench/voice.py [--customers 3000] [--calls 300] [--database sqlite | postgresql | URL]

`postgresql` is a throw-away database on CARELINE_BENCH_POSTGRES_URL (as for bench/ingest.py).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from ingest import fresh_database  # bench/ingest.py: a temporary SQLite file or a throw-away PostgreSQL database

from careline.agents import commands as admin
from careline.bootstrap import bootstrap
from careline.config import Settings
from careline.entrypoints.api.server import run_server_in_thread
from careline.entrypoints.cli.setup import ensure_defaults
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import InboundMessage
from careline.voice.commands import RecordCallEvent

PASSWORD = "benchmark password"


def number(index: int) -> str:
    return f"+1415{index:07d}"


def seed(careline: object, customers: int) -> None:
    """Customers with two open API conversations each, then one earlier call each (their voice identity)."""
    handle = careline.handle  # type: ignore[attr-defined]
    for start in range(0, customers, 500):
        batch = []
        for index in range(start, min(start + 500, customers)):
            for thread in range(2):
                batch.append(
                    InboundMessage(
                        channel="api",
                        account="default",
                        platform_message_id=f"m{index}-{thread}",
                        author_id=number(index),
                        author_name=f"Customer {index}",
                        text=f"order {index}-{thread} has not arrived yet",
                    )
                )
        handle(IngestMessages(items=tuple(batch)))
    for index in range(customers):
        handle(RecordCallEvent(account="switchboard", call_id=f"earlier-{index}", event="missed", caller=number(index)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql, or a database URL (must be empty)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="careline-bench-voice-") as home,
        fresh_database(args.database, Path(home)) as url,
    ):
        careline = bootstrap(Settings(home=Path(home), database_url=url))
        ensure_defaults(careline)
        careline.handle(admin.CreateChannelAccount(kind="voice", name="switchboard"))
        careline.handle(admin.CreateAgent(name="PBX", email="pbx@bench.local", password=PASSWORD, role="integration"))
        started = time.perf_counter()
        seed(careline, args.customers)
        seeded = time.perf_counter() - started
        server = run_server_in_thread(careline, "127.0.0.1", 0)
        try:
            timings = ring(server.url, args.customers, args.calls, random.Random(args.seed))
        finally:
            server.stop()
            careline.close()
    timings.sort()
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    result = {
        "database": url.split(":", 1)[0],
        "customers": args.customers,
        "calls": args.calls,
        "seed_seconds": round(seeded, 1),
        "ringing_ms": {
            "median": round(statistics.median(timings), 2),
            "p99": round(p99, 2),
            "max": round(timings[-1], 2),
        },
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))


def ring(base_url: str, customers: int, calls: int, rng: random.Random) -> list[float]:
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        token = client.post("/api/v1/auth/token", json={"email": "pbx@bench.local", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        timings: list[float] = []
        for call in range(calls + 10):  # the first ten warm the server up and are not counted
            index = rng.randrange(customers)
            body = {"account": "switchboard", "call_id": f"bench-{call}", "event": "ringing", "caller": number(index)}
            started = time.perf_counter()
            response = client.post("/api/v1/voice/events", json=body, headers=auth)
            elapsed = (time.perf_counter() - started) * 1000
            answer = response.json()
            assert response.status_code == 200, response.text
            assert answer["customer"]["display_name"] == f"Customer {index}", answer
            assert len(answer["open_conversations"]) == 2, answer
            if call >= 10:
                timings.append(elapsed)
    return timings


if __name__ == "__main__":
    main()
