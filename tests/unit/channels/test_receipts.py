"""A reply's delivery status under platform receipts only moves forward, and read implies delivered."""

from __future__ import annotations

import pytest

from careline.channels.receipts import Receipt, advanced


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        ("queued", "delivered", "delivered"),
        ("failed", "delivered", "delivered"),  # it did reach them after all
        ("delivered", "read", "read"),
        ("queued", "read", "read"),  # read implies delivered
        ("delivered", "delivered", None),  # a repeat
        ("read", "delivered", None),  # never backwards
        ("read", "read", None),
        ("awaiting_approval", "read", None),  # not a reply the platform carried
        ("external", "delivered", None),
        (None, "read", None),
    ],
)
def test_delivery_status_only_moves_forward(current: str | None, reported: str, expected: str | None) -> None:
    assert advanced(current, reported) == expected


def test_a_receipt_says_delivered_or_read() -> None:
    with pytest.raises(ValueError, match="delivered or read"):
        Receipt(status="sent", reader="6100000000000001")
