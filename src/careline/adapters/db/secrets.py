"""Key rotation: every account's sealed secrets re-encrypted under a new key (docs/channels.md#credentials).

All accounts in one transaction: either every account's secrets open under the new key afterwards, or
nothing changed (one that opens under neither key stops the rotation and names the account).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.adapters.db.directory import SEALED
from careline.adapters.db.engine import write_transaction
from careline.adapters.secret_box import SecretBox

Progress = Callable[[int, int], None]  # (accounts done, accounts with secrets)


@dataclasses.dataclass(frozen=True)
class Rotation:
    rotated: int  # re-encrypted from the old key to the new one
    already: int  # found under the new key already (a rotation run twice)


def rotate_secrets(engine: Engine, old: SecretBox, new: SecretBox, progress: Progress | None = None) -> Rotation:
    """Re-encrypt every account's secrets from ``old`` to ``new``; SecretsUnreadable if one opens under neither."""
    c = t.channel_accounts.c
    rotated = already = 0
    with write_transaction(engine) as db:
        sealed = [(row.id, row.config) for row in db.execute(sa.select(c.id, c.config).order_by(c.id))]
        sealed = [(account_id, config) for account_id, config in sealed if (config or {}).get(SEALED)]
        if progress:
            progress(0, len(sealed))
        for done, (account_id, config) in enumerate(sealed, start=1):
            token = config[SEALED]["token"]
            if not old.can_open(account_id, token) and new.can_open(account_id, token):
                already += 1
            else:
                values = old.open(account_id, token)  # raises, naming the account: the transaction rolls back
                config = {**config, SEALED: {**config[SEALED], "token": new.seal(account_id, values)}}
                db.execute(sa.update(t.channel_accounts).where(c.id == account_id).values(config=config))
                rotated += 1
            if progress:
                progress(done, len(sealed))
    return Rotation(rotated, already)
