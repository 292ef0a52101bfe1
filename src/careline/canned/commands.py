"""Commands of canned responses."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class SaveCannedResponse:
    """Create (no id) or change a canned response; supervisors and admins."""

    title: str
    text: str
    actor_id: str
    canned_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeleteCannedResponse:
    canned_id: str
    actor_id: str
