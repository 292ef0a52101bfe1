"""Approval of public replies (docs/approvals.md): which replies wait for an approver, and the approver's decision.

Pure domain. A public reply is held when its agent needs approval or its text has one of the deployment's risky
words; private replies and notes never are. An approver (admin, supervisor or the social team, never the reply's
own author) approves it, possibly edited, or rejects it, once.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from careline.agents.model import Agent, Role
from careline.approvals import events as ev
from careline.kernel.errors import Conflict, Forbidden, InvalidInput
from careline.kernel.events import Event

AWAITING_APPROVAL = "awaiting_approval"  # a message's delivery_status while it waits
REJECTED = "rejected"
AGENT_RULE = "agent needs approval"
RISKY_RULE = "risky words"
APPROVER_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.SOCIAL)
# Promises and legal words a brand should not post without a second pair of eyes; each deployment sets its own.
DEFAULT_RISKY_WORDS = ("refund guaranteed", "lawsuit", "lawyer", "compensation", "free")
MAX_WORDS = 200
MAX_WORD = 100
MAX_REASON = 500
_WORD = re.compile(r"\w+(?:[ '-]\w+)*")  # a word or phrase that starts and ends on a word character


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def clean_words(words: Iterable[str]) -> tuple[str, ...]:
    """The words as stored: lower case, single spaces, each once, sorted; says which one is unusable."""
    cleaned: dict[str, None] = {}
    for word in words:
        if not isinstance(word, str):
            raise InvalidInput(f"risky words are strings, not {word!r}")
        normal = " ".join(word.lower().split())
        if not normal:
            continue
        if len(normal) > MAX_WORD or not _WORD.fullmatch(normal):
            raise InvalidInput(
                f"risky word {word!r}: 1-{MAX_WORD} characters of letters and digits, words apart by one space, "
                "'-' or \"'\""
            )
        cleaned[normal] = None
    if len(cleaned) > MAX_WORDS:
        raise InvalidInput(f"at most {MAX_WORDS} risky words")
    return tuple(sorted(cleaned))


@functools.lru_cache(maxsize=32)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words, case-insensitive, any whitespace between a phrase's words; longest first."""
    parts = sorted(set(words), key=lambda w: (-len(w), w))
    alternatives = "|".join(r"\s+".join(re.escape(piece) for piece in part.split()) for part in parts)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def risky_words_in(text: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """The risky words ``text`` contains, each once, in the order they first appear."""
    if not words:
        return ()
    found = (" ".join(match.lower().split()) for match in _pattern(words).findall(text))
    return tuple(dict.fromkeys(found))


def hold_reasons(
    agent: Agent, visibility: str, text: str, words: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(reasons, risky words found) for a reply; no reasons: it goes out at once."""
    if visibility != "public":
        return (), ()
    found = risky_words_in(text, words)
    reasons = [AGENT_RULE] if agent.needs_approval else []
    if found:
        reasons.append(f"{RISKY_RULE}: {', '.join(found)}")
    return tuple(reasons), found


@dataclasses.dataclass
class Approval:
    id: str
    conversation_id: str
    message_id: str
    requested_by: str  # the agent who wrote the reply
    requested_at: datetime
    original_text: str
    reasons: tuple[str, ...]
    risky_words: tuple[str, ...] = ()
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    final_text: str | None = None  # the text sent (the approver's, when edited)
    rejection_reason: str | None = None
    events: list[Event] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def request(
        cls,
        *,
        id: str,
        conversation_id: str,
        message_id: str,
        agent_id: str,
        text: str,
        reasons: tuple[str, ...],
        risky_words: tuple[str, ...],
        at: datetime,
    ) -> Approval:
        if not reasons:
            raise InvalidInput("an approval needs a reason to hold the reply")
        approval = cls(id, conversation_id, message_id, agent_id, at, text, reasons, risky_words)
        approval.events.append(
            ev.ReplyAwaitingApproval(
                occurred_at=at,
                actor=f"agent:{agent_id}",
                conversation_id=conversation_id,
                approval_id=id,
                message_id=message_id,
                agent_id=agent_id,
                reasons=reasons,
                risky_words=risky_words,
            )
        )
        return approval

    @property
    def edited(self) -> bool:
        return self.final_text is not None and self.final_text != self.original_text

    def approve(self, approver: Agent, text: str | None, *, at: datetime) -> str:
        """Decide to send it; returns the text to send (``text`` when given, else the agent's)."""
        self._ensure_decidable_by(approver)
        final = self.original_text if text is None else text
        if not final.strip():
            raise InvalidInput("an approved reply needs text")
        self.status, self.decided_by, self.decided_at, self.final_text = ApprovalStatus.APPROVED, approver.id, at, final
        self.events.append(
            ev.ReplyApproved(
                occurred_at=at,
                actor=f"agent:{approver.id}",
                conversation_id=self.conversation_id,
                approval_id=self.id,
                message_id=self.message_id,
                agent_id=self.requested_by,
                approver_id=approver.id,
                edited=self.edited,
                text=final if self.edited else None,
            )
        )
        return final

    def reject(self, approver: Agent, reason: str, *, at: datetime) -> None:
        self._ensure_decidable_by(approver)
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise InvalidInput(f"a rejection needs a reason of 1 to {MAX_REASON} characters")
        self.status, self.decided_by, self.decided_at = ApprovalStatus.REJECTED, approver.id, at
        self.rejection_reason = reason
        self.events.append(
            ev.ReplyRejected(
                occurred_at=at,
                actor=f"agent:{approver.id}",
                conversation_id=self.conversation_id,
                approval_id=self.id,
                message_id=self.message_id,
                agent_id=self.requested_by,
                approver_id=approver.id,
                reason=reason,
            )
        )

    def _ensure_decidable_by(self, approver: Agent) -> None:
        if approver.role not in APPROVER_ROLES:
            names = ", ".join(r.value for r in APPROVER_ROLES)
            raise Forbidden(f"approving replies needs the {names} role; you are {approver.role.value}")
        if approver.id == self.requested_by:
            raise Forbidden("nobody approves their own reply: another approver must decide")
        if self.status is not ApprovalStatus.PENDING:
            raise Conflict(f"approval {self.id} is {self.status.value} already")

    def pull_events(self) -> list[Event]:
        pulled, self.events = self.events, []
        return pulled
