"""A canned response and its variables: plain text with `{customer_name}`, `{agent_name}`, `{order_id}` and
`{brand}`, filled in for the conversation at hand; a value that is not known stays as `{name}`, for the agent
to fill before sending."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from careline.kernel.errors import InvalidInput

VARIABLES = {
    "customer_name": "the customer's name",
    "agent_name": "the agent's name",
    "order_id": "an order or booking reference the customer wrote",
    "brand": "the name of the account the customer wrote to",
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# "order 12345", "booking ref: AB12CD", "confirmation #XK-4471": the reference after such a word.
ORDER = re.compile(
    r"\b(?:order|booking|confirmation|reservation|ref(?:erence)?|ticket)\s*(?:no\.?|number|#|id)?\s*[:#]?\s*"
    r"([A-Z0-9][A-Z0-9-]{3,19})\b",
    re.IGNORECASE,
)
MAX_TITLE, MAX_TEXT = 100, 5_000


@dataclasses.dataclass
class CannedResponse:
    id: str
    title: str
    text: str
    created_at: datetime
    created_by: str | None = None


def check(title: str, text: str) -> tuple[str, str]:
    """The title and text, trimmed; refused when empty, too long, or naming a variable that does not exist."""
    title, text = title.strip(), text.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise InvalidInput(f"a canned response's title is 1 to {MAX_TITLE} characters")
    if not 1 <= len(text) <= MAX_TEXT:
        raise InvalidInput(f"a canned response's text is 1 to {MAX_TEXT} characters")
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in VARIABLES})
    if unknown:
        known = ", ".join("{" + name + "}" for name in VARIABLES)
        raise InvalidInput(f"unknown variable {', '.join('{' + n + '}' for n in unknown)}: use {known}")
    return title, text


def expand(text: str, values: Mapping[str, str | None]) -> str:
    """The text with each known value in place of its variable."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or m.group(0), text)


def order_id(texts: Iterable[str]) -> str | None:
    """The last order or booking reference the customer wrote, if any (with at least one digit in it)."""
    found = None
    for text in texts:
        for match in ORDER.finditer(text):
            if any(ch.isdigit() for ch in match.group(1)):
                found = match.group(1)
    return found
