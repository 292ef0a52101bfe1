"""Rule alerts on one post: an angry influential author, personal data in public, legal or safety words
(docs/alerts.md#rule-alerts).

Pure: triage's conclusions about a post go in as ``Signals``; the alerts they raise come out, one per matching rule,
with a dedup key per rule and post so that re-triaging a post never alerts twice.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable

from careline.alerts.model import SEVERITIES, Alert, at_least
from careline.kernel.errors import InvalidInput

RULE_KINDS = ("angry_influential", "public_personal_data", "risk_words")

# Legal, safety and reputational words, generic on purpose (no airline jargon). On the airline tweets they match
# 59 of 11,739 posts once positive posts are skipped: a third of the posts saying "safety" thank a crew for it.
RISK_WORDS = (
    "lawsuit", "lawsuits", "sue", "sued", "suing", "lawyer", "lawyers", "attorney", "attorneys", "legal action",
    "negligence", "negligent", "injury", "injuries", "injured", "unsafe", "dangerous", "safety", "emergency",
    "hospital", "ambulance", "police", "discrimination", "discriminated", "racist", "harassment", "harassed",
    "assault", "assaulted",
)  # fmt: skip
# Everyday phrases that contain a risk word and mean no risk; "add insult to injury" alone was 5 of 9 injuries.
HARMLESS_PHRASES = ("insult to injury", "emergency exit", "emergency exits")
_RULE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_WORD = re.compile(r"\w+(?:[ '-]\w+)*")  # a word or phrase that starts and ends on a word character


@dataclasses.dataclass(frozen=True)
class Signals:
    """What triage concluded about one post."""

    post_id: str
    text: str
    public: bool
    angry: bool
    sentiment: str  # negative | neutral | positive
    followers: int | None  # None: the channel does not say
    verified: bool
    pii: tuple[str, ...]  # kinds of personal data found: card, email, phone, reference
    account: str | None  # the brand's account the post is addressed to


@dataclasses.dataclass(frozen=True)
class AlertRule:
    name: str  # a slug: it goes into dedup keys
    kind: str  # angry_influential | public_personal_data | risk_words
    severity: str = "warning"
    min_followers: int = 10_000  # angry_influential: the micro-influencer tier, far above a typical account
    verified_counts: bool = True  # angry_influential: a verified author counts whatever the followers
    words: tuple[str, ...] = ()  # risk_words: matched whole, case-insensitive
    harmless_phrases: tuple[str, ...] = ()  # risk_words: a word inside one of these does not count
    skip_positive: bool = True  # risk_words: a positive post is praise, not a risk

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _RULE_NAME.fullmatch(self.name):
            raise InvalidInput(f"rule name must be a lowercase slug (letters, digits, _ and -), not {self.name!r}")
        if self.kind not in RULE_KINDS:
            raise InvalidInput(f"rule {self.name}: kind must be one of {', '.join(RULE_KINDS)}, not {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise InvalidInput(f"rule {self.name}: severity must be one of {', '.join(SEVERITIES)}")
        at_least(f"rule {self.name}: min_followers", self.min_followers, 0)
        for field in ("words", "harmless_phrases"):
            object.__setattr__(self, field, self._word_list(field, getattr(self, field)))
        if self.kind == "risk_words" and not self.words:
            raise InvalidInput(f"rule {self.name}: a risk_words rule needs at least one word")

    def _word_list(self, field: str, words: object) -> tuple[str, ...]:
        # A bare string would iterate as letters and alert on every "a": refuse it rather than guess.
        if isinstance(words, str) or not isinstance(words, Iterable):
            raise InvalidInput(f"rule {self.name}: {field} must be a list of words, not {words!r}")
        listed = tuple(words)
        bad = [w for w in listed if not isinstance(w, str) or not _WORD.fullmatch(w.strip())]
        if bad:
            raise InvalidInput(f"rule {self.name}: {field} must be words or phrases of letters and digits: {bad!r}")
        if listed and self.kind != "risk_words":
            raise InvalidInput(f"rule {self.name}: {field} only apply to risk_words rules")
        return listed


def default_rules() -> list[AlertRule]:
    return [
        AlertRule("angry_influential", "angry_influential", "warning"),
        AlertRule("public_personal_data", "public_personal_data", "warning"),
        AlertRule("risk_words", "risk_words", "critical", words=RISK_WORDS, harmless_phrases=HARMLESS_PHRASES),
    ]


def evaluate(rules: Iterable[AlertRule], signals: Signals) -> list[Alert]:
    """The alerts one post raises, in rule order; each rule alerts at most once per post."""
    alerts = []
    for rule in rules:
        title = _title_if_matched(rule, signals)
        if title is not None:
            dedup_key = f"rule:{rule.name}:{signals.post_id}"
            key = ("post", signals.post_id)
            alerts.append(Alert(rule.kind, rule.name, key, rule.severity, title, dedup_key, (signals.post_id,)))
    return alerts


def _title_if_matched(rule: AlertRule, signals: Signals) -> str | None:
    to = f" to {signals.account}" if signals.account else ""
    if rule.kind == "angry_influential":
        many = signals.followers is not None and signals.followers >= rule.min_followers
        if not signals.angry or not (many or (rule.verified_counts and signals.verified)):
            return None
        audience = [f"{signals.followers:,} followers"] if signals.followers is not None else []
        audience += ["verified"] if signals.verified else []
        return f"Angry post{to} from an influential author ({', '.join(audience)})"
    if rule.kind == "public_personal_data":
        if not signals.public or not signals.pii:
            return None
        kinds = ", ".join(sorted(set(signals.pii)))
        return f"Public post{to} shows personal data ({kinds}): hide it and move the conversation to private"
    if rule.skip_positive and signals.sentiment == "positive":
        return None
    text = _pattern(rule.harmless_phrases).sub(" ", signals.text) if rule.harmless_phrases else signals.text
    found = dict.fromkeys(" ".join(match.lower().split()) for match in _pattern(rule.words).findall(text))
    return f"Post{to} mentions {', '.join(repr(word) for word in found)}" if found else None


@functools.lru_cache(maxsize=64)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One regex per word list: longest first, spaces matching any whitespace, whole words only."""
    parts = sorted({w.strip().lower() for w in words}, key=lambda w: (-len(w), w))
    alternatives = "|".join(r"\s+".join(re.escape(piece) for piece in part.split()) for part in parts)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
