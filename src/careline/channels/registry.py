"""Which adapter delivers for which channel kind: the only place that knows the kinds apart."""

from __future__ import annotations

from careline.channels.ports import ChannelAdapter


class ChannelRegistry:
    def __init__(self, adapters: list[ChannelAdapter]) -> None:
        self._adapters = {adapter.kind: adapter for adapter in adapters}

    def for_kind(self, kind: str) -> ChannelAdapter | None:
        return self._adapters.get(kind)
