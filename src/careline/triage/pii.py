"""Personal data in a post: card numbers, emails, phone numbers and configured references, found and masked.

A pure detector (standard library and ``phonenumbers`` only): it reads text exactly as the platform sent it
(HTML entities such as ``&amp;`` and dataset placeholders such as ``__email__`` included) and reports spans in
that same text, so that masking never shifts offsets the caller may hold.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Literal

import phonenumbers

PiiKind = Literal["card", "email", "phone", "reference"]

# When spans overlap, the earlier kind wins: a Luhn-valid card is a card even if it also parses as a phone or
# matches a configured reference pattern.
PRECEDENCE: tuple[PiiKind, ...] = ("card", "email", "reference", "phone")

# User patterns run on every post and Python's ``re`` has no timeout, so the defence against catastrophic
# backtracking is static: a short pattern (a reference format needs no more) and no quantified group that itself
# contains an unbounded quantifier, the shape of ``(a+)+`` or ``(\w*x)*`` that backtracks exponentially.
MAX_PATTERN_LENGTH = 200
MASK = "•"

# 13-19 digits, single spaces or dashes between them; not glued to other digits, words, URLs or decimals. The
# first digit is never 0 (ISO/IEC 7812 issues no cards under major industry identifier 0), which keeps out
# international dialling prefixes such as "0011 800-..." that happen to pass Luhn; and no card is written after
# "+", so "+86 138 0013 8002" stays a phone number even though its digits pass Luhn.
_CARD = re.compile(r"(?<![\w/=.,+-])[1-9](?:[ -]?\d){12,18}(?![\w/]|[.,-]\d)")
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
# Strings a reference pattern is tried on at construction: a pattern that matches nothing somewhere in them
# (an empty match, even one that depends on context like ``\b``) would flag every post.
_EMPTY_PROBES = ("", " ", "x", "X1 y-2", "ABC123 abc123 #1 @a.b", "\n\t")


@dataclasses.dataclass(frozen=True)
class PiiFinding:
    """One piece of personal data: its kind, its span ``text[start:end]``, and the pattern that found a reference."""

    kind: PiiKind
    start: int
    end: int
    pattern: str | None = None


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum that every payment card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class PiiDetector:
    """Finds and masks personal data in one post's text.

    ``reference_patterns`` maps a name (``booking``) to a regular expression for an account or booking
    reference. A match counts only as a whole word (not inside a longer run of letters, digits or ``_``);
    if the pattern defines a group named ``ref``, only that group is the finding, so a pattern can require
    context (``(?i:booking|PNR)\\W{0,3}(?P<ref>[A-Z0-9]{6})``) without masking the context.
    ``default_region`` is the region of phone numbers written without ``+``; ``None`` finds only those with ``+``.
    """

    def __init__(self, reference_patterns: Mapping[str, str] | None = None, default_region: str | None = "US") -> None:
        self.default_region = default_region
        self._references = {
            name: _compile_reference(name, pattern) for name, pattern in (reference_patterns or {}).items()
        }

    def find(self, text: str) -> list[PiiFinding]:
        """Every finding in the text, sorted by position, none overlapping (see ``PRECEDENCE``)."""
        candidates = {
            "card": list(self._cards(text)),
            "email": [PiiFinding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)],
            "reference": list(self._reference_findings(text)),
            "phone": list(self._phones(text)),
        }
        kept: list[PiiFinding] = []
        for kind in PRECEDENCE:
            for finding in candidates[kind]:
                if not any(finding.start < other.end and other.start < finding.end for other in kept):
                    kept.append(finding)
        return sorted(kept, key=lambda f: f.start)

    def mask(self, text: str, findings: list[PiiFinding] | None = None) -> str:
        """The text with each finding replaced by a masked form that keeps a hint (the last digits, a domain)."""
        if findings is None:
            findings = self.find(text)
        parts: list[str] = []
        cursor = 0
        for finding in sorted(findings, key=lambda f: f.start):
            parts.append(text[cursor : finding.start])
            parts.append(masked(finding.kind, text[finding.start : finding.end]))
            cursor = finding.end
        parts.append(text[cursor:])
        return "".join(parts)

    def _cards(self, text: str) -> Iterator[PiiFinding]:
        for match in _CARD.finditer(text):
            if luhn_valid(re.sub(r"\D", "", match.group())):
                yield PiiFinding("card", match.start(), match.end())

    def _phones(self, text: str) -> Iterator[PiiFinding]:
        # VALID: the number must be a real, dialable number of its region (not merely the right length), which is
        # what keeps times, prices, flight numbers and 18-digit tweet ids out.
        region = self.default_region or "ZZ"
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            yield PiiFinding("phone", match.start, match.end)

    def _reference_findings(self, text: str) -> Iterator[PiiFinding]:
        for name, pattern in self._references.items():
            for match in pattern.finditer(text):
                start, end = match.span("ref") if "ref" in pattern.groupindex else match.span()
                if end > start:
                    yield PiiFinding("reference", start, end, name)


def masked(kind: PiiKind, value: str) -> str:
    """The masked form of one value of a kind: enough to recognise it, not enough to use it."""
    digits = re.sub(r"\D", "", value)
    if kind == "card":
        return f"{MASK * 4} {MASK * 4} {MASK * 4} {digits[-4:]}"
    if kind == "phone":
        return f"{MASK * 3}-{MASK * 3}-{digits[-4:]}"
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}{MASK * 3}@{domain}"
    return MASK * 5 + value[-2:]


def _compile_reference(name: str, pattern: str) -> re.Pattern[str]:
    """A configured reference pattern, compiled as a whole word; ValueError saying what is wrong with it."""
    if not name.strip():
        raise ValueError("a reference pattern needs a non-empty name")
    if not pattern:
        raise ValueError(f"reference pattern {name!r} is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"reference pattern {name!r} is longer than {MAX_PATTERN_LENGTH} characters")
    if _has_nested_quantifier(pattern):
        raise ValueError(f"reference pattern {name!r} repeats a group that already repeats (catastrophic backtracking)")
    try:
        bare = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"reference pattern {name!r} is not a valid regular expression: {error}") from None
    if any(match.end() == match.start() for probe in _EMPTY_PROBES for match in bare.finditer(probe)):
        raise ValueError(f"reference pattern {name!r} matches the empty string")
    try:
        return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")
    except re.error as error:  # global flags such as (?i) must come first; (?i:...) scopes them instead
        raise ValueError(f"reference pattern {name!r} cannot be used as a whole word: {error}") from None


def _has_nested_quantifier(pattern: str) -> bool:
    """Whether a group containing ``*``, ``+`` or ``{n,}`` is itself followed by a quantifier."""
    stack: list[bool] = []  # per open group: does it contain an unbounded quantifier?
    closed_unbounded = False  # the token just read is a group that contains one
    index = 0
    while index < len(pattern):
        char = pattern[index]
        quantified_group = closed_unbounded
        closed_unbounded = False
        if char == "\\":
            index += 2
            continue
        if char == "[":  # a character class: skip to its closing bracket
            index = _end_of_class(pattern, index)
            continue
        if char == "(":
            stack.append(False)
        elif char == ")":
            inner = stack.pop() if stack else False
            closed_unbounded = inner
            if stack and inner:
                stack[-1] = True
        elif char in "*+{":
            if quantified_group:
                return True
            unbounded = char != "{" or re.match(r"\{\d*,\}", pattern[index:]) is not None
            if unbounded and stack:
                stack[-1] = True
        index += 1
    return False


def _end_of_class(pattern: str, start: int) -> int:
    """The index just past the ``]`` closing the character class that opens at ``start``."""
    index = start + 1
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":  # a leading ] is a literal
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1
