"""Signatures of the generic API channel, both ways (docs/channels.md#signing-requests).

The signed string is ``{timestamp}.{raw body}``, its HMAC-SHA256 under the account's ``signing_secret`` is
sent as ``X-Careline-Signature: sha256=<hex>`` beside ``X-Careline-Timestamp: <unix seconds>``. The timestamp
inside the signature, and the window around it, make a captured request useless a few minutes later.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNING_SECRET = "signing_secret"  # the secret's name on a channel account
SIGNATURE_HEADER = "X-Careline-Signature"
TIMESTAMP_HEADER = "X-Careline-Timestamp"
TOLERANCE_SECONDS = 300
SCHEME = "sha256="


class SignatureInvalid(Exception):
    """The request is not signed, or not signed with the account's secret, or signed too long ago."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value that signs ``body`` at ``timestamp``: ``sha256=<hex>``."""
    signed = str(timestamp).encode() + b"." + body
    return SCHEME + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, body: bytes, signature_header: str | None, timestamp_header: str | None, now: float) -> None:
    """Raise SignatureInvalid unless one of the header's signatures (comma-separated) signs this body now."""
    if not signature_header:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER}: this account signs its requests")
    if not timestamp_header:
        raise SignatureInvalid(f"missing {TIMESTAMP_HEADER}: this account signs its requests")
    if not timestamp_header.isascii() or not timestamp_header.isdigit() or len(timestamp_header) > 12:
        raise SignatureInvalid(f"{TIMESTAMP_HEADER} must be whole seconds since 1970 (UTC)")
    timestamp = int(timestamp_header)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureInvalid(
            f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} seconds from the server's time: sign it again"
        )
    expected = signature(secret, timestamp, body).encode()
    offered = [part.strip().encode() for part in signature_header.split(",")]
    # Every candidate is compared in constant time; several are allowed while a sender rotates its secret.
    matches = [hmac.compare_digest(expected, candidate) for candidate in offered]
    if not any(matches):
        raise SignatureInvalid(f"{SIGNATURE_HEADER} does not match the body signed with the account's secret")
