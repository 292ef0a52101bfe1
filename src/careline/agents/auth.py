"""Passwords (Argon2id; older scrypt hashes still verify and are upgraded at the next log-in) and API tokens
(random, stored only as a SHA-256 hash)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's recommended minimum for Argon2id (19 MiB, 2 passes, 1 lane): about 30-50 ms per hash here, so a
# log-in stays quick while a stolen hash costs an attacker that much memory and time per guess.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_N, _R, _P = 2**14, 8, 1  # the scrypt parameters of hashes made before Argon2


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    if stored.startswith("scrypt$"):
        _, salt_hex, digest_hex = stored.split("$")
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=_N, r=_R, p=_P)
        return hmac.compare_digest(digest.hex(), digest_hex)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """A hash made with older settings (or scrypt): replace it after a successful log-in."""
    if stored.startswith("scrypt$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def new_token() -> str:
    return "clt_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
