"""VADER sentiment on social-care texts: labels, the neutral band, and HTML entities as platforms send them."""

from __future__ import annotations

import pytest

from careline.triage.sentiment import NEUTRAL_BAND, VaderSentiment


@pytest.fixture(scope="module")
def vader() -> VaderSentiment:
    return VaderSentiment()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("@AirlineHelp 3 hours on hold and nobody answers. Ridiculous.", "negative"),
        ("@AcmeShop worst service ever, my order is cancelled AGAIN", "negative"),
        ("@AirlineHelp thanks for the quick rebooking, great crew!", "positive"),
        ("@AcmeShop love the new app, checkout is so easy now", "positive"),
        ("@AirlineHelp what time does the gate open for flight 1234?", "neutral"),
        ("@AcmeShop the parcel is at the depot since Monday", "neutral"),
    ],
)
def test_labels(vader: VaderSentiment, text: str, label: str) -> None:
    assert vader.analyse(text).label == label


def test_scores_are_compound_scores_rounded_to_four_places(vader: VaderSentiment) -> None:
    result = vader.analyse("@AirlineHelp 3 hours on hold and nobody answers. Ridiculous.")
    assert -1.0 <= result.score <= -NEUTRAL_BAND
    assert result.score == round(result.score, 4)


def test_html_entities_are_read_as_the_characters_they_stand_for(vader: VaderSentiment) -> None:
    assert vader.analyse("I &lt;3 this crew") == vader.analyse("I <3 this crew")
    assert vader.analyse("I &lt;3 this crew").label == "positive"
