"""Identifiers: short, sortable by creation time, safe in URLs."""

from __future__ import annotations

import os
import time


def new_id(prefix: str) -> str:
    """A time-ordered id such as ``cnv_0192f3a1b2c3d4e5f6a7``: 48-bit ms timestamp plus 48 random bits."""
    stamp = int(time.time() * 1000) & 0xFFFFFFFFFFFF
    return f"{prefix}_{stamp:012x}{os.urandom(6).hex()}"
