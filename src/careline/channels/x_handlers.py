"""X's own commands (docs/channels.md#x-twitter): an account's settings, none of them secret (how it receives,
Account Activity webhooks or the poller; its X user id; what the poller reads and how much it may spend), and an
agent's like of a customer's tweet. Their routes are in entrypoints/api/routes_x.py."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from careline.agents.model import Role
from careline.channels.events import TweetLiked
from careline.channels.handlers import save_settings
from careline.channels.model import ChannelAccount, ChannelKind
from careline.channels.ports import DeliveryError
from careline.channels.registry import ChannelRegistry
from careline.conversations.model import Direction, Visibility
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, InvalidInput, NotFound
from careline.kernel.events import Event
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]
MODES = ("webhook", "poll")
KEYS = ("mode", "user_id", "search", "requests_per_window", "poll_seconds", "max_results", "overlap_seconds", "api_url")
USER_ID = re.compile(r"[0-9]{1,20}")
MAX_QUERIES = 10
MAX_QUERY = 512  # X's recent search on the Basic tier (Pro takes 1024)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfigureXAccount:
    """Replace an X account's settings (its other settings, such as the response policy, are kept)."""

    account: str  # the account's name
    agent_id: str
    mode: str = "webhook"
    user_id: str | None = None  # the account's numeric X user id (not the @handle)
    search: tuple[str, ...] = ()  # recent-search queries the poller also reads
    requests_per_window: int | None = None  # at most this many requests per endpoint and 15 minutes
    poll_seconds: int = 60  # how often a finished sweep starts again
    max_results: int = 100  # tweets per page (10 to 100)
    overlap_seconds: int = 30  # how late X may index a tweet: the poller re-reads that much before its last sweep
    api_url: str | None = None  # the v2 API's base URL: X's by default


@dataclasses.dataclass(frozen=True, kw_only=True)
class LikeTweet:
    """Like a customer's tweet as the brand, as an agent who may work its conversation."""

    message_id: str
    agent_id: str


@runtime_checkable
class TweetLiker(Protocol):
    def like(self, account: ChannelAccount, tweet_id: str) -> None: ...


class XHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, registry: ChannelRegistry) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._registry = registry

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {ConfigureXAccount: self.configure, LikeTweet: self.like}

    def like(self, c: LikeTweet) -> Result:
        """The like is made on X at once, outside any transaction, as hiding a comment is: the platform call is
        the action itself, recorded (``tweet.liked``) once X took it. Liking twice is harmless on X."""
        with self._uow() as uow:
            message = uow.messages.get(c.message_id)
            conversation = uow.conversations.get(message.conversation_id)
            agent = uow.agents.get(c.agent_id)
            conversation.ensure_workable_by(agent.id, supervisor=agent.role in (Role.ADMIN, Role.SUPERVISOR))
            account = uow.accounts.get(message.channel_account_id)
        public_tweet = message.direction is Direction.INBOUND and message.visibility is Visibility.PUBLIC
        if account.kind is not ChannelKind.X or not public_tweet or not message.platform_message_id:
            raise InvalidInput(f"message {message.id} is not a customer's tweet; only those can be liked")
        liker = self._registry.for_kind(account.kind.value)
        if not isinstance(liker, TweetLiker):
            raise Conflict("tweets cannot be liked from Careline: no X connector is configured")
        try:
            liker.like(account, message.platform_message_id)
        except DeliveryError as error:
            again = " (try again in a moment)" if error.retryable else ""
            raise Conflict(f"X did not like the tweet: {error}{again}") from None
        with self._uow() as uow:
            uow.record(
                TweetLiked(
                    occurred_at=self._clock(),
                    actor=f"agent:{agent.id}",
                    conversation_id=message.conversation_id,
                    message_id=message.id,
                    platform_message_id=message.platform_message_id,
                    agent_id=agent.id,
                )
            )
            return message.conversation_id, uow.commit()

    def configure(self, c: ConfigureXAccount) -> Result:
        settings = validated(c)
        with self._uow() as uow:
            uow.agents.get(c.agent_id)
            account = x_account(uow, c.account)
            kept = {k: v for k, v in account.config.items() if k not in KEYS}
            save_settings(uow, account, kept | settings, agent_id=c.agent_id, at=self._clock())
            return account, uow.commit()


def validated(c: ConfigureXAccount) -> dict[str, Any]:
    """The settings as stored (defaults and empty values left out), or InvalidInput naming the first problem."""
    if c.mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}")
    if c.user_id is not None and not USER_ID.fullmatch(c.user_id):
        raise InvalidInput("user_id is the account's numeric X user id (not its @handle)")
    queries = tuple(q.strip() for q in c.search)
    if len(queries) > MAX_QUERIES or any(not q or len(q) > MAX_QUERY for q in queries):
        raise InvalidInput(f"search holds at most {MAX_QUERIES} queries of 1 to {MAX_QUERY} characters")
    if c.mode == "poll" and not c.user_id and not queries:
        raise InvalidInput("poll mode needs a user_id (for mentions) or search queries: there is nothing to poll")
    if c.requests_per_window is not None and not 1 <= c.requests_per_window <= 10_000:
        raise InvalidInput("requests_per_window is 1 to 10000 (or none: X's own limit)")
    if not 15 <= c.poll_seconds <= 86_400:
        raise InvalidInput("poll_seconds is 15 to 86400")
    if not 10 <= c.max_results <= 100:
        raise InvalidInput("max_results is 10 to 100")
    if not 0 <= c.overlap_seconds <= 600:
        raise InvalidInput("overlap_seconds is 0 to 600")
    where = urlsplit(c.api_url or "")
    if c.api_url is not None and (where.scheme not in ("https", "http") or not where.netloc):
        raise InvalidInput("api_url must be an http(s) URL, such as https://api.x.com/2")
    values: dict[str, Any] = {
        "mode": c.mode,
        "user_id": c.user_id,
        "search": list(queries) or None,
        "requests_per_window": c.requests_per_window,
        "poll_seconds": c.poll_seconds,
        "max_results": c.max_results,
        "overlap_seconds": c.overlap_seconds,
        "api_url": c.api_url,
    }
    return {k: v for k, v in values.items() if v is not None}


def x_account(uow: UnitOfWork, name: str) -> ChannelAccount:
    account = uow.accounts.find(ChannelKind.X.value, name)
    if account is None:
        raise NotFound(f"no X channel account {name!r}; create it first (kind x)")
    return account
