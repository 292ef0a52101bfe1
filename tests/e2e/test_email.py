"""Email end to end: mail sent by smtplib to the SMTP receiver `careline serve` runs becomes the customer's
conversation (stored before 250), an agent's reply leaves by SMTP on the mail thread (captured by a test SMTP
server), the customer's answer joins the conversation, and attachments are downloaded by agents."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from careline.adapters.db import tables as t
from careline.adapters.secret_box import new_key
from careline.bootstrap import Careline
from careline.config import Settings
from careline.entrypoints.api.server import ServerHandle
from e2e.conftest import wait_for
from integration.dovecot import free_port
from integration.mail import SmtpServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
ADDRESS = "support@acme.test"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        secret_key=SecretStr(new_key()),
        smtp_receiver_port=free_port(),
        email_max_attachment_bytes=1000,  # the receipt (2 KB) is over it: recorded as skipped
        email_max_message_bytes=64 * 1024,
        delivery_poll_seconds=0.05,
    )


@pytest.fixture
def outgoing(client: httpx.Client, admin: dict[str, str]) -> Iterator[SmtpServer]:
    """The relay replies go through, and the email account that uses it, set up by an admin through the API."""
    with SmtpServer() as relay:
        response = client.post("/api/v1/channel-accounts", json={"kind": "email", "name": ADDRESS}, headers=admin)
        assert response.status_code == 201, response.text
        relay_settings = {"smtp_host": "127.0.0.1", "smtp_port": relay.port, "smtp_security": "none"}
        response = client.put(f"/api/v1/email/accounts/{ADDRESS}/settings", json=relay_settings, headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["smtp_port"] == relay.port and response.json()["imap_tls"] is True
        yield relay


def send(app: Careline, raw: bytes, to: str = ADDRESS) -> dict[str, Any]:
    """Send by SMTP to the receiver; the answer to DATA has come back when this returns."""
    with smtplib.SMTP("127.0.0.1", app.settings.smtp_receiver_port or 0, timeout=10) as smtp:
        return smtp.sendmail("casey@example.org", [to], raw)


def messages(app: Careline) -> list[sa.Row[Any]]:
    m = t.messages.c
    with app.engine.connect() as db:
        return list(db.execute(sa.select(t.messages).order_by(m.received_at, m.id)))


def test_mail_is_stored_before_250_and_the_agents_reply_leaves_on_the_thread(
    app: Careline, client: httpx.Client, server: ServerHandle, outgoing: SmtpServer,
    make_agent: Callable[..., tuple[dict[str, Any], dict[str, str]]],
) -> None:  # fmt: skip
    assert send(app, (FIXTURES / "plain.eml").read_bytes()) == {}  # 250 for every recipient
    [first] = messages(app)  # already committed: 250 came after the commit
    assert (first.author_external_id, first.visibility) == ("casey@example.org", "private")
    with app.engine.connect() as db:
        identity = db.execute(sa.select(t.identities).where(t.identities.c.customer_id == first.customer_id)).one()
    assert (identity.channel, identity.external_id) == ("email", "casey@example.org")

    _, ana = make_agent("Ana")
    reply = client.post(
        f"/api/v1/conversations/{first.conversation_id}/replies",
        json={"text": "We are sending a new kettle today.", "visibility": "private"},
        headers=ana,
    )
    assert reply.status_code == 201, reply.text
    wait_for(lambda: outgoing.received, what="the reply at the SMTP relay")
    sender, recipients, mail = outgoing.received[0]
    assert (sender, recipients) == ("<support@acme.test>", ["casey@example.org"])
    assert_reply_headers(mail, reply.json()["id"])
    assert "We are sending a new kettle today." in str(mail.get_payload())
    wait_for(lambda: messages(app)[-1].delivery_status == "delivered", what="the reply recorded as delivered")

    # The customer answers our reply: their mail program sets In-Reply-To to our Message-ID.
    answer = (FIXTURES / "reply.eml").read_bytes().replace(b"<msg_0001@acme.test>", mail["Message-ID"].encode())
    send(app, answer)
    stored = messages(app)
    assert [m.conversation_id for m in stored] == [first.conversation_id] * 3
    assert stored[-1].reply_to_platform_id == mail["Message-ID"]


def assert_reply_headers(mail: Message, message_id: str) -> None:
    assert mail["To"] == "casey@example.org"
    assert mail["From"] == "support@acme.test"
    assert mail["Subject"] == "Re: My order never arrived"
    assert mail["Message-ID"] == f"<{message_id}@acme.test>"
    assert mail["In-Reply-To"] == "<CAB1234@mail.example.org>"
    assert mail["References"] == "<CAB1234@mail.example.org>"


def test_the_receiver_refuses_unknown_recipients_and_oversized_mail(app: Careline, outgoing: SmtpServer) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(app, (FIXTURES / "plain.eml").read_bytes(), to="nobody@acme.test")
    assert refused.value.recipients["nobody@acme.test"][0] == 550
    huge = (FIXTURES / "plain.eml").read_bytes() + b"x" * (70 * 1024) + b"\r\n"
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as too_big:
        send(app, huge)
    assert too_big.value.smtp_code == 552
    send(app, (FIXTURES / "auto_reply.eml").read_bytes())  # accepted, and ignored on purpose
    assert messages(app) == []


def test_agents_download_attachments_and_see_the_skipped_ones(
    app: Careline, client: httpx.Client, admin: dict[str, str], outgoing: SmtpServer
) -> None:
    send(app, (FIXTURES / "attachment.eml").read_bytes())
    [message] = messages(app)
    listed = client.get("/api/v1/attachments", params={"conversation_id": message.conversation_id}, headers=admin)
    assert listed.status_code == 200, listed.text
    receipt, notes = sorted(listed.json(), key=lambda a: a["filename"], reverse=True)
    assert receipt["filename"] == "receipt.pdf" and "1000 bytes" in receipt["skipped_reason"]
    assert notes["filename"] == "notes.txt" and notes["skipped_reason"] is None
    download = client.get(f"/api/v1/attachments/{notes['id']}", headers=admin)
    assert download.status_code == 200 and download.content == b"a small note"
    assert download.headers["content-disposition"].startswith('attachment; filename="notes.txt"')
    assert download.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/api/v1/attachments/{receipt['id']}", headers=admin).status_code == 404  # not stored
    assert client.get(f"/api/v1/attachments/{notes['id']}").status_code == 401

    # The desktop: the conversation page links the file, and the session cookie (the same token) downloads it.
    session = {"Cookie": f"careline_session={admin['Authorization'].removeprefix('Bearer ')}"}
    page = client.get(f"/conversations/{message.conversation_id}", headers=session)
    assert page.status_code == 200 and f'href="/api/v1/attachments/{notes["id"]}"' in page.text
    assert "receipt.pdf (2" in page.text and "not stored" in page.text
    assert client.get(f"/api/v1/attachments/{notes['id']}", headers=session).content == b"a small note"
