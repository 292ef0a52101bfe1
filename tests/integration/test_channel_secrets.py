"""Channel accounts' secrets at rest: sealed in the database, opened only with the right key, rotated whole
(docs/channels.md#credentials). SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from careline.adapters.db import tables as t
from careline.adapters.db.secrets import rotate_secrets
from careline.adapters.secret_box import SecretBox, new_key
from careline.agents import commands as admin
from careline.bootstrap import Careline, bootstrap
from careline.channels.model import ChannelAccount, SecretsUnreadable
from careline.config import Settings
from careline.kernel.errors import Conflict
from integration.support import ManualClock

TOKEN = "xoxb-1234567890-the-real-token"
SIGNING = "whsec_signing-secret-of-the-shop"


class Deployment:
    """The same database opened by processes with different CARELINE_SECRET_KEY values."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.apps: list[Careline] = []

    def open(self, key: str | None) -> Careline:
        secret = SecretStr(key) if key else None
        app = bootstrap(self.settings.model_copy(update={"secret_key": secret}), clock=ManualClock())
        self.apps.append(app)
        return app


@pytest.fixture
def deployment(settings: Settings) -> Iterator[Deployment]:
    deployment = Deployment(settings)
    yield deployment
    for app in deployment.apps:
        app.close()


def api_account(app: Careline, name: str = "shop") -> ChannelAccount:
    account: ChannelAccount = app.handle(admin.CreateChannelAccount(kind="api", name=name))
    return account


def set_secrets(app: Careline, account_id: str, **secrets: str) -> ChannelAccount:
    account: ChannelAccount = app.handle(
        admin.SetChannelSecrets(account_id=account_id, secrets=tuple(sorted(secrets.items())))
    )
    return account


def load(app: Careline, account_id: str) -> ChannelAccount:
    with app.uow(read_only=True) as uow:
        return uow.accounts.get(account_id)


def raw_config(app: Careline, account_id: str) -> str:
    with app.engine.connect() as db:
        query = sa.select(t.channel_accounts.c.config).where(t.channel_accounts.c.id == account_id)
        return json.dumps(db.execute(query).scalar_one())


def test_secrets_round_trip_and_the_column_holds_no_plaintext(deployment: Deployment) -> None:
    app = deployment.open(new_key())
    account = api_account(app)
    set_secrets(app, account.id, api_token=TOKEN, signing_secret=SIGNING)

    raw = raw_config(app, account.id)
    assert TOKEN not in raw and SIGNING not in raw
    assert "api_token" in raw  # the names stay readable; the values are one Fernet token
    loaded = load(app, account.id)
    assert dict(loaded.secrets) == {"api_token": TOKEN, "signing_secret": SIGNING}
    assert "policy" not in loaded.config and "sealed_secrets" not in loaded.config
    assert TOKEN not in repr(loaded) and TOKEN not in repr(loaded.secrets)
    with app.engine.connect() as db:
        logged = {row.type: row.data for row in db.execute(sa.select(t.events.c.type, t.events.c.data))}
    assert logged["channel.secrets_set"]["names"] == ["api_token", "signing_secret"]
    assert TOKEN not in json.dumps(logged) and SIGNING not in json.dumps(logged)


def test_setting_the_policy_keeps_the_secrets_and_the_secrets_keep_the_policy(deployment: Deployment) -> None:
    app = deployment.open(new_key())
    account = api_account(app)
    set_secrets(app, account.id, api_token=TOKEN)
    rule = {"name": "quiet", "action": "ignore", "when": {"noise": True}}
    app.handle(admin.SetResponsePolicy(account_id=account.id, rules=(rule,)))
    set_secrets(app, account.id, api_token=TOKEN + "-2")

    loaded = load(app, account.id)
    assert loaded.config["policy"] == [rule]
    assert dict(loaded.secrets) == {"api_token": TOKEN + "-2"}


def test_without_a_key_secrets_are_refused_and_accounts_without_them_work(deployment: Deployment) -> None:
    app = deployment.open(None)
    account = api_account(app)
    with pytest.raises(Conflict, match="CARELINE_SECRET_KEY is not set"):
        set_secrets(app, account.id, api_token=TOKEN)
    assert TOKEN not in raw_config(app, account.id)
    set_secrets(app, account.id)  # removing secrets needs no key
    assert len(load(app, account.id).secrets) == 0


def test_a_wrong_key_loads_the_account_and_refuses_its_secrets_clearly(deployment: Deployment) -> None:
    right = deployment.open(new_key())
    account = api_account(right)
    set_secrets(right, account.id, api_token=TOKEN)
    sealed = json.loads(raw_config(right, account.id))["sealed_secrets"]["token"]

    for wrong in (deployment.open(new_key()), deployment.open(None)):
        loaded = load(wrong, account.id)  # routing, replies and listings still load the account
        assert loaded.secrets.names == ("api_token",)
        with pytest.raises(SecretsUnreadable, match="CARELINE_SECRET_KEY") as refused:
            loaded.secrets["api_token"]
        assert TOKEN not in str(refused.value) and sealed not in str(refused.value)
        # A setting saved by the process with the wrong key leaves the secrets as they were.
        wrong.handle(admin.SetResponsePolicy(account_id=account.id, rules=()))
    assert dict(load(right, account.id).secrets) == {"api_token": TOKEN}


def test_a_sealed_set_copied_onto_another_account_does_not_open(deployment: Deployment) -> None:
    app = deployment.open(new_key())
    shop, other = api_account(app, "shop"), api_account(app, "other")
    set_secrets(app, shop.id, api_token=TOKEN)
    with app.engine.begin() as db:
        stolen = db.execute(sa.select(t.channel_accounts.c.config).where(t.channel_accounts.c.id == shop.id))
        db.execute(
            sa.update(t.channel_accounts).where(t.channel_accounts.c.id == other.id).values(config=stolen.scalar_one())
        )
    with pytest.raises(SecretsUnreadable, match="another account"):
        dict(load(app, other.id).secrets)


def test_rotation_re_encrypts_every_account_from_the_old_key_to_the_new(deployment: Deployment) -> None:
    old_key, new = new_key(), new_key()
    app = deployment.open(old_key)
    shop, other, plain = api_account(app, "shop"), api_account(app, "other"), api_account(app, "plain")
    set_secrets(app, shop.id, api_token=TOKEN)
    set_secrets(app, other.id, signing_secret=SIGNING)
    before = raw_config(app, shop.id)

    with pytest.raises(SecretsUnreadable, match="cannot be decrypted"):
        rotate_secrets(app.engine, SecretBox(new_key()), SecretBox(new))  # not the old key: nothing changes
    assert raw_config(app, shop.id) == before

    seen: list[tuple[int, int]] = []
    result = rotate_secrets(app.engine, SecretBox(old_key), SecretBox(new), lambda *step: seen.append(step))
    assert (result.rotated, result.already) == (2, 0)
    assert seen == [(0, 2), (1, 2), (2, 2)]
    assert raw_config(app, shop.id) != before and TOKEN not in raw_config(app, shop.id)

    rotated = deployment.open(new)
    assert dict(load(rotated, shop.id).secrets) == {"api_token": TOKEN}
    assert dict(load(rotated, other.id).secrets) == {"signing_secret": SIGNING}
    assert len(load(rotated, plain.id).secrets) == 0
    with pytest.raises(SecretsUnreadable):
        dict(load(deployment.open(old_key), shop.id).secrets)

    again = rotate_secrets(app.engine, SecretBox(old_key), SecretBox(new))  # run twice: nothing to do
    assert (again.rotated, again.already) == (0, 2)
