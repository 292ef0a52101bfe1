"""@mentions in internal notes and customers' notes and CRM fields: the pure rules (conversations/model.py,
contacts/model.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from careline.contacts.model import Customer
from careline.conversations.model import mentioned
from careline.kernel.errors import InvalidInput

PEOPLE = [
    ("a1", "Ana Lopez", "ana.lopez@acme.example"),
    ("a2", "Bo", "bo@acme.example"),
    ("a3", "Ana Smith", "asmith@acme.example"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@bo can you check the refund?", ["a2"]),
        ("cc @ana.lopez and @ASMITH.", ["a1", "a3"]),  # email local parts, any case, trailing dot
        ("@AnaLopez knows this customer", ["a1"]),  # the name without spaces
        ("@ana knows", []),  # two Anas: ambiguous, nobody
        ("write to bo@acme.example", []),  # an email address is no mention
        ("no mention here", []),
    ],
)
def test_who_a_note_mentions(text: str, expected: list[str]) -> None:
    assert mentioned(text, PEOPLE) == expected


def test_a_customer_profile_keeps_notes_and_fields_and_logs_which_changed() -> None:
    customer = Customer(id="cus_1", display_name="Mia", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    at = datetime(2026, 1, 2, tzinfo=UTC)
    customer.update_profile(
        " Prefers email. ", {"plan": "gold", "account number": "A-77", "empty": " "}, at=at, actor="agent:a1"
    )
    assert customer.notes == "Prefers email." and customer.fields == {"plan": "gold", "account number": "A-77"}
    [event] = customer.events
    assert event.name == "customer.profile_changed" and event.data()["fields"] == ["account number", "plan"]
    customer.update_profile("Prefers email.", {"plan": "gold", "account number": "A-77"}, at=at, actor="agent:a1")
    assert len(customer.events) == 1  # nothing changed: nothing logged
    customer.update_profile("Prefers email.", {"plan": "silver", "account number": ""}, at=at, actor="agent:a1")
    assert customer.fields == {"plan": "silver"} and customer.events[-1].data()["fields"] == ["account number", "plan"]
    with pytest.raises(InvalidInput, match="field name"):
        customer.update_profile("", {"!bad": "x"}, at=at, actor="agent:a1")
    with pytest.raises(InvalidInput, match="notes"):
        customer.update_profile("x" * 5001, {}, at=at, actor="agent:a1")
