"""Rule alerts on one post: each default rule, whole-word matching, dedup keys, validation, the airline tweets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from careline.alerts.rules import AlertRule, Signals, default_rules, evaluate
from careline.ingestion.importers import parse
from careline.kernel.errors import InvalidInput

CALM = Signals(
    post_id="p1", text="@acme thanks, all good", public=True, angry=False, sentiment="neutral", followers=120,
    verified=False, pii=(), account="acme",
)  # fmt: skip


def post(**changes: object) -> Signals:
    return dataclasses.replace(CALM, **changes)  # type: ignore[arg-type]


def rules_raised(signals: Signals) -> list[str]:
    return [alert.rule for alert in evaluate(default_rules(), signals)]


def test_a_calm_post_raises_nothing() -> None:
    assert rules_raised(CALM) == []


@pytest.mark.parametrize(
    ("changes", "raised"),
    [
        ({"angry": True, "followers": 10_000}, True),
        ({"angry": True, "followers": 9_999}, False),
        ({"angry": True, "followers": None, "verified": True}, True),
        ({"angry": True, "followers": None}, False),
        ({"angry": False, "followers": 2_000_000, "verified": True}, False),
    ],
)
def test_angry_and_influential(changes: dict[str, object], raised: bool) -> None:
    assert ("angry_influential" in rules_raised(post(**changes))) is raised


def test_the_angry_influential_alert_says_who() -> None:
    [alert] = evaluate(default_rules(), post(angry=True, followers=25_300, verified=True, sentiment="negative"))
    assert alert.title == "Angry post to acme from an influential author (25,300 followers, verified)"
    assert (alert.kind, alert.severity, alert.key, alert.post_ids) == (
        "angry_influential",
        "warning",
        ("post", "p1"),
        ("p1",),
    )
    assert alert.dedup_key == "rule:angry_influential:p1"


def test_personal_data_alerts_only_in_public() -> None:
    [alert] = evaluate(default_rules(), post(pii=("phone", "email", "phone")))
    assert alert.rule == "public_personal_data"
    assert alert.title.startswith("Public post to acme shows personal data (email, phone)")
    assert rules_raised(post(pii=("phone",), public=False)) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I will SUE you", ["sue"]),
        ("this is a #lawsuit waiting to happen", ["lawsuit"]),
        ("Lawyer. Injured! Unsafe?", ["lawyer", "injured", "unsafe"]),
        ("we will take legal\n action", ["legal action"]),
        ("lawsuit and lawsuit again", ["lawsuit"]),
    ],
)
def test_risk_words_match_whole_words_whatever_the_case(text: str, words: list[str]) -> None:
    [alert] = evaluate(default_rules(), post(text=text, sentiment="negative"))
    assert (alert.rule, alert.severity) == ("risk_words", "critical")
    assert alert.title == "Post to acme mentions " + ", ".join(repr(w) for w in words)


@pytest.mark.parametrize(
    "text",
    [
        "my issue is not solved",  # sue inside a word
        "I will pursue this",
        "my suede jacket",
        "to add insult to injury the bag is gone",  # an idiom, not an injury
        "can I get an emergency exit row",
        "legal drinking age",  # only the phrase "legal action" is listed
    ],
)
def test_risk_words_ignore_parts_of_words_and_harmless_phrases(text: str) -> None:
    assert rules_raised(post(text=text, sentiment="negative")) == []


def test_a_harmless_phrase_does_not_hide_a_real_risk_elsewhere_in_the_post() -> None:
    assert rules_raised(post(text="insult to injury: my son was injured", sentiment="negative")) == ["risk_words"]


def test_positive_posts_skip_risk_words_unless_the_rule_says_otherwise() -> None:
    praise = post(text="thanks for putting safety first", sentiment="positive")
    assert rules_raised(praise) == []
    strict = AlertRule("all_safety", "risk_words", words=("safety",), skip_positive=False)
    assert [a.dedup_key for a in evaluate([strict], praise)] == ["rule:all_safety:p1"]


def test_one_post_can_raise_several_rules_each_once() -> None:
    angry = post(angry=True, verified=True, pii=("phone",), text="call 555 0100, I am calling my lawyer")
    alerts = evaluate(default_rules(), angry)
    assert [a.rule for a in alerts] == ["angry_influential", "public_personal_data", "risk_words"]
    assert len({a.dedup_key for a in alerts}) == 3
    assert evaluate(default_rules(), angry) == alerts


def test_a_post_without_an_account_still_reads_well() -> None:
    [alert] = evaluate(default_rules(), post(account=None, pii=("card",)))
    assert alert.title.startswith("Public post shows personal data (card)")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "Angry Rule", "kind": "angry_influential"}, "lowercase slug"),
        ({"name": "", "kind": "angry_influential"}, "lowercase slug"),
        ({"name": "r", "kind": "sarcasm"}, "kind must be one of"),
        ({"name": "r", "kind": "risk_words", "words": ("x",), "severity": "urgent"}, "severity"),
        ({"name": "r", "kind": "angry_influential", "min_followers": -1}, "min_followers"),
        ({"name": "r", "kind": "risk_words"}, "at least one word"),
        ({"name": "r", "kind": "risk_words", "words": "lawsuit"}, "list of words, not 'lawsuit'"),
        ({"name": "r", "kind": "risk_words", "words": ("ok", " ")}, "words or phrases"),
        ({"name": "r", "kind": "risk_words", "words": ("sue!",)}, "words or phrases"),
        ({"name": "r", "kind": "risk_words", "words": ("ok", 3)}, "words or phrases"),
        ({"name": "r", "kind": "risk_words", "words": ("ok",), "harmless_phrases": ("(a+)+",)}, "harmless_phrases"),
        ({"name": "r", "kind": "angry_influential", "words": ("lawsuit",)}, "only apply to risk_words"),
    ],
)
def test_rules_refuse_bad_parameters_with_a_clear_message(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace("+", r"\+")):
        AlertRule(**arguments)  # type: ignore[arg-type]


def test_word_lists_are_stored_as_tuples() -> None:
    rule = AlertRule("r", "risk_words", words=["lawsuit", "legal action"])  # type: ignore[arg-type]
    assert rule.words == ("lawsuit", "legal action")


def test_risk_words_on_the_airline_tweets_are_rare_and_mostly_complaints(data_dir: Path) -> None:
    messages = parse(data_dir / "airline_tweets.csv", "airline").messages
    raised = []
    for m in messages:
        assert m.raw is not None
        label = m.raw["airline_sentiment"]
        signals = Signals(m.platform_message_id, m.text, True, label == "negative", label, None, False, (), m.account)
        raised += [(label, alert) for alert in evaluate(default_rules(), signals)]
    assert {alert.rule for _, alert in raised} == {"risk_words"}
    assert len(raised) == 52  # about one post in 200
    assert sum(label == "negative" for label, _ in raised) >= 0.75 * len(raised)
    # The file holds one tweet twice: its two copies share a dedup key, so a store alerts once.
    assert len({alert.dedup_key for _, alert in raised}) == len({alert.post_ids for _, alert in raised}) == 51
