"""Encryption of channel accounts' secrets at rest (docs/channels.md#credentials).

One key, from CARELINE_SECRET_KEY: a Fernet key (``careline secrets new-key``) is used as it is; any other
value is a passphrase, stretched into a key with scrypt (n=2**15, r=8, p=1, a fixed salt: the same
passphrase must give the same key in every process). Fernet is AES-128-CBC with HMAC-SHA256: a value
sealed under one key and opened under another fails its MAC, so a wrong key is told apart from any data.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from careline.channels.model import SecretsUnreadable

SALT = b"careline/channel-secrets/v1"
MIN_PASSPHRASE = 16


class SecretKeyInvalid(ValueError):
    """CARELINE_SECRET_KEY is neither a Fernet key nor a long enough passphrase (the message never shows it)."""


def new_key() -> str:
    """A fresh random Fernet key, the recommended value of CARELINE_SECRET_KEY."""
    return Fernet.generate_key().decode()


def fernet_key(setting: str) -> bytes:
    """The Fernet key a CARELINE_SECRET_KEY value stands for (a passphrase costs about 0.1 s to stretch)."""
    try:
        if len(base64.urlsafe_b64decode(setting.encode())) == 32:
            return setting.encode()
    except (binascii.Error, ValueError):
        pass  # not a Fernet key: a passphrase
    if len(setting) < MIN_PASSPHRASE:
        raise SecretKeyInvalid(
            f"CARELINE_SECRET_KEY must be a Fernet key or a passphrase of at least {MIN_PASSPHRASE} characters"
        )
    derived = Scrypt(salt=SALT, length=32, n=2**15, r=8, p=1).derive(setting.encode())
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    """Seals an account's secrets into one opaque token, and opens it again."""

    def __init__(self, setting: str) -> None:
        self._fernet = Fernet(fernet_key(setting))

    def seal(self, account_id: str, values: Mapping[str, str]) -> str:
        # The account id is sealed in too, so that a token copied onto another account's row does not open.
        plain = json.dumps({"account": account_id, "secrets": dict(values)}, sort_keys=True)
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, account_id: str, token: str) -> dict[str, str]:
        """The plaintext secrets, or SecretsUnreadable (never with the token or a value in its message)."""
        try:
            plain = json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError, TypeError):
            raise SecretsUnreadable(
                f"the secrets of channel account {account_id} cannot be decrypted with CARELINE_SECRET_KEY: "
                "it is not the key they were stored with (rotate them with `careline secrets rotate`)"
            ) from None
        if not isinstance(plain, dict) or plain.get("account") != account_id:
            raise SecretsUnreadable(f"the stored secrets of channel account {account_id} belong to another account")
        return dict(plain["secrets"])

    def can_open(self, account_id: str, token: str) -> bool:
        try:
            self.open(account_id, token)
        except SecretsUnreadable:
            return False
        return True
