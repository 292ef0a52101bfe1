"""The email parser, one test per fixture (tests/fixtures/email, RFC 5322 as mail programs write it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from careline.channels.adapters.email import EmailLimits, ParsedEmail, parse_email, trim_quoted
from careline.ingestion.model import InboundMessage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"
ACCOUNT = "support@acme.test"


def parse(name: str, **options: object) -> ParsedEmail:
    return parse_email((FIXTURES / name).read_bytes(), account=ACCOUNT, **options)  # type: ignore[arg-type]


def message(name: str, **options: object) -> InboundMessage:
    parsed = parse(name, **options)
    assert parsed.ignored is None
    assert parsed.message is not None
    return parsed.message


def test_plain_mail_is_a_private_message_from_the_sender_address() -> None:
    found = message("plain.eml")
    assert found.channel == "email" and found.account == ACCOUNT and found.visibility == "private"
    assert found.platform_message_id == "<CAB1234@mail.example.org>"
    assert found.author_id == "casey@example.org"  # lower-cased: one identity whatever the case
    assert found.author_name == "Casey Jones"
    assert found.text.startswith("My order never arrived\n\nHello,\n\nI ordered a kettle")  # a new thread: subject
    assert found.text.endswith("Casey")
    assert found.created_at == datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    assert found.reply_to is None and found.thread_key == "<CAB1234@mail.example.org>"
    assert found.raw is not None and found.raw["subject"] == "My order never arrived"
    assert found.raw["to"] == ["support@acme.test"]
    assert found.attachments == ()


def test_html_only_mail_is_read_as_text_and_kept_sanitised() -> None:
    found = message("html_only.eml")
    assert "My invoice is wrong." in found.text and "Thanks" in found.text
    assert "alert" not in found.text and "color: red" not in found.text and "document.location" not in found.text
    assert found.raw is not None
    html = found.raw["html"]
    for dangerous in ("<script", "onload", "onerror", "onclick", "javascript:", "tracker.example", "<style"):
        assert dangerous not in html, dangerous
    assert '<a href="https://acme.test/help"' in html and "<b>invoice</b>" in html


def test_attachments_are_kept_with_safe_names() -> None:
    found = message("attachment.eml")
    assert found.text == "Receipt attached\n\nHere is my receipt."  # the plain alternative, not the HTML one
    receipt, notes = found.attachments
    assert (receipt.filename, receipt.content_type, receipt.skipped) == ("receipt.pdf", "application/pdf", None)
    assert receipt.data is not None and receipt.data.startswith(b"%PDF-1.4") and receipt.size == len(receipt.data)
    assert (notes.filename, notes.data) == ("notes.txt", b"a small note")


def test_attachments_over_the_limits_are_recorded_as_skipped() -> None:
    found = message("attachment.eml", limits=EmailLimits(max_attachment_bytes=1000, max_attachments_bytes=10))
    receipt, notes = found.attachments
    assert receipt.data is None and receipt.skipped is not None and "1000 bytes" in receipt.skipped
    assert receipt.size > 1000
    assert notes.data is None and notes.skipped is not None and "10 bytes" in notes.skipped


def test_reply_threads_on_the_root_of_references_and_drops_the_quote() -> None:
    found = message("reply.eml")
    assert found.reply_to == "<msg_0001@acme.test>"
    assert found.thread_key == "<CAB1234@mail.example.org>"  # the first mail's id: the same conversation
    assert found.text == "It still has not arrived. Can you refund me?"
    assert found.raw is not None and found.raw["references"] == ["<CAB1234@mail.example.org>", "<msg_0001@acme.test>"]


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("auto_reply.eml", "auto-submitted"),
        ("bounce.eml", "multipart/report"),
        ("bulk.eml", "Precedence bulk"),
        ("own_address.eml", "account's own address"),
    ],
)
def test_automatic_mail_and_our_own_are_ignored_on_purpose(fixture: str, reason: str) -> None:
    parsed = parse(fixture)
    assert parsed.message is None
    assert parsed.ignored is not None and reason in parsed.ignored


def test_a_bounce_without_a_report_part_is_still_a_bounce() -> None:
    raw = (FIXTURES / "plain.eml").read_bytes().replace(b"Casey@Example.org", b"MAILER-DAEMON@mx.example.org")
    parsed = parse_email(raw, account=ACCOUNT)
    assert parsed.ignored is not None and "bounce" in parsed.ignored


def test_a_mail_in_a_legacy_charset_is_decoded() -> None:
    found = message("latin1.eml")
    assert found.author_name == "Zoë Durand"
    assert found.raw is not None and found.raw["subject"] == "Commande non arrivée"
    assert "n'est pas arrivée. Très déçu" in found.text


def test_a_mail_without_message_id_gets_a_stable_one() -> None:
    first, again = message("no_message_id.eml"), message("no_message_id.eml")
    assert first.platform_message_id == again.platform_message_id  # a repeat is a duplicate, not a new message
    assert first.platform_message_id.startswith("<careline-") and first.thread_key == first.platform_message_id


def test_only_headers_read_for_an_oversized_mail() -> None:
    found = message("attachment.eml", body_omitted="(not imported: 50 MB, over the limit)")
    assert found.text == "Receipt attached\n\n(not imported: 50 MB, over the limit)" and found.attachments == ()


def test_a_quote_is_kept_when_it_is_all_there_is() -> None:
    assert trim_quoted("> only a quote") == "> only a quote"
    assert trim_quoted("Yes.\n\n> did it arrive?\n> A") == "Yes."
    assert trim_quoted("See below\n> quoted\nmy answer") == "See below\n> quoted\nmy answer"  # inline answers


def test_nul_characters_never_reach_ingestion() -> None:
    raw = (FIXTURES / "plain.eml").read_bytes().replace(b"Hello,", b"Hel\x00lo,").replace(b"My order", b"My\x00 order")
    found = parse_email(raw, account=ACCOUNT).message
    assert found is not None and "\x00" not in found.text and "\nHello," in found.text
    assert found.raw is not None and found.raw["subject"] == "My order never arrived"
