"""SQL repositories of the directory: channel accounts, agents (and their tokens), queues."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from careline.adapters.db import rows
from careline.adapters.db import tables as t
from careline.adapters.secret_box import SecretBox
from careline.agents.model import Agent, Queue
from careline.channels.model import AccountSecrets, ChannelAccount, SecretsUnreadable
from careline.kernel.errors import Conflict, NotFound

# The key of `channel_accounts.config` that holds the sealed secrets: {"names": [...], "token": "<Fernet>"}.
# The names stay readable (an admin sees which secrets an account has even without the key); the values
# exist in plaintext only in memory, after AccountSecrets reveals them (docs/channels.md#credentials).
SEALED = "sealed_secrets"
NO_KEY = "CARELINE_SECRET_KEY is not set"


class AccountRepository:
    def __init__(self, connection: sa.Connection, secrets: SecretBox | None = None) -> None:
        self._db = connection
        self._box = secrets

    def get(self, account_id: str) -> ChannelAccount:
        row = self._db.execute(sa.select(t.channel_accounts).where(t.channel_accounts.c.id == account_id)).first()
        if row is None:
            raise NotFound(f"channel account {account_id} does not exist")
        return self._account(row)

    def find(self, kind: str, name: str) -> ChannelAccount | None:
        c = t.channel_accounts.c
        row = self._db.execute(sa.select(t.channel_accounts).where(c.kind == kind, c.name == name)).first()
        return self._account(row) if row else None

    def all(self) -> list[ChannelAccount]:
        query = sa.select(t.channel_accounts).order_by(t.channel_accounts.c.kind, t.channel_accounts.c.name)
        return [self._account(r) for r in self._db.execute(query)]

    def add(self, account: ChannelAccount) -> None:
        self._db.execute(
            sa.insert(t.channel_accounts).values(
                id=account.id,
                kind=account.kind.value,
                name=account.name,
                callback_url=account.callback_url,
                config={**account.config, **self._sealed(account)},
                created_at=account.created_at,
            )
        )

    def save_config(self, account: ChannelAccount) -> None:
        """The account's settings; its stored secrets stay as they are (no key needed)."""
        stored = self._db.execute(
            sa.select(t.channel_accounts.c.config).where(t.channel_accounts.c.id == account.id)
        ).scalar()
        sealed = (stored or {}).get(SEALED)
        self._write_config(account.id, {**account.config, **({SEALED: sealed} if sealed else {})})

    def save_secrets(self, account: ChannelAccount) -> None:
        """Seal ``account.secrets`` in place of the stored ones (an empty set removes them)."""
        self._write_config(account.id, {**account.config, **self._sealed(account)})

    def _write_config(self, account_id: str, config: dict[str, Any]) -> None:
        self._db.execute(
            sa.update(t.channel_accounts).where(t.channel_accounts.c.id == account_id).values(config=config)
        )

    def _sealed(self, account: ChannelAccount) -> dict[str, Any]:
        if not account.secrets.names:
            return {}
        if self._box is None:
            raise Conflict(f"{NO_KEY}: set it (docs/channels.md#credentials) before storing an account's secrets")
        token = self._box.seal(account.id, account.secrets)
        return {SEALED: {"names": list(account.secrets.names), "token": token}}

    def _account(self, row: Any) -> ChannelAccount:
        account = rows.account_from_row(row)
        sealed = account.config.pop(SEALED, None)
        if sealed:
            account.secrets = AccountSecrets(names=sealed["names"], reveal=self._revealer(account.id, sealed["token"]))
        return account

    def _revealer(self, account_id: str, token: str) -> Callable[[], dict[str, str]]:
        box = self._box

        def reveal() -> dict[str, str]:
            if box is None:
                raise SecretsUnreadable(f"channel account {account_id} has secrets but {NO_KEY}")
            return box.open(account_id, token)

        return reveal


class AgentRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def get(self, agent_id: str) -> Agent:
        row = self._db.execute(sa.select(t.agents).where(t.agents.c.id == agent_id)).first()
        if row is None:
            raise NotFound(f"agent {agent_id} does not exist")
        return rows.agent_from_row(row)

    def by_email(self, email: str) -> Agent | None:
        row = self._db.execute(sa.select(t.agents).where(t.agents.c.email == email.lower())).first()
        return rows.agent_from_row(row) if row else None

    def all(self) -> list[Agent]:
        return [rows.agent_from_row(r) for r in self._db.execute(sa.select(t.agents).order_by(t.agents.c.name))]

    def add(self, agent: Agent) -> None:
        self._db.execute(sa.insert(t.agents).values(**rows.agent_to_row(agent)))

    def save(self, agent: Agent) -> None:
        values = rows.agent_to_row(agent)
        values.pop("id")
        self._db.execute(sa.update(t.agents).where(t.agents.c.id == agent.id).values(**values))

    def set_password_hash(self, agent_id: str, password_hash: str) -> None:
        self._db.execute(sa.update(t.agents).where(t.agents.c.id == agent_id).values(password_hash=password_hash))

    def add_token(self, token_hash: str, agent_id: str, at: datetime) -> None:
        self._db.execute(sa.insert(t.api_tokens).values(token_hash=token_hash, agent_id=agent_id, created_at=at))

    def by_token(self, token_hash: str) -> Agent | None:
        query = sa.select(t.agents).join(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash)
        row = self._db.execute(query).first()
        return rows.agent_from_row(row) if row else None

    def revoke_token(self, token_hash: str) -> bool:
        """Forget the token; whether it existed."""
        result = self._db.execute(sa.delete(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash))
        return bool(result.rowcount)


class QueueRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def all(self) -> list[Queue]:
        return [rows.queue_from_row(r) for r in self._db.execute(sa.select(t.queues).order_by(t.queues.c.rank))]

    def get(self, queue_id: str) -> Queue:
        row = self._db.execute(sa.select(t.queues).where(t.queues.c.id == queue_id)).first()
        if row is None:
            raise NotFound(f"queue {queue_id} does not exist")
        return rows.queue_from_row(row)

    def by_name(self, name: str) -> Queue | None:
        row = self._db.execute(sa.select(t.queues).where(t.queues.c.name == name)).first()
        return rows.queue_from_row(row) if row else None

    def add(self, queue: Queue) -> None:
        self._db.execute(sa.insert(t.queues).values(**rows.queue_to_row(queue)))

    def save(self, queue: Queue) -> None:
        values = rows.queue_to_row(queue)
        values.pop("id")
        self._db.execute(sa.update(t.queues).where(t.queues.c.id == queue.id).values(**values))
