"""First-triage rules: keyword queues (whole words, by rank, default) and the first priority."""

from __future__ import annotations

import pytest

from careline.agents.model import Queue
from careline.triage.rules import KeywordRouter

GENERAL = Queue(id="que_general", name="general", rank=1000, is_default=True)
BILLING = Queue(id="que_billing", name="billing", keywords=("refund", "charged twice", "invoice"), rank=10)
BAGGAGE = Queue(id="que_baggage", name="baggage", keywords=("lost luggage", "bag"), rank=20)
URGENT = Queue(id="que_urgent", name="urgent", keywords=("refund",), rank=5)


@pytest.fixture
def router() -> KeywordRouter:
    return KeywordRouter([GENERAL, BAGGAGE, BILLING])


def test_a_keyword_picks_its_queue_and_names_the_rule(router: KeywordRouter) -> None:
    assert router.pick("I want a refund for order 1234") == (BILLING, "refund")
    assert router.pick("@delta you lost luggage of mine in ATL") == (BAGGAGE, "lost luggage")


def test_matching_ignores_case_and_reports_the_keyword_in_lower_case(router: KeywordRouter) -> None:
    assert router.pick("REFUND NOW!!!") == (BILLING, "refund")
    assert router.pick("I was Charged Twice for one ticket") == (BILLING, "charged twice")


@pytest.mark.parametrize("text", ["my refunds page is blank", "nonrefundable fare", "check your baggage policy"])
def test_only_whole_words_match(router: KeywordRouter, text: str) -> None:
    assert router.pick(text) == (GENERAL, None)


def test_punctuation_and_hashtags_still_delimit_a_whole_word(router: KeywordRouter) -> None:
    assert router.pick("#refund please") == (BILLING, "refund")
    assert router.pick("where is my bag?") == (BAGGAGE, "bag")


def test_no_keyword_falls_back_to_the_default_queue(router: KeywordRouter) -> None:
    assert router.pick("thanks for the quick help today") == (GENERAL, None)
    assert router.default is GENERAL


def test_when_several_queues_match_the_lowest_rank_wins() -> None:
    text = "lost my bag and I want a refund"
    assert KeywordRouter([GENERAL, BAGGAGE, BILLING]).pick(text) == (BILLING, "refund")
    assert KeywordRouter([GENERAL, BILLING, URGENT]).pick("refund") == (URGENT, "refund")


def test_the_longest_keyword_of_a_queue_is_preferred_at_the_same_place() -> None:
    luggage = Queue(id="q", name="luggage", keywords=("lost", "lost luggage"), rank=1)
    assert KeywordRouter([GENERAL, luggage]).pick("Lost luggage in Denver")[1] == "lost luggage"


def test_keywords_are_literal_text_not_patterns() -> None:
    plus = Queue(id="q", name="plus", keywords=("c++", "a.b"), rank=1)
    router = KeywordRouter([GENERAL, plus])
    assert router.pick("my c++ course") == (plus, "c++")
    assert router.pick("axb") == (GENERAL, None)


def test_a_router_needs_a_default_queue() -> None:
    with pytest.raises(ValueError, match="default"):
        KeywordRouter([BILLING, BAGGAGE])
