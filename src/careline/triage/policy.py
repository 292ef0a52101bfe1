"""Noise and the response policy: answer, acknowledge, ignore or take private (docs/triage.md#policy).

Every social-care policy answers the same questions: what is ignored (retweets, spam, promotions, bots), what
only needs an acknowledgement (praise, thanks), what is taken off the public timeline (personal data posted in
public) and what is answered. Noise is recognised from the post alone; the policy is an ordered list of rules
per channel account, the first matching rule wins, and the built-in defaults end with "answer".

The text heuristics lean one way on purpose: a complaint that is ignored or only liked costs a customer, a
promotion or a thank-you that gets a reply costs an agent a minute. So a post only counts as noise or as
praise when nothing in it sounds like a customer with a problem, a question or a request.
"""

from __future__ import annotations

import dataclasses
import enum
import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from careline.kernel.errors import InvalidInput


class Action(enum.StrEnum):
    ANSWER = "answer"
    ACKNOWLEDGE = "acknowledge"
    IGNORE = "ignore"
    TAKE_PRIVATE = "take_private"


NOISE_KINDS = ("retweet", "spam", "promotion", "bot")
SENTIMENTS = ("negative", "neutral", "positive")
MAX_RULES = 50

_I = re.IGNORECASE
_RETWEET = re.compile(r"^\s*RT\s*@\w+", _I)
_URL = re.compile(r"https?://\S+|www\.\S+", _I)
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<!\w)@\w+")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Money-making schemes and bought reach: a customer does not write these to a brand except to report them.
_SPAM = re.compile(
    r"\b(?:make (?:easy |quick |fast |extra |real )?money (?:fast|online|from home|today)|"
    r"(?:earn|make|making) (?:up to )?[$£€]?\d[\d,.]*k?\+? (?:a|per|every|each) (?:day|week|hour|month)|"
    r"work(?:ing)? from home (?:and|&) (?:earn|make)|"
    r"buy (?:cheap |real |active )?(?:followers|likes|retweets|views)|\d+k? (?:followers|likes) for [$£€]?\d|"
    r"(?:crypto|forex|trading|binary options?) signals?|bitcoin doubler|guaranteed (?:profits?|returns?|income)|"
    r"double your (?:bitcoin|btc|crypto|money|investment)|investment opportunit(?:y|ies)|"
    r"(?:check|visit|join|sub(?:scribe)? to) my onlyfans)\b",
    _I,
)
# Contests are promotions with or without a link, unless a customer asks, complains or speaks of their own entry.
_CONTEST = re.compile(
    r"\b(?:giveaways?|give-aways?|sweepstakes?|(?:chance|enter|rt|retweet|tweet|follow|share|like|comment|tag)"
    r" (?:\w+ )?to win|follow (?:us |me )?(?:and|&|\+) (?:rt|retweet|share))\b",
    _I,
)
_SELF_PROMOTION = re.compile(
    r"\b(?:(?:check out|visit|subscribe to|follow) (?:my|our) (?:new )?(?:channel|page|shop|store|site|website|profile"
    r"|blog|podcast|youtube|mixtape|music)|dm (?:me|us) for (?:a |the )?(?:promo|collabs?|collaboration|deals?|rates)"
    r"|link in (?:my |our )?bio)\b",
    _I,
)
# Offers are everyday words in complaints ("my promo code doesn't work"): they count only next to a link.
_OFFER = re.compile(
    r"(?:\b(?:promo code|coupon|discount code|use (?:my |our |the )?code|free shipping|limited[- ]time|"
    r"(?:shop|order|buy|book|sign up) (?:now|today)|click (?:here|the link)|win (?:a|an|free|your)|sale ends)\b"
    r"|\d\s?% off\b)",
    _I,
)
_FIRST_PERSON = re.compile(r"\b(?:i|i['’]?(?:m|ve|d|ll)|me|my|mine|myself)\b", _I)
# A customer with a problem: broken things, money, and the words of a complaint. _COMPLAINT alone also guards
# praise, where "thanks for fixing my issue" or "thanks for the refund" are still thanks.
_COMPLAINT = (
    r"error|broken|defective|not (?:working|loading)|does(?:n['’]?t| not) work|won['’]?t (?:work|load|let)|"
    r"can['’]?t (?:get|find|log|sign|access|use|load|connect|reach|click|open|see|redeem)|(?:over)?charged|"
    r"scam(?:med)?|hacked|fraud\w*|complain\w*|worst|terrible|horrible|awful|ruin(?:ed|ing|s)?|disappoint\w*|"
    r"pathetic|useless|unacceptable|ridiculous|sucks?|fail(?:ed|ing|s|ure)?|wast(?:e|ed|ing)|stranded|miserable|"
    r"frustrat\w*|annoy\w*|furious|unhelpful|not helpful|never again"
)
_TROUBLE = re.compile(rf"\b(?:{_COMPLAINT}|refund\w*|problems?|issues?)\b", _I)
_COMPLAINING = re.compile(rf"\b(?:{_COMPLAINT})\b", _I)
# A question is a question mark, a sentence opening with a question word and a verb or pronoun ("how do",
# "when will"; not "what a flight", not "that's why you're the best") or with a verb and its subject ("do you";
# not "will do", not "I'll do that"), or a question phrase anywhere.
_QUESTION = re.compile(
    r"\?|(?:^|[.!;:,\-–—\n])\s*(?:how|when|where|why|which|who|what)\s+(?:\w+\s+)?(?:do|does|did|can|could|would|"
    r"will|should|is|are|was|were|am|i|you|u|we|it|long|much|many|soon|time|about)\b|"
    r"(?:^|[.!;:,\-–—\n])\s*(?:do|does|did|is|are|can|could|will|would|should|has|have)\s+(?:you|u|y['’]?all|i|we|"
    r"they|it|this|that|there|anyone|anybody|someone)\b|\b(?:is|are)\s+there\b|"
    r"\bany\s+(?:updates?|news|word|idea|info|chance)\b|\b(?:anyone|anybody)\s+know\b|"
    r"\bwonder(?:ing)?\s+(?:if|whether|why|how|when)\b",
    _I,
)
_REQUEST = re.compile(
    r"\b(?:please|pls|plz|kindly|need|needs|needed|help\s+(?:me|us)|(?:can|could|would|will)\s+(?:you|u|y['’]?all|"
    r"someone|somebody)|let\s+(?:me|us)\s+know|dm\s+(?:me|us)|follow\s+(?:me|us)|(?:would|i['’]?d)\s+(?:love|like|"
    r"appreciate)|waiting\s+(?:for|on))\b",
    _I,
)
# "Thanks, but ...", "thanks for nothing", "still waiting": mixed or sarcastic, so a person should read it.
_MIXED = re.compile(
    r"\b(?:but|however|though|although|except|unfortunately|yet\s+again|not\s+yet|no,?\s+thanks?|"
    r"no,?\s+thank\s+you|thanks?\s+(?:for\s+)?nothing|not\s+(?:happy|impressed|great|good|pleased)|"
    r"still\s+(?:waiting|no|not|nothing|have\s*n[o'’]t|has\s*n[o'’]t|can['’]?t|having|getting|seeing|delayed|"
    r"stuck|on\s+hold|missing|lost))\b",
    _I,
)
_PRAISE = re.compile(
    r"\b(?:thanks?|thank\s*(?:you|u|ya)|thx|thnx|thanx|ty|tyvm|cheers|kudos|props|shout\s*-?\s*outs?|appreciated?|"
    r"grateful|love[ds]?|loving|adore|awesome|great|amazing|best|excellent|fantastic|wonderful|lovely|brilliant|"
    r"perfect|impress(?:ed|ive)|helpful|favou?rite|rocks?|superb|outstanding|well\s+done|good\s+job|nice\s+job|"
    r"keep\s+it\s+up|above\s+and\s+beyond|congrat(?:s|ulations)?)\b|[👍🙏❤💙♥😊😍]",
    _I,
)


@dataclasses.dataclass(frozen=True)
class PostFacts:
    """What the policy looks at: the text and what triage concluded about it."""

    text: str
    public: bool = True
    sentiment: str = "neutral"
    angry: bool = False
    personal_data: tuple[str, ...] = ()
    category: str | None = None
    author_is_bot: bool = False


def noise_kind(text: str, author_is_bot: bool = False) -> str | None:
    """retweet, spam, promotion or bot when the post is noise; None for a post a person wrote to the brand."""
    if author_is_bot:
        return "bot"
    text = html.unescape(text)
    if _RETWEET.match(text):
        return "retweet"
    asking_or_complaining = "?" in text or bool(_TROUBLE.search(text))
    if (_SPAM.search(text) or _stuffed(text)) and not asking_or_complaining:
        return "spam"
    if asking_or_complaining:
        return None
    if _SELF_PROMOTION.search(text):
        return "promotion"
    offer = _CONTEST.search(text) or (_OFFER.search(text) and _URL.search(text))
    if offer and not _FIRST_PERSON.search(text):
        return "promotion"
    return None


def _stuffed(text: str) -> bool:
    """Bulk-posted advertising: a link carried by a pile of tags, with fewer words of its own than tags."""
    if not _URL.search(text):
        return False
    tags = len(_HASHTAG.findall(text)) + len(_MENTION.findall(text))
    own_words = len(_WORD.findall(_MENTION.sub(" ", _HASHTAG.sub(" ", _URL.sub(" ", text)))))
    return tags >= 6 and tags > own_words


def acknowledge_only(facts: PostFacts) -> bool:
    """Praise or thanks with no question, request, complaint or "but" in it: a like or a thank-you answers it."""
    if facts.sentiment != "positive" or facts.angry:
        return False
    text = _MENTION.sub(" ", html.unescape(facts.text)).strip()  # a handle such as @ThanksAir is no thanks
    if not _PRAISE.search(text):
        return False
    return not any(pattern.search(text) for pattern in (_QUESTION, _REQUEST, _MIXED, _COMPLAINING))


CONDITIONS = {
    "noise": "true, false or a list of " + ", ".join(NOISE_KINDS),
    "personal_data": "true or false",
    "public": "true or false",
    "sentiment": "a list of " + ", ".join(SENTIMENTS),
    "angry": "true or false",
    "category": "a list of category names",
    "acknowledge_only": "true or false",
}


@dataclasses.dataclass(frozen=True)
class PolicyRule:
    """``when`` holds the conditions (all must hold); ``action`` what to do. Conditions:

    noise: true/false or a list of noise kinds; personal_data: bool; public: bool; sentiment: list of labels;
    angry: bool; category: list of category names; acknowledge_only: bool.
    """

    action: Action
    when: Mapping[str, Any]
    name: str = ""

    def __post_init__(self) -> None:
        for key, value in self.when.items():
            problem = _condition_problem(key, value)
            if problem:
                raise InvalidInput(problem)

    def matches(self, facts: PostFacts, noise: str | None, ack: bool) -> bool:
        checks = {
            "noise": lambda v: ((noise is not None) is v) if isinstance(v, bool) else (noise in v),
            "personal_data": lambda v: bool(facts.personal_data) is v,
            "public": lambda v: facts.public is v,
            "sentiment": lambda v: facts.sentiment in v,
            "angry": lambda v: facts.angry is v,
            "category": lambda v: facts.category in v,
            "acknowledge_only": lambda v: ack is v,
        }
        return all(checks[key](value) for key, value in self.when.items())


def parse_rules(raw: Sequence[Mapping[str, Any]]) -> list[PolicyRule]:
    """Rules from their JSON form, every problem named with the rule's index: `[2] when.sentiment: ...`."""
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
        raise InvalidInput("a policy is a list of rules")
    if len(raw) > MAX_RULES:
        raise InvalidInput(f"a policy holds at most {MAX_RULES} rules")
    return [_parse_rule(index, item) for index, item in enumerate(raw)]


def _parse_rule(index: int, item: object) -> PolicyRule:
    if not isinstance(item, Mapping):
        raise InvalidInput(f"[{index}] a rule is an object with 'action' and 'when'")
    unknown = sorted(str(key) for key in item if key not in ("action", "when", "name"))
    if unknown:
        raise InvalidInput(f"[{index}] unknown field {unknown[0]!r}; a rule has action, when and name")
    action = item.get("action")
    if not isinstance(action, str) or action not in Action._value2member_map_:
        raise InvalidInput(f"[{index}] action must be one of {', '.join(a.value for a in Action)}, not {action!r}")
    when = item.get("when", {})
    if not isinstance(when, Mapping):
        raise InvalidInput(f"[{index}] when must be an object of conditions")
    for key, value in when.items():
        problem = _condition_problem(key, value)
        if problem:
            raise InvalidInput(f"[{index}] {problem}")
    name = item.get("name", "")
    if not isinstance(name, str) or len(name) > 100:
        raise InvalidInput(f"[{index}] name must be text of at most 100 characters")
    return PolicyRule(Action(action), dict(when), name)


def _condition_problem(key: object, value: object) -> str | None:
    """What is wrong with one condition, in words; None when it is valid."""
    if key not in CONDITIONS:
        return f"unknown condition {key!r}; conditions: {', '.join(CONDITIONS)}"
    if key == "noise":
        valid = isinstance(value, bool) or _list_of(value, lambda v: v in NOISE_KINDS)
    elif key == "sentiment":
        valid = _list_of(value, lambda v: v in SENTIMENTS)
    elif key == "category":
        valid = _list_of(value, lambda v: isinstance(v, str) and bool(v))
    else:
        valid = isinstance(value, bool)
    return None if valid else f"when.{key} must be {CONDITIONS[str(key)]}"


def _list_of(value: object, valid: Any) -> bool:
    """A non-empty list (or tuple) of valid items: an empty list would make a rule that never matches."""
    return isinstance(value, list | tuple) and bool(value) and all(valid(v) for v in value)


DEFAULT_RULES = (
    PolicyRule(Action.TAKE_PRIVATE, {"personal_data": True, "public": True}, "personal data in public"),
    PolicyRule(Action.IGNORE, {"noise": True}, "noise"),
    PolicyRule(Action.ACKNOWLEDGE, {"acknowledge_only": True}, "praise"),
)


@dataclasses.dataclass(frozen=True)
class Decision:
    action: Action
    rule: str  # the matching rule's name (its action when it has none), or "default"
    noise: str | None
    acknowledge_only: bool


def decide(facts: PostFacts, rules: Sequence[PolicyRule] | None = None) -> Decision:
    """The account's first matching rule (the defaults when it has none); no rule matching means answer."""
    noise = noise_kind(facts.text, facts.author_is_bot)
    ack = acknowledge_only(facts)
    for rule in DEFAULT_RULES if rules is None else rules:
        if rule.matches(facts, noise, ack):
            return Decision(rule.action, rule.name or rule.action.value, noise, ack)
    return Decision(Action.ANSWER, "default", noise, ack)


PRIVATE_PLACE = {"x": "a direct message", "facebook": "Messenger", "instagram": "a direct message"}


def take_private_reply(channel: str, customer_name: str | None = None) -> str:
    """The public reply that moves the customer to a private channel without repeating their data."""
    hello = f"Hi {customer_name}, " if customer_name else "Hi, "
    place = PRIVATE_PLACE.get(channel, "a private message")
    return (
        f"{hello}for your security please don't share personal details publicly. "
        f"Send us {place} and we'll sort this out with you there."
    )
