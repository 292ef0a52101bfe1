"""Simulated agents: log in over HTTP, take what the router offers, answer, resolve (docs/demo.md#agents).

Each agent is one thread that works like a person with several chats open: it polls its assigned
conversations, accepts the new ones, answers each after a short "typing" pause and resolves it a little
later. It uses only the public HTTP API, so the demo exercises exactly what a human agent's desktop does.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from careline.demo.client import ApiClient, ApiError

log = logging.getLogger(__name__)

# Personal details belong in a direct message, never in a public reply.
PERSONAL = re.compile(
    r"\b(account|order|booking|reservation|confirmation|card|refund|password|e-?mail|phone|address|"
    r"flight\s*#?\d+|ticket)\b|\d{5,}",
    re.IGNORECASE,
)
ANSWERS = {
    "billing": "Sorry about the trouble with that charge. We've checked it and the fix is on its way.",
    "travel": "Sorry for the hassle with your trip. We've looked into it and updated your booking notes.",
    "tech": "Thanks for the details. Please update to the latest version and restart; that clears this issue.",
}
DEFAULT_ANSWER = "Thanks for reaching out! We're on it and will make this right."
PRIVATE_ANSWER = "We've sent you a direct message so that we can look at your details privately."
TAGS = ("demo", "follow-up", "vip", "feedback")


@dataclasses.dataclass(frozen=True)
class BotTiming:
    """Seconds: the pause before answering and before resolving, and between two polls."""

    answer_after: tuple[float, float] = (0.5, 2.0)
    resolve_after: tuple[float, float] = (1.0, 4.0)
    poll_every: float = 0.5


@dataclasses.dataclass
class _Work:
    conversation_id: str
    due: float
    answered: bool = False


def choose_reply(text: str, queue: str | None) -> tuple[str, str]:
    """(text, visibility): a private message when the post mentions account, order or booking details."""
    if PERSONAL.search(text):
        return PRIVATE_ANSWER, "private"
    return ANSWERS.get(queue or "", DEFAULT_ANSWER), "public"


class SimulatedAgent:
    """One agent's working loop; ``run`` returns when ``stop`` is set."""

    def __init__(
        self, base_url: str, email: str, password: str, seed: int, stop: threading.Event,
        timing: BotTiming = BotTiming(),
    ) -> None:
        self.email = email
        self._password = password
        self._client = ApiClient(base_url)
        self._random = random.Random(seed)
        self._stop = stop
        self._timing = timing
        self._work: dict[str, _Work] = {}
        self.answered = 0
        self.resolved = 0
        self.errors = 0

    def run(self) -> None:
        try:
            self._client.login(self.email, self._password)
            self._client.set_status("online")
            while not self._stop.is_set():
                self._step()
                self._stop.wait(self._timing.poll_every)
            self._client.set_status("offline")
        except ApiError as error:
            if not self._stop.is_set():  # the server going away at shutdown is expected
                log.warning("simulated agent %s stopped: %s", self.email, error)
        finally:
            self._client.close()

    def _step(self) -> None:
        for status in ("new", "open"):  # resolved work piles up: never page through it
            for item in self._client.conversations(assignee="me", status=status, limit=50):
                if item["id"] not in self._work:
                    self._attempt(item["id"], functools.partial(self._take, item))
        now = time.monotonic()
        for work in [w for w in self._work.values() if w.due <= now]:
            if self._stop.is_set():
                return
            self._attempt(work.conversation_id, functools.partial(self._advance, work))

    def _attempt(self, conversation_id: str, action: Callable[[], None]) -> None:
        """A refusal (taken over, resolved meanwhile) drops the work; still ours, the next poll finds it again."""
        try:
            action()
        except ApiError as error:
            if error.status == 0:
                raise
            self.errors += 1
            self._work.pop(conversation_id, None)
            log.info("simulated agent %s: %s", self.email, error)

    def _take(self, item: dict[str, Any]) -> None:
        if item["status"] == "new":
            self._client.act(item["id"], "accept")
        self._work[item["id"]] = _Work(item["id"], self._after(self._timing.answer_after))

    def _advance(self, work: _Work) -> None:
        if not work.answered:
            self._answer(work.conversation_id)
            work.answered = True
            work.due = self._after(self._timing.resolve_after)
            return
        del self._work[work.conversation_id]
        self._client.act(work.conversation_id, "resolve")
        self.resolved += 1

    def _answer(self, conversation_id: str) -> None:
        conversation = self._client.conversation(conversation_id)
        text, visibility = choose_reply(_last_customer_text(conversation), conversation.get("queue"))
        self._client.act(conversation_id, "replies", {"text": text, "visibility": visibility})
        self.answered += 1
        roll = self._random.random()
        if roll < 0.3:
            self._client.act(conversation_id, "tags", {"add": [self._random.choice(TAGS)], "remove": []})
        elif roll < 0.45:
            self._client.act(conversation_id, "notes", {"text": "Simulated agent: answered with a canned reply."})

    def _after(self, bounds: tuple[float, float]) -> float:
        return time.monotonic() + self._random.uniform(*bounds)


def _last_customer_text(conversation: dict[str, Any]) -> str:
    inbound = [m for m in conversation.get("messages", []) if m.get("direction") == "inbound"]
    return str(inbound[-1].get("text", "")) if inbound else ""


def start_agents(agents: list[SimulatedAgent]) -> list[threading.Thread]:
    threads = [threading.Thread(target=a.run, name=f"demo-agent-{a.email}", daemon=True) for a in agents]
    for thread in threads:
        thread.start()
    return threads
