"""Email over IMAP against a real Dovecot (tests/integration/dovecot.py): mail delivered into the mailbox becomes
the right customer's conversation, threads join whatever their order, and nothing is stored twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from careline.adapters.db import tables as t
from careline.adapters.imap_poller import Mailbox, MailboxPollers
from careline.adapters.secret_box import new_key
from careline.agents import commands as admin
from careline.bootstrap import Careline
from careline.channels.email_config import ConfigureEmailAccount
from careline.channels.model import ChannelAccount
from careline.config import Settings
from careline.entrypoints.cli.setup import ensure_defaults
from conftest import _unavailable
from e2e.conftest import wait_for
from integration import dovecot as dovecot_server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[dovecot_server.Dovecot]:
    if not dovecot_server.available():
        _unavailable(f"no dovecot at {dovecot_server.DOVECOT} (run scripts/install, or set CARELINE_TEST_DOVECOT)")
    server = dovecot_server.Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url, secret_key=SecretStr(new_key()))


@pytest.fixture
def app(app: Careline) -> Careline:
    ensure_defaults(app)  # the default queue
    return app


def email_account(app: Careline, dovecot: dovecot_server.Dovecot) -> ChannelAccount:
    """An email account on a fresh Dovecot mailbox, configured the way an admin does it."""
    address = dovecot.mailbox()
    account: ChannelAccount = app.handle(admin.CreateChannelAccount(kind="email", name=address))
    admin_id = app.handle(admin.CreateAgent(name="Root", email=f"root-{address}", role="admin")).id
    settings = {"imap_host": dovecot.host, "imap_port": dovecot.port, "imap_tls": False}
    app.handle(ConfigureEmailAccount(account=address, agent_id=admin_id, **settings))
    app.handle(admin.SetChannelSecrets(account_id=account.id, secrets=(("imap_password", dovecot_server.PASSWORD),)))
    with app.uow(read_only=True) as uow:
        return uow.accounts.get(account.id)


def mailbox(app: Careline, account: ChannelAccount) -> Mailbox:
    return Mailbox(app, account, dovecot_server.PASSWORD, poll_seconds=60)


def fixture(name: str, account: ChannelAccount) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"support@acme.test", account.name.encode())


def stored(app: Careline) -> list[sa.Row[tuple[str, str, str, str, str]]]:
    """(platform id, conversation, customer, the customer's email identity, text) of every message, in order."""
    m, i = t.messages.c, t.identities.c
    with app.engine.connect() as db:
        return list(
            db.execute(
                sa.select(m.platform_message_id, m.conversation_id, m.customer_id, i.external_id, m.text)
                .join(t.identities, sa.and_(i.customer_id == m.customer_id, i.channel == "email"))
                .order_by(m.received_at, m.id)
            )
        )


def test_a_mail_in_the_mailbox_becomes_the_senders_conversation(app: Careline, dovecot: dovecot_server.Dovecot) -> None:
    account = email_account(app, dovecot)
    dovecot.append(account.name, fixture("plain.eml", account))
    dovecot.append(account.name, fixture("auto_reply.eml", account))  # ignored on purpose, but passed
    assert mailbox(app, account).poll_once() == 2
    [(platform_id, _, _, identity, text)] = stored(app)
    assert (platform_id, identity) == ("<CAB1234@mail.example.org>", "casey@example.org")
    assert text.startswith("My order never arrived\n\nHello,")
    assert all(b"\\Seen" in line for line in dovecot.flags(account.name))  # marked once stored


def test_a_thread_is_one_conversation_whatever_order_its_mails_arrive_in(
    app: Careline, dovecot: dovecot_server.Dovecot
) -> None:
    account = email_account(app, dovecot)
    dovecot.append(account.name, fixture("reply.eml", account))  # the customer's second mail, first
    assert mailbox(app, account).poll_once() == 1
    dovecot.append(account.name, fixture("plain.eml", account))
    dovecot.append(account.name, fixture("latin1.eml", account))  # another customer, another conversation
    assert mailbox(app, account).poll_once() == 2
    rows = stored(app)
    by_id = {row.platform_message_id: row for row in rows}
    reply, first = by_id["<CAB5678@mail.example.org>"], by_id["<CAB1234@mail.example.org>"]
    assert reply.conversation_id == first.conversation_id and reply.customer_id == first.customer_id
    other = by_id["<latin1-1@example.fr>"]
    assert other.conversation_id != first.conversation_id and other.external_id == "zoe@example.fr"


def test_a_restarted_poller_stores_nothing_twice(app: Careline, dovecot: dovecot_server.Dovecot) -> None:
    account = email_account(app, dovecot)
    dovecot.append(account.name, fixture("plain.eml", account))
    dovecot.append(account.name, fixture("attachment.eml", account))
    assert mailbox(app, account).poll_once() == 2
    assert mailbox(app, account).poll_once() == 0  # a new poller (a restart) starts from the stored cursor
    c = t.imap_cursors.c
    with app.engine.begin() as db:
        # A crash after the commit but before the cursor moved, then a recreated folder (new UIDVALIDITY):
        # both read the mails again, and ingestion recognises them.
        db.execute(sa.update(t.imap_cursors).where(c.account_id == account.id).values(last_uid=0))
    assert mailbox(app, account).poll_once() == 2
    with app.engine.begin() as db:
        db.execute(sa.update(t.imap_cursors).where(c.account_id == account.id).values(uidvalidity=1, last_uid=9))
    assert mailbox(app, account).poll_once() == 2
    assert len(stored(app)) == 2
    with app.engine.connect() as db:
        files = db.execute(sa.select(t.attachments.c.filename).order_by(t.attachments.c.filename)).scalars()
        assert list(files) == ["notes.txt", "receipt.pdf"]  # stored once, with their message


def test_the_running_poller_picks_up_new_mail_by_idle(app: Careline, dovecot: dovecot_server.Dovecot) -> None:
    account = email_account(app, dovecot)
    pollers = MailboxPollers(app)
    pollers.run_once()  # starts this account's mailbox thread: it stores what is there, then IDLEs (60 s)
    try:
        dovecot.append(account.name, fixture("plain.eml", account))
        wait_for(lambda: stored(app), what="the first mail")
        dovecot.append(account.name, fixture("reply.eml", account))  # well within the 60 s poll: IDLE woke it
        rows = wait_for(lambda: len(stored(app)) == 2 and stored(app), what="the reply")
        assert rows[0].conversation_id == rows[1].conversation_id
    finally:
        pollers.close()
