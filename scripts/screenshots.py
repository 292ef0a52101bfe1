"""Screenshots of the agent desktop for the docs (docs/screenshots/*.png), taken in headless Chromium.

A throw-away demo world (the bundled, attributed TWCS sample: docs/demo.md) is served on a free port; the
sample's customer posts arrive spread over the last hours; the demo's human agent goes online, takes an offer;
then the inbox, that conversation and the supervisor dashboard are photographed at 1366x768.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--posts 150]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from careline.agents import commands as admin
from careline.bootstrap import bootstrap
from careline.config import Settings
from careline.demo.scenario import SAMPLE_FORMAT, build_world, sample_path
from careline.entrypoints.api.server import run_server_in_thread
from careline.entrypoints.cli.replay import prepare
from careline.ingestion.commands import IngestMessages
from careline.ingestion.importers import parse

CHROMIUM = "/usr/bin/chromium"


def sign_in(page: Page, url: str, email: str, password: str, path: str) -> None:
    page.goto(f"{url}{path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--posts", type=int, default=150)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="careline-shots-") as home:
        settings = Settings(home=Path(home), database_url=f"sqlite:///{home}/careline.db")
        careline = bootstrap(settings)
        world = build_world(careline, 2)
        server = run_server_in_thread(careline, "127.0.0.1", 0)
        try:
            rng = random.Random(7)
            now = datetime.now(UTC)
            posts = prepare(parse(sample_path(), SAMPLE_FORMAT).messages, inbound_only=True)[: args.posts]
            spread = sorted(now - timedelta(minutes=rng.uniform(1, 11 * 60)) for _ in posts)
            retimed = [dataclasses.replace(m, created_at=at) for m, at in zip(posts, spread, strict=True)]
            for start in range(0, len(retimed), 50):  # the sample's brand accounts are created on the way
                careline.handle(IngestMessages(items=tuple(retimed[start : start + 50]), create_accounts=True))
            with careline.uow(read_only=True) as uow:
                human = uow.agents.by_email(world.human.email)
            assert human is not None
            careline.handle(admin.SetAgentStatus(agent_id=human.id, status="online"))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
                sign_in(page, server.url, world.human.email, world.human.password, "/inbox?view=unassigned")
                page.wait_for_timeout(800)  # the offer pop-ups
                page.screenshot(path=str(args.out / "inbox.png"))
                page.locator(".offer").first.get_by_role("button", name="Accept").click()
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(args.out / "conversation.png"))
                boss = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
                sign_in(boss, server.url, world.admin.email, world.admin.password, "/supervisor")
                boss.screenshot(path=str(args.out / "supervisor.png"), full_page=True)
                browser.close()
        finally:
            server.stop()
            careline.close()
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
