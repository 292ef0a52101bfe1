"""First-triage sentiment: VADER's compound score mapped to negative / neutral / positive."""

from __future__ import annotations

import html

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from careline.triage.model import Sentiment

# VADER's authors recommend +/-0.05 as the neutral band for the compound score.
NEUTRAL_BAND = 0.05


class VaderSentiment:
    """The SentimentAnalyser of first triage."""

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()

    def analyse(self, text: str) -> Sentiment:
        compound = float(self._analyzer.polarity_scores(html.unescape(text))["compound"])
        if compound >= NEUTRAL_BAND:
            label = "positive"
        elif compound <= -NEUTRAL_BAND:
            label = "negative"
        else:
            label = "neutral"
        return Sentiment(label=label, score=round(compound, 4))
