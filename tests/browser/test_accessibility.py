"""Accessibility basics of every page of the desktop, checked in the browser: each form control has a label (or
an aria-label), each button and link a name, images a text alternative, one h1, and a language on the page; and
text contrast of at least 4.5:1 (WCAG AA) for every visible piece of text."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from careline.agents import commands as admin

from .conftest import LiveServer
from .test_desktop import PASSWORD, sign_in, team_of

# Runs in the page: every problem as a sentence (the element's tag and id or text, so a failure says where).
AUDIT = """() => {
  const problems = [];
  const where = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.name ? '[name=' + el.name + ']' : '') + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  if (!document.documentElement.lang) problems.push('the page has no lang');
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = (el.labels && el.labels.length) || el.getAttribute('aria-label') ||
      el.getAttribute('aria-labelledby');
    if (!labelled) problems.push('no label: ' + where(el));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    const name = (el.textContent || '').trim() || el.getAttribute('aria-label') || el.getAttribute('title');
    if (!name) problems.push('no name: ' + where(el));
  }
  for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) problems.push('no alt: ' + where(el));
  const headings = document.querySelectorAll('h1').length;
  if (headings !== 1) problems.push(headings + ' h1 on the page');
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    const fg = rgb(getComputedStyle(el).color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ': ' + where(el));
  }
  return problems;
}"""


@pytest.mark.parametrize("path", ["/login", "/inbox?view=unassigned", "conversation", "/supervisor", "/admin/canned"])
def test_every_page_has_labels_names_one_heading_and_contrast(live_server: LiveServer, page: Page, path: str) -> None:
    team = team_of(live_server)
    team.post("my suitcase never arrived, flight 1234")
    boss = live_server.app.handle(
        admin.CreateAgent(name="Sam", email="sam@acme.example", password=PASSWORD, role="supervisor")
    )
    if path == "/login":
        page.goto(f"{live_server.url}/login")
    else:
        sign_in(page, live_server, boss, "/inbox?view=unassigned" if path == "conversation" else path)
        if path == "conversation":
            page.locator("#rows a").first.click()
            page.wait_for_selector(".thread")
    problems = page.evaluate(AUDIT)
    assert problems == [], problems
