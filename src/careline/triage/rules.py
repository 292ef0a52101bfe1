"""First-triage rules: keywords pick a queue (the priority is triage/priority.py's)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from careline.agents.model import Queue


class KeywordRouter:
    """Picks the first queue (by rank) whose keywords occur in the text as whole words."""

    def __init__(self, queues: Sequence[Queue]) -> None:
        ordered = sorted(queues, key=lambda q: (q.rank, q.name))
        defaults = [q for q in ordered if q.is_default]
        if not defaults:
            raise ValueError("one queue must be the default queue")
        self.default = defaults[0]
        # Stage 2: complaints triage cannot place confidently wait here for a person, when such a queue exists.
        self.triage = next((q for q in ordered if q.is_triage), None)
        self._rules: list[tuple[Queue, re.Pattern[str]]] = []
        for queue in ordered:
            words = [k.strip() for k in queue.keywords if k.strip()]
            if words:
                alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
                self._rules.append((queue, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)))

    def pick(self, text: str) -> tuple[Queue, str | None]:
        """The queue for this text and the keyword that chose it (None: the default queue)."""
        for queue, pattern in self._rules:
            found = pattern.search(text)
            if found:
                return queue, found.group(0).lower()
        return self.default, None
