"""The generic API channel's signatures (channels/signing.py), checked against an HMAC computed by hand."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from careline.channels.signing import SignatureInvalid, signature, signed_headers, verify

SECRET = "whsec_test-secret"
BODY = b'{"channel": "api", "account": "shop", "text": "caf\xc3\xa9"}'
NOW = 1_717_000_000


def by_hand(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def test_the_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    assert signature(SECRET, NOW, BODY) == by_hand(SECRET, NOW, BODY)
    assert signed_headers(SECRET, NOW, BODY) == {
        "X-Careline-Timestamp": str(NOW),
        "X-Careline-Signature": by_hand(SECRET, NOW, BODY),
    }


def test_a_fresh_signature_of_the_same_body_verifies() -> None:
    verify(SECRET, BODY, by_hand(SECRET, NOW, BODY), str(NOW), now=NOW + 299)
    verify(SECRET, BODY, by_hand(SECRET, NOW, BODY), str(NOW), now=NOW - 299)  # a sender's clock a bit ahead


def test_any_of_several_signatures_may_match() -> None:
    header = f"{by_hand('the-old-secret', NOW, BODY)}, {by_hand(SECRET, NOW, BODY)}"
    verify(SECRET, BODY, header, str(NOW), now=NOW)


@pytest.mark.parametrize(
    ("header", "timestamp", "now", "reason"),
    [
        (None, str(NOW), NOW, "missing X-Careline-Signature"),
        (by_hand(SECRET, NOW, BODY), None, NOW, "missing X-Careline-Timestamp"),
        (by_hand(SECRET, NOW, BODY), "1717000000.5", NOW, "whole seconds"),
        (by_hand(SECRET, NOW, BODY), "-1", NOW, "whole seconds"),
        (by_hand(SECRET, NOW, BODY), str(NOW), NOW + 301, "more than 300 seconds"),
        (by_hand(SECRET, NOW, BODY), str(NOW), NOW - 301, "more than 300 seconds"),
        (by_hand("another-secret", NOW, BODY), str(NOW), NOW, "does not match"),
        (by_hand(SECRET, NOW, BODY + b" "), str(NOW), NOW, "does not match"),
        (by_hand(SECRET, NOW - 1, BODY), str(NOW), NOW, "does not match"),  # the timestamp is signed too
        (by_hand(SECRET, NOW, BODY).removeprefix("sha256="), str(NOW), NOW, "does not match"),
        ("sha256=" + "0" * 64, str(NOW), NOW, "does not match"),
    ],
)
def test_a_request_not_signed_now_with_the_secret_is_refused(
    header: str | None, timestamp: str | None, now: int, reason: str
) -> None:
    with pytest.raises(SignatureInvalid, match=reason):
        verify(SECRET, BODY, header, timestamp, now=now)
