"""Email inbound over IMAP: one poller per mailbox, IDLE where the server offers it (docs/channels.md#email).

A mail is marked \\Seen, and the folder's cursor (``imap_cursors``: UIDVALIDITY and the last stored UID) moves past
it, only after its ingestion committed: a crash in between means it is fetched again, and ingestion (unique on the
account and Message-ID) stores nothing twice. A new UIDVALIDITY (the folder was recreated) restarts from its first
mail, for the same reason safely. Messages are fetched with BODY.PEEK so that reading never marks anything early.

Account config: ``imap_host``, ``imap_port`` (993, or 143 without TLS), ``imap_user`` (default the account's
address), ``imap_tls`` (default true; false only for a server on this machine), ``imap_folder`` (default INBOX),
and the secret ``imap_password``.
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import re
import select
import ssl
import threading
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.adapters.db.engine import write_transaction
from careline.channels.adapters.email import EmailLimits, parse_email
from careline.channels.model import ChannelAccount, ChannelKind, SecretsUnreadable
from careline.ingestion.commands import IngestMessages
from careline.kernel.clock import Clock

log = logging.getLogger(__name__)
IMAP_PASSWORD = "imap_password"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
TIMEOUT = 30.0
BATCH = 50  # mails fetched per search; the rest on the next pass, at once
MAX_IDLE_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes


class ImapError(Exception):
    """The server answered something other than OK; the poller reconnects after a pause."""


class Mailbox:
    """One account's folder: connects, stores what is new, waits (IDLE or a pause), again until stopped."""

    def __init__(self, careline: Any, account: ChannelAccount, password: str, *, poll_seconds: float) -> None:
        self._careline = careline
        self._engine: Engine = careline.engine
        self._clock: Clock = careline.clock
        self.account = account
        self._password = password
        self._poll_seconds = poll_seconds
        config = account.config
        self.folder = str(config.get("imap_folder") or "INBOX")
        self._limits = EmailLimits(
            careline.settings.email_max_attachment_bytes, careline.settings.email_max_attachments_bytes
        )
        self._max_message = careline.settings.email_max_message_bytes
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"careline-imap-{account.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                with connect(self.account.config, self.account.name, self._password) as imap:
                    failures = 0
                    self._session(imap)
            except (OSError, imaplib.IMAP4.error, ImapError, ssl.SSLError) as error:
                failures += 1
                log.warning("IMAP %s: %s; reconnecting", self.account.name, error)
            except Exception:  # noqa: BLE001 - e.g. the database is down: try again, never stop polling for good
                failures += 1
                log.exception("IMAP %s: pass failed; trying again", self.account.name)
            self.stopping.wait(min(2.0 ** min(failures, 6), 60.0))

    def poll_once(self) -> int:
        """One pass on a fresh connection (tests, and a one-off import): how many new mails were looked at."""
        with connect(self.account.config, self.account.name, self._password) as imap:
            return self.fetch_new(imap, self._select(imap))

    def _select(self, imap: imaplib.IMAP4) -> int:
        """Select the folder (read-write: mails are flagged \\Seen once stored); its UIDVALIDITY."""
        _ok(imap.select(_quoted(self.folder)), f"SELECT {self.folder}")
        _, validity = imap.response("UIDVALIDITY")  # the untagged answer SELECT carried
        if not validity or validity[0] is None:
            raise ImapError(f"SELECT {self.folder} reported no UIDVALIDITY")
        return int(validity[-1])

    def _session(self, imap: imaplib.IMAP4) -> None:
        validity = self._select(imap)
        idle = "IDLE" in imap.capabilities
        while not self.stopping.is_set():
            if self.fetch_new(imap, validity) or _changed(imap):
                continue  # mail came while storing: look again before waiting
            if idle:
                self._idle(imap, min(self._poll_seconds, MAX_IDLE_SECONDS))
            else:
                self.stopping.wait(self._poll_seconds)
                _ok(imap.noop(), "NOOP")

    def fetch_new(self, imap: imaplib.IMAP4, validity: int) -> int:
        """Store the mails after the cursor, each committed before the cursor moves past it; how many were seen."""
        last = self._cursor(validity)
        found = _ok(imap.uid("SEARCH", f"UID {last + 1}:*"), "UID SEARCH")
        uids = sorted(u for u in (int(x) for x in (found[0] or b"").split()) if u > last)[:BATCH]
        for uid in uids:
            if self.stopping.is_set():
                break
            self._store(imap, uid)
            self._advance(validity, uid)
            imap.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")  # a courtesy to people reading the box
        return len(uids)

    def _store(self, imap: imaplib.IMAP4, uid: int) -> None:
        size_answer = _ok(imap.uid("FETCH", str(uid), "(RFC822.SIZE)"), "UID FETCH size")
        size = int(_search(rb"RFC822\.SIZE (\d+)", size_answer) or b"0")
        omitted = None
        part = "BODY.PEEK[]"
        if size > self._max_message:
            part = "BODY.PEEK[HEADER]"
            omitted = f"(a mail of {size} bytes, over the {self._max_message} bytes limit: only its headers were read)"
        data = _ok(imap.uid("FETCH", str(uid), f"({part})"), "UID FETCH")
        raw = next((item[1] for item in data if isinstance(item, tuple)), None)
        if raw is None:
            log.warning("IMAP %s: UID %s has no body (deleted meanwhile?); skipped", self.account.name, uid)
            return
        parsed = parse_email(raw, account=self.account.name, limits=self._limits, body_omitted=omitted)
        if parsed.message is None:
            log.info("IMAP %s: UID %s ignored: %s", self.account.name, uid, parsed.ignored)
            return
        result = self._careline.handle(IngestMessages(items=(parsed.message,)))
        for item in result.items:
            if item.status == "rejected":  # permanent (the same bytes fail the same way): logged, not retried
                log.warning("IMAP %s: UID %s refused: %s", self.account.name, uid, item.error)

    def _idle(self, imap: imaplib.IMAP4, seconds: float) -> None:
        """RFC 2177 IDLE until the server reports a change, ``seconds`` pass or the poller stops.

        imaplib (3.11) has no IDLE: the command is sent by hand, and the connection is watched with select()
        rather than a read timeout, which would break imaplib's buffered reader; what that reader already holds
        (a change sent together with "+ idling") is looked at first.
        """
        tag = imap._new_tag()  # imaplib's own tags keep its bookkeeping right
        imap.send(tag + b" IDLE\r\n")
        if not imap.readline().startswith(b"+"):
            raise ImapError("IDLE refused")
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set() and time.monotonic() < deadline:
            step = min(1.0, max(deadline - time.monotonic(), 0))
            if _buffered(imap) or select.select([imap.sock], [], [], step)[0]:
                line = imap.readline()
                if not line:
                    raise ImapError("the server closed the connection")
                if line.startswith(b"*") and b"OK" not in line[:6]:
                    break  # EXISTS, EXPUNGE, RECENT...: look again
        imap.send(b"DONE\r\n")
        while not (line := imap.readline()).startswith(tag):
            if not line:
                raise ImapError("the server closed the connection")

    def _cursor(self, validity: int) -> int:
        c = t.imap_cursors.c
        with self._engine.connect() as db:
            row = db.execute(
                sa.select(c.uidvalidity, c.last_uid).where(c.account_id == self.account.id, c.folder == self.folder)
            ).first()
        if row is None:
            return 0
        if row.uidvalidity != validity:
            log.warning(
                "IMAP %s: %s has a new UIDVALIDITY (%s, was %s): reading it again from the start; stored mails "
                "are recognised by their Message-ID",
                self.account.name,
                self.folder,
                validity,
                row.uidvalidity,
            )
            return 0
        return int(row.last_uid)

    def _advance(self, validity: int, uid: int) -> None:
        c = t.imap_cursors.c
        values = {"uidvalidity": validity, "last_uid": uid, "updated_at": self._clock()}
        mine = (c.account_id == self.account.id, c.folder == self.folder)
        try:
            with write_transaction(self._engine) as db:
                moved = db.execute(
                    sa.update(t.imap_cursors)
                    .where(*mine, sa.or_(c.uidvalidity != validity, c.last_uid < uid))
                    .values(**values)
                ).rowcount
                if not moved and db.execute(sa.select(c.last_uid).where(*mine)).first() is None:
                    db.execute(
                        sa.insert(t.imap_cursors).values(account_id=self.account.id, folder=self.folder, **values)
                    )
        except sa_exc.IntegrityError:  # another process polling the same box wrote it first: it is as far
            log.info("IMAP %s: cursor written by another process", self.account.name)


def connect(config: dict[str, Any], address: str, password: str) -> imaplib.IMAP4:
    """A logged-in IMAP session; TLS unless the account says otherwise for a server on this machine."""
    host = str(config.get("imap_host") or "")
    tls = str(config.get("imap_tls", True)).lower() not in ("false", "0", "no")
    if not tls and host not in LOOPBACK:
        raise ImapError(f"imap_tls false is allowed only for a server on this machine, not {host}")
    port = int(config.get("imap_port") or (993 if tls else 143))
    imap: imaplib.IMAP4
    if tls:
        imap = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT)
    else:
        imap = imaplib.IMAP4(host, port, timeout=TIMEOUT)
    try:
        imap.login(str(config.get("imap_user") or address), password)
    except BaseException:
        imap.shutdown()
        raise
    return imap


class MailboxPollers:
    """A loop's pass: one Mailbox per email account with an ``imap_host``; a changed or removed one is stopped
    (and a changed one started again with its new settings)."""

    def __init__(self, careline: Any) -> None:
        self._careline = careline
        self._running: dict[str, tuple[str, Mailbox]] = {}  # account id -> (settings fingerprint, poller)
        self._warned: set[str] = set()

    def run_once(self, limit: int = 50) -> int:
        wanted: dict[str, tuple[str, ChannelAccount, str]] = {}
        with self._careline.uow(read_only=True) as uow:
            accounts = [a for a in uow.accounts.all() if a.kind == ChannelKind.EMAIL and a.config.get("imap_host")]
        for account in accounts:
            try:
                password = account.secrets[IMAP_PASSWORD] if IMAP_PASSWORD in account.secrets.names else ""
            except SecretsUnreadable as error:
                if account.id not in self._warned:
                    self._warned.add(account.id)
                    log.warning("IMAP %s: not polled: %s", account.name, error)
                continue
            keys = ("imap_host", "imap_port", "imap_user", "imap_tls", "imap_folder")
            settings = repr([account.name, *(account.config.get(k) for k in keys)]) + password
            wanted[account.id] = (hashlib.sha256(settings.encode()).hexdigest(), account, password)
        for account_id, (fingerprint, mailbox) in list(self._running.items()):
            if wanted.get(account_id, ("",))[0] != fingerprint:
                mailbox.stop()
                del self._running[account_id]
        for account_id, (fingerprint, account, password) in wanted.items():
            if account_id not in self._running:
                seconds = self._careline.settings.email_poll_seconds
                mailbox = Mailbox(self._careline, account, password, poll_seconds=seconds)
                self._running[account_id] = (fingerprint, mailbox)
                mailbox.start()
        return 0

    def close(self) -> None:
        for _, mailbox in self._running.values():
            mailbox.stopping.set()
        for _, mailbox in self._running.values():
            mailbox.stop()
        self._running.clear()


def _changed(imap: imaplib.IMAP4) -> bool:
    """Whether the server reported new mail during the last commands (imaplib keeps untagged answers)."""
    found = False
    for kind in ("EXISTS", "RECENT"):
        found = imap.untagged_responses.pop(kind, None) is not None or found
    return found


def _buffered(imap: imaplib.IMAP4) -> bool:
    """Whether a line is already waiting: in imaplib's reader, or readable without blocking."""
    imap.sock.setblocking(False)
    try:
        reader: Any = imap.file  # a BufferedReader over the socket
        return bool(reader.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        imap.sock.settimeout(TIMEOUT)


def _ok(answer: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = answer
    if status != "OK":
        raise ImapError(f"{what} answered {status}: {data}")
    return data


def _search(pattern: bytes, data: list[Any]) -> bytes | None:
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        found = re.search(pattern, line or b"")
        if found:
            return found.group(1)
    return None


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
