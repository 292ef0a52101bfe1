"""First-run setup shared by `careline init` and `careline demo`: default queue, API account, admin."""

from __future__ import annotations

import secrets

from careline.agents import commands as cmd
from careline.agents.model import Agent
from careline.bootstrap import Careline

DEFAULT_QUEUE = "general"
DEFAULT_API_ACCOUNT = "default"


def ensure_defaults(app: Careline) -> None:
    """The default queue and the generic API channel account, created once."""
    with app.uow(read_only=True) as uow:
        has_queue = bool(uow.queues.all())
        has_account = uow.accounts.find("api", DEFAULT_API_ACCOUNT) is not None
    if not has_queue:
        app.handle(cmd.CreateQueue(name=DEFAULT_QUEUE, is_default=True, rank=1000))
    if not has_account:
        app.handle(cmd.CreateChannelAccount(kind="api", name=DEFAULT_API_ACCOUNT))


def ensure_admin(app: Careline, email: str, password: str | None) -> tuple[Agent, bool, str | None]:
    """The admin user, whether it was created now, and the password if one was generated (shown once)."""
    with app.uow(read_only=True) as uow:
        existing = uow.agents.by_email(email)
    if existing is not None:
        return existing, False, None
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(12)
    agent = app.handle(cmd.CreateAgent(name="Administrator", email=email, password=password, role="admin"))
    return agent, True, generated
