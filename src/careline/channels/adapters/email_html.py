"""HTML mail made safe to keep, and readable as text (docs/channels.md#email). Pure: no I/O.

Sanitising is nh3 (the Ammonia HTML sanitiser) with an allow-list of harmless formatting tags: nothing executable
survives (no script or style elements, no ``on*`` attributes, no ``javascript:`` or ``data:`` URLs), and images
keep only ``cid:`` sources, so opening a mail never fetches a remote image (a tracking pixel tells the sender
who read it, and when).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li",
    "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto", "cid"}
# Dropped together with everything inside them (nh3 otherwise keeps the text of a removed element).
DROPPED_WITH_CONTENT = {"script", "style", "head", "title", "template", "noscript", "iframe", "object"}
BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"}


def sanitize_html(html: str) -> str:
    """The mail's HTML with only harmless formatting left; links open in a new context, without a referrer."""
    return nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_no_remote_images,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _no_remote_images(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and not value.lower().startswith("cid:"):
        return None
    return value


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail: block elements become line breaks, scripts and styles are dropped."""
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    text = "".join(reader.parts)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0  # depth inside elements whose content is not text (script, style, head)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skipping += 1
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skipping = max(0, self._skipping - 1)
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)
