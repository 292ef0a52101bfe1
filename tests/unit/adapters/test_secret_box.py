"""The secret box (adapters/secret_box.py): Fernet keys or passphrases, sealed per account, never echoed."""

from __future__ import annotations

import pytest

from careline.adapters.secret_box import SecretBox, SecretKeyInvalid, fernet_key, new_key
from careline.channels.model import AccountSecrets, SecretsUnreadable

VALUES = {"api_token": "xoxb-the-token-value", "signing_secret": "whsec_the-signing-secret"}


def test_a_fernet_key_is_used_as_it_is_and_a_passphrase_is_stretched() -> None:
    key = new_key()
    assert fernet_key(key) == key.encode()
    passphrase = "correct horse battery staple"
    assert fernet_key(passphrase) == fernet_key(passphrase) != passphrase.encode()
    sealed = SecretBox(passphrase).seal("acc_1", VALUES)
    assert SecretBox(passphrase).open("acc_1", sealed) == VALUES  # another process, the same passphrase


def test_a_short_passphrase_is_refused_without_echoing_it() -> None:
    with pytest.raises(SecretKeyInvalid, match="at least 16 characters") as refused:
        SecretBox("hunter2")
    assert "hunter2" not in str(refused.value)


def test_a_seal_opens_only_with_its_key_and_for_its_account() -> None:
    box = SecretBox(new_key())
    sealed = box.seal("acc_1", VALUES)
    assert all(value not in sealed for value in VALUES.values())
    assert box.seal("acc_1", VALUES) != sealed  # a fresh IV every time
    assert box.can_open("acc_1", sealed) and not box.can_open("acc_2", sealed)
    with pytest.raises(SecretsUnreadable, match="not the key they were stored with") as refused:
        SecretBox(new_key()).open("acc_1", sealed)
    assert sealed not in str(refused.value)
    with pytest.raises(SecretsUnreadable):
        box.open("acc_1", sealed[:-4] + "AAAA")  # tampered


def test_account_secrets_reveal_on_first_read_and_never_in_a_repr() -> None:
    calls: list[int] = []

    def reveal() -> dict[str, str]:
        calls.append(1)
        return VALUES

    secrets = AccountSecrets(names=VALUES, reveal=reveal)
    assert secrets.names == ("api_token", "signing_secret") and len(secrets) == 2 and calls == []
    assert "xoxb" not in repr(secrets)
    assert secrets["api_token"] == VALUES["api_token"] and dict(secrets) == VALUES and calls == [1]

    def unreadable() -> dict[str, str]:
        raise SecretsUnreadable("no key")

    locked = AccountSecrets(names=["api_token"], reveal=unreadable)
    assert locked.names == ("api_token",)
    with pytest.raises(SecretsUnreadable):
        locked.get("api_token")
