"""Browser fixtures: Debian's headless chromium driven by Playwright, against the API served on a free port.

Playwright never downloads a browser here: it launches CARELINE_TEST_CHROMIUM (default /usr/bin/chromium, which
scripts/install puts there). Without CI a missing browser skips these tests; under CI=true it fails them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, sync_playwright

from careline.bootstrap import Careline
from careline.entrypoints.api.server import run_server_in_thread
from conftest import _unavailable  # tests/conftest.py: tests/ is not a package, pytest puts it on sys.path

CHROMIUM = os.environ.get("CARELINE_TEST_CHROMIUM", "/usr/bin/chromium")
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}  # the laptop the agent desktop is designed for


@dataclasses.dataclass(frozen=True)
class LiveServer:
    url: str  # base URL, no trailing slash
    app: Careline  # set up agents, queues... with app.handle(command) before opening pages


@pytest.fixture(params=["sqlite"])
def database_url(database_url: str) -> str:
    """Browser tests are slow: SQLite only. One that needs PostgreSQL asks for it with
    ``@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)``.

    This overrides tests/conftest.py's fixture and requests it: pytest hands it the same param.
    """
    return database_url


@pytest.fixture
def live_server(app: Careline) -> Iterator[LiveServer]:
    """The app over real HTTP on a free 127.0.0.1 port, on a fresh database; nothing is set up in it."""
    handle = run_server_in_thread(app, "127.0.0.1", 0)
    yield LiveServer(handle.url, app)
    handle.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no chromium at {CHROMIUM} (run scripts/install, or set CARELINE_TEST_CHROMIUM)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    """One headless chromium for the whole session; each test gets its own context (cookies, storage)."""
    with sync_playwright() as playwright:
        # --no-sandbox: chromium refuses to start its sandbox as root, which CI is.
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    """The JavaScript errors of this test's `page`: uncaught exceptions and console.error messages."""
    return []


@pytest.fixture
def page(browser: Browser, page_errors: list[str]) -> Iterator[Page]:
    """A fresh page in a fresh context, with a laptop's viewport; its JavaScript errors go to `page_errors`."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.on("pageerror", lambda error: page_errors.append(f"{error.name}: {error.message}"))
    tab.on("console", lambda message: _console_error(message, page_errors))
    yield tab
    context.close()


def _console_error(message: ConsoleMessage, errors: list[str]) -> None:
    # Chromium asks every page for /favicon.ico on its own, and logs the 404 as a console error: not the page's.
    source = message.location.get("url", "")
    if message.type == "error" and not source.endswith("/favicon.ico"):
        errors.append(f"console.error: {message.text} ({source})" if source else f"console.error: {message.text}")
