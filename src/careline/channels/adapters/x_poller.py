"""X (Twitter) in poll mode: the mentions timeline and recent searches of the v2 API, read with ``since_id`` cursors
within a request budget (docs/channels.md#x-twitter).

For the paid tiers without Account Activity webhooks. Each pass, for each account in poll mode and each of its
streams (mentions, each search query) that is due: pages are fetched while the endpoint's budget allows, each
page is stored (IngestMessages, committed) before the cursor moves past it, and the cursor and budget live in the
database (channels/polling.py, adapters/db/cursors.py). So a restart goes on mid-sweep, a repeat is stored once
(ingestion is idempotent on tweet ids) and nothing is skipped; no request is sent when X's ``remaining`` is 0
before its reset, nor beyond the account's own ``requests_per_window``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from careline.channels.adapters.x import parse_tweets, snowflake_at
from careline.channels.adapters.x_out import ACCESS_TOKEN, api_url
from careline.channels.model import ChannelAccount, ChannelKind, SecretsUnreadable
from careline.channels.polling import Budget, Cursor, PollStore
from careline.ingestion.commands import IngestMessages
from careline.kernel.clock import Clock

log = logging.getLogger(__name__)
BEARER_TOKEN = "bearer_token"
TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,public_metrics,note_tweet"
USER_FIELDS = "username,name,verified,public_metrics"
MAX_PAGES_PER_PASS = 50  # a bound on one stream's pages per pass, whatever the budget says
DEFAULT_POLL_SECONDS = 60
DEFAULT_OVERLAP_SECONDS = 30
# One process polls at a time (entrypoints/api/worker.py#Leased): a second would spend the request budget twice.
LEASE_NAME = "poll:x"
LEASE_SECONDS = 120.0  # longer than one pass (its pages and their timeouts) lasts


@dataclasses.dataclass(frozen=True)
class Stream:
    """One polled timeline: its cursor's key, the endpoint whose budget it spends, and how it is asked."""

    key: str  # "mentions", "search:<query>"
    endpoint: str  # "mentions", "search": the budget key (every query shares the search endpoint's)
    path: str
    params: dict[str, str]
    page_param: str  # the request parameter that carries meta.next_token
    overlap: timedelta  # how late X may index a tweet: those created this long before the last sweep are re-read


def streams(account: ChannelAccount) -> list[Stream]:
    """The account's streams: its mentions (with a ``user_id``) and each of its ``search`` queries."""
    config = account.config
    size = str(min(max(int(config.get("max_results") or 100), 10), 100))
    overlap = config.get("overlap_seconds")
    lag = timedelta(seconds=DEFAULT_OVERLAP_SECONDS if overlap is None else int(overlap))
    common = {"tweet.fields": TWEET_FIELDS, "expansions": "author_id", "user.fields": USER_FIELDS, "max_results": size}
    found = []
    if config.get("user_id"):
        path = f"/users/{config['user_id']}/mentions"
        found.append(Stream("mentions", "mentions", path, common, "pagination_token", lag))
    for query in config.get("search") or []:
        path, params = "/tweets/search/recent", {**common, "query": str(query)}
        found.append(Stream(f"search:{query}", "search", path, params, "next_token", lag))
    return found


class XPoller:
    """One pass at a time (``run_once``), run by the API's loop or ``careline poll``; the clock is injected."""

    def __init__(
        self,
        accounts: Callable[[], list[ChannelAccount]],
        ingest: Callable[[IngestMessages], Any],
        store: PollStore,
        client: httpx.Client,
        clock: Clock,
    ) -> None:
        self._accounts = accounts
        self._ingest = ingest
        self._store = store
        self._client = client
        self._clock = clock

    def run_once(self, limit: int = 50) -> int:
        """Poll every due stream of every account in poll mode; 0, so the loop then waits its interval."""
        for account in self._accounts():
            if account.kind is not ChannelKind.X or account.config.get("mode") != "poll":
                continue
            try:
                for stream in streams(account):
                    self.sweep(account, stream)
            except Exception:  # noqa: BLE001 - one account's trouble must not stop the others' polling
                log.exception("polling X account %s failed; trying again next pass", account.name)
        return 0

    def sweep(self, account: ChannelAccount, stream: Stream) -> int:
        """Fetch and store the stream's pages while it is due and its budget allows; the requests sent."""
        cursor = self._store.cursor(account.id, stream.key)
        cap = _positive(account.config.get("requests_per_window"))
        interval = timedelta(seconds=float(account.config.get("poll_seconds") or DEFAULT_POLL_SECONDS))
        sent = 0
        while sent < MAX_PAGES_PER_PASS and cursor.due(self._clock()):
            now = self._clock()
            budget = self._store.budget(account.id, stream.endpoint)
            if budget.wait_until(now, cap) is not None:
                break
            budget.spend(now)
            self._store.save_budget(account.id, stream.endpoint, budget, now)  # before the request: see Budget.spend
            sent += 1
            page = self._fetch(account, stream, cursor, budget)
            self._store.save_budget(account.id, stream.endpoint, budget, self._clock())
            if page is None:
                break
            delivery = parse_tweets(page, account=account.name, user_id=str(account.config.get("user_id") or ""))
            if delivery.messages:  # committed before the cursor moves past them: a crash here repeats, never skips
                self._ingest(IngestMessages(items=tuple(delivery.messages)))
            meta = page.get("meta")
            meta = meta if isinstance(meta, dict) else {}
            newest, token = meta.get("newest_id"), meta.get("next_token")
            newest_id, next_token = (str(newest) if newest else None), (str(token) if token else None)
            cursor.page_stored(newest_id, next_token, now, self._clock(), interval)
            self._store.save_cursor(account.id, stream.key, cursor, self._clock())
        return sent

    def _fetch(self, account: ChannelAccount, stream: Stream, cursor: Cursor, budget: Budget) -> dict[str, Any] | None:
        """One page, or None after recording why not (in ``budget``, and in ``cursor`` for a stale page token)."""
        params = dict(stream.params)
        since = _since(cursor, stream.overlap)
        if since:
            params["since_id"] = since
        if cursor.next_token:
            params[stream.page_param] = cursor.next_token
        where = f"X account {account.name}, {stream.key}"
        try:
            headers = {"Authorization": f"Bearer {_read_token(account)}"}
            response = self._client.get(api_url(account) + stream.path, params=params, headers=headers)
        except (httpx.HTTPError, SecretsUnreadable, KeyError) as error:
            budget.failed(self._clock(), f"{type(error).__name__}: {error}")
            log.warning("%s: %s; backing off until %s", where, budget.last_error, budget.blocked_until)
            return None
        budget.observe(response.headers)
        status, now = response.status_code, self._clock()
        if status == 429:
            budget.throttled(now, "429 Too Many Requests")
        elif status >= 500:
            budget.failed(now, f"X answered {status}")
        elif status == 400 and cursor.sweeping:
            budget.succeeded()
            cursor.restart_sweep()
            self._store.save_cursor(account.id, stream.key, cursor, now)
            log.warning("%s: X refused the page token (%s); sweeping again from since_id", where, response.text[:200])
            return None
        elif not 200 <= status < 300:
            budget.failed(now, f"X refused the request ({status}): {response.text[:300]}")
        else:
            payload = _json(response)
            if isinstance(payload, dict):
                budget.succeeded()
                return payload
            budget.failed(now, "X answered with something that is not a JSON object")
        log.warning("%s: %s; no request before %s", where, budget.last_error, budget.blocked_until)
        return None


def from_careline(careline: Any, client: httpx.Client | None = None) -> XPoller:
    """The poller over a wired application: its accounts, ingestion, database, HTTP client and clock."""
    from careline.adapters.db.cursors import PollStateStore  # the storage adapter, chosen here as bootstrap would

    def accounts() -> list[ChannelAccount]:
        with careline.uow(read_only=True) as uow:
            return [a for a in uow.accounts.all() if a.kind is ChannelKind.X and a.config.get("mode") == "poll"]

    store = PollStateStore(careline.engine)
    return XPoller(accounts, careline.handle, store, client or careline.http, careline.clock)


def _since(cursor: Cursor, overlap: timedelta) -> str | None:
    """``since_id``, lowered to re-read what X may have indexed late: tweets created within ``overlap`` before the
    last finished sweep began, which that sweep may not have seen although their ids are below its newest. They
    are stored once (ingestion is idempotent); an idle stream re-reads nothing, as its newest tweet is older."""
    if not cursor.since_id or not cursor.since_id.isdigit() or cursor.since_at is None or not overlap:
        return cursor.since_id
    floor = snowflake_at(cursor.since_at - overlap)
    return str(min(int(cursor.since_id), floor)) if floor > 0 else cursor.since_id


def _read_token(account: ChannelAccount) -> str:
    """The app-only bearer token (reading needs no user context), else the account's user token."""
    names = account.secrets.names
    if BEARER_TOKEN in names:
        return account.secrets[BEARER_TOKEN]
    if ACCESS_TOKEN in names:
        return account.secrets[ACCESS_TOKEN]
    raise KeyError(f"no {BEARER_TOKEN} or {ACCESS_TOKEN} secret")


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None
