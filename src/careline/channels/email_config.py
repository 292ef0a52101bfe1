"""An email account's mail servers: the IMAP mailbox it reads and the SMTP relay it replies through
(docs/channels.md#email). The passwords are the account's secrets (``imap_password``, ``smtp_password``)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from careline.channels.handlers import save_settings
from careline.channels.model import ChannelAccount, ChannelKind
from careline.kernel.clock import Clock
from careline.kernel.errors import InvalidInput, NotFound
from careline.unit_of_work import UnitOfWork

LOOPBACK = ("127.0.0.1", "::1", "localhost")
SECURITY = ("starttls", "ssl", "none")
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$|^[0-9a-fA-F:]{2,39}$")
TEXT_SETTINGS = ("imap_host", "imap_user", "imap_folder", "smtp_host", "smtp_user", "smtp_security", "display_name")
Result = tuple[Any, list[Any]]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfigureEmailAccount:
    """The account's servers; None leaves a setting as it is, "" (or port 0) removes it."""

    account: str  # the account's name, its address
    agent_id: str
    imap_host: str | None = None
    imap_port: int | None = None
    imap_user: str | None = None
    imap_tls: bool | None = None
    imap_folder: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: str | None = None
    smtp_user: str | None = None
    display_name: str | None = None


def configured(config: dict[str, Any], c: ConfigureEmailAccount) -> tuple[dict[str, Any], list[str]]:
    """The new config and the names of the settings that changed; InvalidInput names the first bad one."""
    new = dict(config)
    changed: list[str] = []
    for field in dataclasses.fields(ConfigureEmailAccount)[2:]:
        value = getattr(c, field.name)
        if value is None:
            continue
        if value in ("", 0) and not isinstance(value, bool):
            if field.name in new:
                del new[field.name]
                changed.append(field.name)
            continue
        _check(field.name, value)
        if new.get(field.name) != value:
            new[field.name] = value
            changed.append(field.name)
    if new.get("imap_tls") is False and new.get("imap_host") not in LOOPBACK:
        raise InvalidInput("imap_tls false is allowed only for a server on this machine (127.0.0.1, ::1, localhost)")
    if new.get("smtp_security") == "none" and new.get("smtp_user") and new.get("smtp_host") not in LOOPBACK:
        raise InvalidInput("a password goes to a relay elsewhere only over TLS: smtp_security starttls or ssl")
    return new, changed


def _check(name: str, value: Any) -> None:
    if name.endswith("_port") and not 1 <= value <= 65535:
        raise InvalidInput(f"{name} must be a port, 1 to 65535")
    if name.endswith("_host") and not HOST.match(value):
        raise InvalidInput(f"{name} must be a host name or an IP address")
    if name == "smtp_security" and value not in SECURITY:
        raise InvalidInput(f"smtp_security must be one of {', '.join(SECURITY)}")
    if name in TEXT_SETTINGS and (len(value) > 200 or any(not ch.isprintable() for ch in value)):
        raise InvalidInput(f"{name} must be at most 200 printable characters")


class EmailConfigHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {ConfigureEmailAccount: self.configure}

    def configure(self, c: ConfigureEmailAccount) -> Result:
        with self._uow() as uow:
            uow.agents.get(c.agent_id)
            account = email_account(uow, c.account)
            config, _changed = configured(account.config, c)
            save_settings(uow, account, config, agent_id=c.agent_id, at=self._clock())
            return account, uow.commit()


def email_account(uow: UnitOfWork, name: str) -> ChannelAccount:
    account = uow.accounts.find(ChannelKind.EMAIL.value, name)
    if account is None:
        raise NotFound(f"no email channel account {name!r}; create it first (kind email)")
    return account
