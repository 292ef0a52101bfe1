"""An email account's mail servers, for admins (docs/channels.md#email): the IMAP mailbox Careline reads and the
SMTP relay replies leave through. Passwords are secrets: PUT /channel-accounts/{id}/secrets (imap_password,
smtp_password)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from careline.channels.email_config import ConfigureEmailAccount, email_account
from careline.entrypoints.api.deps import AdminAgent, CarelineDep
from careline.entrypoints.api.schemas import Input, Name

router = APIRouter(prefix="/email/accounts", tags=["email"])
Host = Annotated[str | None, Field(default=None, max_length=253)]
Port = Annotated[int | None, Field(default=None, ge=0, le=65535)]
Text = Annotated[str | None, Field(default=None, max_length=200)]


class EmailSettingsUpdate(Input):
    """None (or absent) leaves a setting as it is; "" (or port 0) removes it."""

    imap_host: Host = None
    imap_port: Port = None
    imap_user: Text = None
    imap_tls: bool | None = None
    imap_folder: Text = None
    smtp_host: Host = None
    smtp_port: Port = None
    smtp_security: Text = None  # starttls | ssl | none
    smtp_user: Text = None
    display_name: Text = None


class EmailSettingsPublic(BaseModel):
    account: str
    imap_host: str | None = None
    imap_port: int | None = None
    imap_user: str | None = None
    imap_tls: bool = True
    imap_folder: str = "INBOX"
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    display_name: str | None = None


@router.get("/{name}/settings")
def get_settings(careline: CarelineDep, _admin: AdminAgent, name: Name) -> EmailSettingsPublic:
    return _settings(careline, name)


@router.put("/{name}/settings")
def put_settings(
    careline: CarelineDep, admin: AdminAgent, name: Name, body: EmailSettingsUpdate
) -> EmailSettingsPublic:
    """Polling starts (or restarts, within CARELINE_EMAIL_POLL_SECONDS) once imap_host is set."""
    careline.handle(ConfigureEmailAccount(account=name, agent_id=admin.id, **body.model_dump()))
    return _settings(careline, name)


def _settings(careline: CarelineDep, name: str) -> EmailSettingsPublic:
    with careline.uow(read_only=True) as uow:
        account = email_account(uow, name)
    config: dict[str, Any] = account.config
    fields = {key: config[key] for key in EmailSettingsPublic.model_fields if key in config}
    return EmailSettingsPublic(**{**fields, "account": account.name})
