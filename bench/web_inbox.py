"""Agent desktop benchmark: an inbox page with 1,000 conversations, served and rendered (issue 5: "a page with
1,000 conversations in the inbox renders in under a second on this machine").

1,200 posts from the TWCS sample of ../shared/data (or the bundled demo sample) are ingested into a fresh SQLite
database (or --database-url); a supervisor signs in and opens /inbox?view=all, which shows the first 1,000.
Measured: the server's answer time (httpx, the page's HTML), and in headless Chromium the time from navigation
to the `load` event and to the last row painted, median and worst of --runs runs.

    python bench/web_inbox.py [--posts 1200] [--runs 7] [--database-url URL]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from careline.agents import commands as admin
from careline.bootstrap import bootstrap
from careline.config import Settings
from careline.demo.scenario import SAMPLE_FORMAT, sample_path
from careline.entrypoints.api.server import run_server_in_thread
from careline.entrypoints.cli.setup import ensure_defaults
from careline.ingestion.commands import IngestMessages
from careline.ingestion.importers import parse

DATA = Path(os.environ.get("CARELINE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CHROMIUM = os.environ.get("CARELINE_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "benchmark password"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    source = DATA / "twcs_sample.csv"
    path, fmt = (source, "twcs") if source.is_file() else (sample_path(), SAMPLE_FORMAT)
    with tempfile.TemporaryDirectory(prefix="careline-bench-web-") as home:
        url = args.database_url or f"sqlite:///{home}/careline.db"
        careline = bootstrap(Settings(home=Path(home), database_url=url))
        ensure_defaults(careline)
        messages = [m for m in parse(path, fmt).messages if m.direction == "inbound"][: args.posts]
        now = datetime.now(UTC)
        messages = [
            dataclasses.replace(m, created_at=now - timedelta(seconds=len(messages) - i), thread_key=None)
            for i, m in enumerate(messages)
        ]
        for start in range(0, len(messages), 200):  # the sample's brand accounts are created on the way
            careline.handle(IngestMessages(items=tuple(messages[start : start + 200]), create_accounts=True))
        careline.handle(admin.CreateAgent(name="Sam", email="sam@bench.example", password=PASSWORD, role="supervisor"))
        server = run_server_in_thread(careline, "127.0.0.1", 0)
        try:
            result = measure(server.url, args.runs)
        finally:
            server.stop()
            careline.close()
    result.update(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}",
        database="PostgreSQL" if args.database_url else "SQLite",
    )
    print(json.dumps(result))


def measure(url: str, runs: int) -> dict[str, object]:
    client = httpx.Client(base_url=url, timeout=30)
    page_html = client.get("/login")
    token = page_html.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"email": "sam@bench.example", "password": PASSWORD, "csrf_token": token})
    server_ms, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get("/inbox?view=all")
        server_ms.append(1000 * (time.perf_counter() - started))
        rows = answer.text.count("<tr data-id=")
    cookie = client.cookies.get("careline_session")
    client.close()
    load_ms, painted_ms = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        context.add_cookies([{"name": "careline_session", "value": cookie or "", "url": url}])
        page = context.new_page()
        for _ in range(runs):
            started = time.perf_counter()
            page.goto(f"{url}/inbox?view=all", wait_until="load")
            load_ms.append(1000 * (time.perf_counter() - started))
            page.locator("#rows tr").last.wait_for()
            painted_ms.append(1000 * (time.perf_counter() - started))
        browser.close()
    return {
        "bench": "web_inbox",
        "rows": rows,
        "server_ms_median": round(statistics.median(server_ms), 1),
        "server_ms_max": round(max(server_ms), 1),
        "browser_load_ms_median": round(statistics.median(load_ms), 1),
        "browser_load_ms_max": round(max(load_ms), 1),
        "last_row_ms_median": round(statistics.median(painted_ms), 1),
        "last_row_ms_max": round(max(painted_ms), 1),
    }


if __name__ == "__main__":
    main()
