"""Email, inbound: RFC 5322 bytes to an InboundMessage (docs/channels.md#email). Pure: no I/O.

Both transports (the IMAP poller, adapters/imap_poller.py, and the SMTP receiver, adapters/smtp_receiver.py) hand
the raw bytes here. The text is the plain part (else the HTML as text), without the quoted mail under a reply; a
mail that starts a thread begins with its subject. Threading uses the mail's own ids: ``reply_to`` is In-Reply-To,
and ``thread_key`` is the root of References (else In-Reply-To, else the mail's own Message-ID), so a thread is one
conversation whatever order its mails arrive in. Ignored on purpose, with the reason: auto-replies (a reply to an
auto-reply loops forever), bounces (they come from the mail system, not the customer), and mail from the account's
own address (our own replies coming back, e.g. a copy in the inbox).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Collection
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

from careline.channels.adapters.email_html import html_to_text, sanitize_html
from careline.ingestion.model import InboundAttachment, InboundMessage

CHANNEL = "email"
MAX_TEXT = 20_000  # ingestion's limit on a message's text (ingestion/writer.py)
MAX_ID = 200  # the width of platform ids in the database; longer Message-IDs are replaced by their hash
MAX_HTML = 200_000  # sanitised HTML kept for display; a longer one is not kept (the text always is)
MAX_REFERENCES = 50
AUTO_PRECEDENCE = {"bulk", "auto_reply", "list", "junk"}
QUOTE_HEADER = re.compile(r"^(On .{1,300} wrote:|-{2,} ?Original Message ?-{2,}|_{10,})\s*$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class EmailLimits:
    """How much of a mail's attachments is stored (config.py: CARELINE_EMAIL_MAX_*)."""

    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments_bytes: int = 25 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ParsedEmail:
    """One mail: the message to ingest, or why it is ignored on purpose."""

    message: InboundMessage | None = None
    ignored: str | None = None


def parse_email(
    raw: bytes,
    *,
    account: str,
    own_addresses: Collection[str] = (),
    limits: EmailLimits = EmailLimits(),
    body_omitted: str | None = None,
) -> ParsedEmail:
    """The mail for ``account`` (the mailbox's address, which is also one of its own addresses).

    ``body_omitted``: only the headers were read (the mail is over the size limit); the text says why.
    """
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)  # policy.default builds EmailMessage
    name, address = parseaddr(str(mail.get("From", "")).replace("\x00", ""))
    address = address.strip().lower()
    reason = _ignored(mail, address, {account.lower(), *(a.lower() for a in own_addresses)})
    if reason:
        return ParsedEmail(ignored=reason)
    if len(address) > MAX_ID:
        return ParsedEmail(ignored=f"sender address longer than {MAX_ID} characters")
    own_id = _message_id(mail.get("Message-ID")) or _stable_id(raw)
    in_reply_to = _message_id(mail.get("In-Reply-To"))
    references = _references(mail.get("References"))
    subject = str(mail.get("Subject", "") or "").replace("\x00", "").strip()
    plain, html = _bodies(mail)
    text = plain if plain is not None else html_to_text(html or "")
    text = text.replace("\r\n", "\n").replace("\x00", "")  # NUL: never valid text, and refused by ingestion
    text = body_omitted or trim_quoted(text).strip()
    if subject and not in_reply_to and not references and not text.startswith(subject):
        text = f"{subject}\n\n{text}".strip()  # a new thread's subject says what it is about (agents, triage)
    text = text or subject or "(no text)"
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 20].rstrip() + "\n[… text shortened]"
    attachments = () if body_omitted else _attachments(mail, limits)
    extra: dict[str, Any] = {}
    if html is not None and not body_omitted:
        cleaned = sanitize_html(html.replace("\x00", ""))
        if len(cleaned) <= MAX_HTML:
            extra["html"] = cleaned
    message = InboundMessage(
        channel=CHANNEL,
        account=account,
        platform_message_id=own_id,
        author_id=address,
        author_name=name.strip() or None,
        text=text,
        created_at=_date(mail.get("Date")),
        visibility="private",
        reply_to=in_reply_to,
        thread_key=references[0] if references else in_reply_to or own_id,
        raw={
            "subject": subject,
            "from": address,
            "to": _addresses(mail, "To"),
            "cc": _addresses(mail, "Cc"),
            "message_id": own_id,
            "references": references,
            **extra,
        },
        attachments=attachments,
    )
    return ParsedEmail(message=message)


def _ignored(mail: EmailMessage, sender: str, own: set[str]) -> str | None:
    """Why this mail is not a customer's, or None when it is."""
    auto = str(mail.get("Auto-Submitted", "no")).strip().lower()
    if auto != "no":
        return f"auto-submitted ({auto}): an automatic reply"
    if mail.get("X-Autoreply") is not None or mail.get("X-Autorespond") is not None:
        return "X-Autoreply: an automatic reply"
    precedence = str(mail.get("Precedence", "")).strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence {precedence}: bulk or automatic mail"
    if mail.get_content_type() == "multipart/report":
        return "multipart/report: a delivery or read report"
    if sender.split("@", 1)[0] in ("mailer-daemon", "postmaster") or str(mail.get("Return-Path", "")).strip() == "<>":
        return f"bounce from {sender or 'the null sender'}"
    if not sender or "@" not in sender:
        return "no sender address"
    if sender in own:
        return f"sent by the account's own address {sender} (our own reply coming back)"
    return None


def _bodies(mail: EmailMessage) -> tuple[str | None, str | None]:
    """The text/plain and text/html bodies, each when the mail has one."""
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    return (_content(plain) if plain else None), (_content(html) if html else None)


def _content(part: Any) -> str:
    """A text part's content; a charset Python does not know is read as UTF-8 with replacements, not refused."""
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        return bytes(payload).decode("utf-8", errors="replace")


def trim_quoted(text: str) -> str:
    """The reply without the previous mail quoted below it ("On … wrote:" and "> " lines), when that is what
    ends it; the whole text when trimming would leave nothing."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        rest = lines[index + 1 :]
        quoted_tail = all(not r.strip() or r.lstrip().startswith(">") for r in rest)
        if QUOTE_HEADER.match(line.strip()) or (line.lstrip().startswith(">") and quoted_tail):
            kept = "\n".join(lines[:index]).strip()
            return kept or text
    return text


def _attachments(mail: EmailMessage, limits: EmailLimits) -> tuple[InboundAttachment, ...]:
    """Every attached file: stored while within the limits, otherwise recorded as skipped with the reason."""
    found: list[InboundAttachment] = []
    stored = 0
    for number, part in enumerate(mail.iter_attachments(), start=1):
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else part.as_bytes()  # an attached mail: its bytes
        name = _filename(part.get_filename(), number)
        kind = part.get_content_type()
        if len(data) > limits.max_attachment_bytes:
            skipped = f"larger than the {limits.max_attachment_bytes} bytes allowed for one attachment"
        elif stored + len(data) > limits.max_attachments_bytes:
            skipped = f"the mail's attachments are over the {limits.max_attachments_bytes} bytes allowed"
        else:
            stored += len(data)
            found.append(InboundAttachment(name, kind, len(data), data))
            continue
        found.append(InboundAttachment(name, kind, len(data), None, skipped))
    return tuple(found)


def _filename(name: str | None, number: int) -> str:
    """A file name safe to offer for download: no directories, no control characters, not too long."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    return base[-200:] or f"attachment-{number}"


def _message_id(value: Any) -> str | None:
    """The first Message-ID in a header, with its angle brackets (the form References repeats)."""
    ids = _ids(str(value)) if value else []
    return ids[0] if ids else None


def _references(value: Any) -> list[str]:
    """References oldest first; a very long chain keeps its root and its latest ids."""
    ids = _ids(str(value)) if value else []
    return ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]


def _ids(header: str) -> list[str]:
    found = re.findall(r"<[^<>\s\x00]+>", header)
    if not found and header.strip() and not re.search(r"[\s\x00<>]", header.strip()):
        found = [f"<{header.strip().strip('<>')}>"]  # some mailers forget the brackets
    return [_bounded(i) for i in found]


def _bounded(message_id: str) -> str:
    if len(message_id) <= MAX_ID:
        return message_id
    return "<sha256:" + hashlib.sha256(message_id.encode()).hexdigest() + ">"


def _stable_id(raw: bytes) -> str:
    """A Message-ID for a mail without one: the same bytes always get the same id, so a repeat is a duplicate."""
    return f"<careline-{hashlib.sha256(raw).hexdigest()[:40]}@missing-message-id>"


def _date(value: Any) -> datetime | None:
    try:
        found = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    return found if found is not None and found.tzinfo is not None else None


def _addresses(mail: EmailMessage, header: str) -> list[str]:
    return [address.lower() for _, address in getaddresses([str(v) for v in mail.get_all(header, [])]) if address]
