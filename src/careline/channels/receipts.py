"""Delivery and read receipts: what a platform reports about replies it carried (docs/channels.md#receipts).

Pure: the receipt as the webhook parsers produce it, and the one rule for a reply's delivery status under
receipts: it only moves forward (queued or failed, then delivered, then read), and read implies delivered.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

DELIVERED, READ = "delivered", "read"
# Where a receipt may take a reply's delivery status; any other status (awaiting approval, rejected, imported
# history) is not a reply the platform carried for us, and stays as it is.
PROGRESS = {"queued": 0, "failed": 0, DELIVERED: 1, READ: 2}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Receipt:
    """The platform says the customer ``reader`` received (``delivered``) or saw (``read``) our replies: those it
    names by id, and, with a ``watermark``, every one sent to them up to that time."""

    status: str  # delivered | read
    reader: str  # the customer's id on the channel (a page-scoped id)
    platform_message_ids: tuple[str, ...] = ()
    watermark: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in (DELIVERED, READ):
            raise ValueError(f"a receipt says delivered or read, not {self.status!r}")


def advanced(current: str | None, reported: str) -> str | None:
    """The reply's new delivery status after a receipt, or None when the receipt changes nothing (a repeat, an
    older news than what is known, or a status receipts do not touch)."""
    if current not in PROGRESS or PROGRESS[reported] <= PROGRESS[current]:
        return None
    return reported
