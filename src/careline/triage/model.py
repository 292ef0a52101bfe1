"""What triage concludes about a message, and the ports its analysers implement."""

from __future__ import annotations

import dataclasses
from typing import Protocol


@dataclasses.dataclass(frozen=True)
class Sentiment:
    label: str  # negative | neutral | positive
    score: float  # -1 (most negative) .. +1 (most positive)


class SentimentAnalyser(Protocol):
    def analyse(self, text: str) -> Sentiment:
        """The sentiment of one message's text."""
        ...
