"""Channel accounts: the brand's presence on one channel (an X handle, a Facebook page, a mailbox)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from careline.kernel.errors import Conflict


class ChannelKind(StrEnum):
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    EMAIL = "email"
    WEBCHAT = "webchat"
    VOICE = "voice"
    API = "api"


@dataclasses.dataclass
class ChannelAccount:
    id: str
    kind: ChannelKind
    name: str  # the brand's handle or address on that channel
    created_at: datetime
    callback_url: str | None = None  # where outbound replies are delivered (generic API channel)
    config: dict[str, Any] = dataclasses.field(default_factory=dict)  # settings that are not secret
    # Tokens and passwords (docs/channels.md#credentials): plaintext in memory only, encrypted at rest by the
    # storage adapter, never in a repr, a log line or an API answer.
    secrets: AccountSecrets = dataclasses.field(default_factory=lambda: AccountSecrets(), repr=False, compare=False)


class SecretsUnreadable(Conflict):
    """The account has secrets but this process cannot decrypt them (CARELINE_SECRET_KEY missing or wrong)."""


class AccountSecrets(Mapping[str, str]):
    """An account's secrets by name. Their values are revealed on first use, so that an account whose secrets
    cannot be decrypted still loads: only reading a value raises SecretsUnreadable, naming the cause."""

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        *,
        names: Iterable[str] = (),
        reveal: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self._values = dict(values) if values is not None else None
        self._reveal = reveal
        self._names = tuple(sorted(self._values if self._values is not None else names))

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the secrets, known without decrypting them."""
        return self._names

    def _plain(self) -> dict[str, str]:
        if self._values is None:
            self._values = dict(self._reveal()) if self._reveal else {}
        return self._values

    def __getitem__(self, name: str) -> str:
        return self._plain()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._plain())

    def __len__(self) -> int:
        return len(self._names) if self._values is None else len(self._values)

    def __repr__(self) -> str:
        return f"AccountSecrets(names={list(self._names)})"  # never the values
