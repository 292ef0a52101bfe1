"""Phone numbers in one form, E.164 (``+14155550123``), so that a caller is the same identity on every call."""

from __future__ import annotations

import phonenumbers


def e164(raw: str | None, region: str | None = None) -> str | None:
    """The number in E.164, or None when it is missing, withheld or not a possible number.

    A number without its country code is read in ``region`` (the voice account's ``region``, e.g. "US");
    without one, only international numbers (``+...``) are understood.
    """
    if raw is None or not raw.strip() or len(raw) > 64:
        return None
    try:
        parsed = phonenumbers.parse(raw, (region or "ZZ").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
