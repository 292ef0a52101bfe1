"""Email, outbound: an agent's reply sent by SMTP on the customer's thread (docs/channels.md#email).

The account's config names its relay: ``smtp_host``, ``smtp_port`` (default 587), ``smtp_security`` (``starttls``,
the default; ``ssl``; or ``none``, for a relay on the same machine), ``smtp_user``, with the password in the secret
``smtp_password``, and optionally ``display_name``. The mail is from the account's address (its name), to the
customer's address, with the first mail's subject after "Re: ", and threading headers every mail program follows:
In-Reply-To the customer's latest mail, References the thread's ids. Its Message-ID is derived from Careline's own
message id, so every retry of one reply carries the same one (a mail program shows a repeat once).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from careline.channels.model import ChannelAccount, SecretsUnreadable
from careline.channels.ports import Delivery, DeliveryError, Outbound

SMTP_PASSWORD = "smtp_password"
SECURITY = ("starttls", "ssl", "none")
MAX_REFERENCES = 20  # the root and the latest: enough for threading, short enough for any header limit
TIMEOUT = 30.0
REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|vs)\s*:\s*", re.IGNORECASE)


class EmailChannel:
    kind = "email"

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self._timeout = timeout

    def deliver(self, account: ChannelAccount, outbound: Outbound) -> Delivery:
        if outbound.message.visibility.value != "private":
            # An email is only ever seen by its recipients: a "public" reply would not be what the agent chose.
            raise DeliveryError("email has no public replies; send it as a private reply", retryable=False)
        if not outbound.recipient or "@" not in outbound.recipient:
            raise DeliveryError("no customer email address to reply to in this conversation", retryable=False)
        mail = compose(account, outbound)
        self._send(account, mail)
        return Delivery(platform_message_id=str(mail["Message-ID"]))

    def _send(self, account: ChannelAccount, mail: EmailMessage) -> None:
        config = account.config
        host = str(config.get("smtp_host") or "")
        if not host:
            raise DeliveryError(f"email account {account.name} has no smtp_host in its config", retryable=False)
        security = str(config.get("smtp_security") or "starttls")
        if security not in SECURITY:
            raise DeliveryError(f"smtp_security must be one of {', '.join(SECURITY)}", retryable=False)
        port = int(config.get("smtp_port") or (465 if security == "ssl" else 587))
        password = self._password(account)
        try:
            smtp: smtplib.SMTP
            if security == "ssl":
                smtp = smtplib.SMTP_SSL(host, port, timeout=self._timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=self._timeout)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if config.get("smtp_user"):
                    smtp.login(str(config["smtp_user"]), password or "")
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as error:  # 4xx: try again later; 5xx: the server refuses for good
            reason = f"SMTP server answered {error.smtp_code}: {_text(error.smtp_error)}"
            raise DeliveryError(reason, retryable=400 <= error.smtp_code < 500) from None
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            reason = f"SMTP server refused the recipient: {error.recipients}"
            raise DeliveryError(reason, retryable=all(400 <= c < 500 for c in codes)) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP server unreachable or the session broke: {error}", retryable=True) from None

    @staticmethod
    def _password(account: ChannelAccount) -> str | None:
        if SMTP_PASSWORD not in account.secrets.names:
            return None
        try:
            return account.secrets[SMTP_PASSWORD]
        except SecretsUnreadable as error:  # a fixed CARELINE_SECRET_KEY makes a retry succeed
            raise DeliveryError(str(error), retryable=True) from None


def compose(account: ChannelAccount, outbound: Outbound) -> EmailMessage:
    """The reply as a mail, with the threading headers (pure: tests read it without a server)."""
    message = outbound.message
    address = account.name
    mail = EmailMessage()
    mail["From"] = formataddr((str(account.config.get("display_name") or ""), address))
    mail["To"] = outbound.recipient or ""
    mail["Subject"] = reply_subject(_first_subject(outbound))
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = f"<{message.id}@{address.rsplit('@', 1)[-1] or 'careline.invalid'}>"
    if outbound.reply_to:
        mail["In-Reply-To"] = outbound.reply_to
    references = [i for i in outbound.thread if i.startswith("<") and i.endswith(">")]
    if len(references) > MAX_REFERENCES:
        references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
    if references:
        mail["References"] = " ".join(references)
    mail["Auto-Submitted"] = "no"  # written by a person: auto-responders may answer it
    mail.set_content(message.text)
    return mail


def reply_subject(subject: str) -> str:
    """ "Re: " and the subject, never "Re: Re: "."""
    bare = subject.strip()
    while REPLY_PREFIX.match(bare):
        bare = REPLY_PREFIX.sub("", bare, count=1)
    return f"Re: {bare}" if bare else "Re: your message"


def _first_subject(outbound: Outbound) -> str:
    raw = outbound.first.raw if outbound.first is not None else None
    return str(raw.get("subject") or "") if isinstance(raw, dict) else ""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
