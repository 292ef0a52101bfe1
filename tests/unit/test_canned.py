"""Canned responses' variables: checked when saved, filled in per conversation (canned/model.py)."""

from __future__ import annotations

import pytest

from careline.canned.model import check, expand, order_id
from careline.kernel.errors import InvalidInput


def test_known_variables_are_filled_and_unknown_values_stay_for_the_agent() -> None:
    text = "Hi {customer_name}, {agent_name} from {brand} here: order {order_id} left today."
    values = {"customer_name": "Mia", "agent_name": "Ana", "brand": "Acme", "order_id": None}
    assert expand(text, values) == "Hi Mia, Ana from Acme here: order {order_id} left today."


def test_a_misspelt_variable_is_refused_when_saved() -> None:
    with pytest.raises(InvalidInput, match=r"unknown variable \{custmer_name\}"):
        check("greeting", "Hi {custmer_name}")
    with pytest.raises(InvalidInput, match="title"):
        check("   ", "Hi")
    assert check("  greeting ", " Hi {customer_name} ") == ("greeting", "Hi {customer_name}")


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["my order 123456 never came"], "123456"),
        (["Booking ref: AB12CD please", "and the confirmation #XK-4471"], "XK-4471"),
        (["I ordered twice", "order status?"], None),  # words, no reference
        (["no reference here"], None),
    ],
)
def test_the_order_reference_is_the_last_one_the_customer_wrote(texts: list[str], expected: str | None) -> None:
    assert order_id(texts) == expected
