"""The browser harness itself: chromium loads a page from the live server, runs JavaScript, and reports its errors."""

from __future__ import annotations

from playwright.sync_api import Page

from .conftest import LiveServer


def test_a_page_of_the_live_server_loads(live_server: LiveServer, page: Page, page_errors: list[str]) -> None:
    response = page.goto(f"{live_server.url}/healthz")

    assert response is not None and response.status == 200
    assert '"ok"' in page.inner_text("body")
    assert page_errors == []


def test_javascript_errors_are_collected(live_server: LiveServer, page: Page, page_errors: list[str]) -> None:
    page.goto(f"{live_server.url}/healthz")

    page.evaluate("() => { console.error('logged'); setTimeout(() => { throw new Error('boom') }, 0) }")
    # Timers fire in order, and chromium reports the error before it answers this later one.
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 10))")

    assert any(error.startswith("console.error: logged") for error in page_errors), page_errors
    assert any(error.startswith("Error: boom") for error in page_errors), page_errors
