"""How long a text is as a network counts it, for the limits replies must keep (docs/channels.md#x-twitter).

Pure: the conversations context checks a reply when the agent sends it, and the X adapter again before it
posts, with the same count.
"""

from __future__ import annotations

import re
import unicodedata

# twitter-text v3: code points in these ranges weigh 1, every other one 2; a link counts 23 whatever its length.
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_URL = re.compile(r"(?i)\bhttps?://[^\s]+|\bwww\.[^\s]+")
_JOINER, _SELECTOR = "\u200d", re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")  # ZWJ; variations, skin tones


def weighted_length(text: str) -> int:
    """The length X counts against the 280 limit: links 23, most CJK and emoji 2, Latin 1 (after NFC).

    Emoji sequences joined by ZWJ count once, and variation selectors and skin tones nothing, as X counts them.
    Bare domains without ``http`` or ``www`` (which X also turns into links) are counted as typed.
    """
    text = unicodedata.normalize("NFC", text)
    total = 0
    for piece in _URL.split(text):
        piece = _SELECTOR.sub("", piece)
        joined = False
        for char in piece:
            if char == _JOINER:
                joined = True
                continue
            if not joined:
                point = ord(char)
                total += 1 if any(low <= point <= high for low, high in _LIGHT) else 2
            joined = False
    return total + 23 * len(_URL.findall(text))


def counted_length(channel: str, visibility: str, text: str) -> int:
    """The length the channel holds a reply of this visibility to: X's weighted count for tweets, else characters."""
    return weighted_length(text) if (channel, visibility) == ("x", "public") else len(text)
