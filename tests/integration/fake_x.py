"""A local stand-in for X's v2 API (docs/channels.md#x-twitter), in X's documented formats: the mentions timeline
and recent search with since_id and page tokens, rate-limit headers counted per 15-minute window of an injected
clock, scripted faults (429, 500, a timeout), and the write endpoints replies use (tweets, DMs, likes)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BRAND = "2244994945"
TOKEN = "bearer-token-for-tests"
WINDOW_SECONDS = 900
TWEPOCH_MS = 1288834974657


class FakeX:
    def __init__(self, clock: Callable[[], datetime], *, limit: int = 3, token: str = TOKEN) -> None:
        self.clock = clock
        self.limit = limit
        self.token = token
        self.tweets: list[dict[str, Any]] = []  # v2 tweet objects, oldest first
        self.visible_at: dict[str, datetime] = {}  # tweet id -> when X's index shows it (late indexing)
        self.users: dict[str, dict[str, Any]] = {}
        self.faults: dict[int, str] = {}  # request number (1-based, reads only) -> "429" | "500" | "timeout"
        self.reads: list[tuple[str, dict[str, str]]] = []  # (path, query) of every read, in order
        self.per_window: Counter[tuple[str, int]] = Counter()  # (endpoint, window) -> requests X counted
        self.over_limit = 0  # reads that came when X had none left in the window: must stay 0
        self.posts: list[tuple[str, dict[str, str], dict[str, Any]]] = []  # (path, headers, body) of writes
        self.post_statuses: list[int] = []  # scripted statuses for writes (0: a timeout), then 201
        self.expired: str | None = None  # a page token X no longer takes (400)
        self._lock = threading.Lock()
        self._serial = 0
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/2"
        self._thread = threading.Thread(target=self._http.serve_forever, name="fake-x", daemon=True)

    def __enter__(self) -> FakeX:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(10)

    def mention(self, author: str, text: str, *, reply_to: str | None = None, indexed_after: float = 0) -> str:
        """A new tweet mentioning the brand, created now (its id is a Snowflake of now: newer than every other),
        shown by the API ``indexed_after`` seconds later; its id."""
        with self._lock:
            self._serial += 1
            now = self.clock()
            tweet_id = str(((int(now.timestamp() * 1000) - TWEPOCH_MS) << 22) + self._serial)
            self.visible_at[tweet_id] = now + timedelta(seconds=indexed_after)
            tweet: dict[str, Any] = {
                "id": tweet_id,
                "text": f"@AcmeSupport {text}",
                "author_id": author,
                "created_at": self.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "conversation_id": reply_to or tweet_id,
                "edit_history_tweet_ids": [tweet_id],
            }
            if reply_to:
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            self.tweets.append(tweet)
            self.users.setdefault(author, {"id": author, "name": f"User {author}", "username": f"user{author}"})
            return tweet_id

    def read(self, path: str, query: dict[str, str], auth: str | None) -> tuple[int, dict[str, str], Any]:
        """One GET: its status, headers and JSON body."""
        if auth != f"Bearer {self.token}":
            return 401, {}, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        endpoint = "search" if path.endswith("/tweets/search/recent") else "mentions"
        with self._lock:
            self.reads.append((path, query))
            fault = self.faults.get(len(self.reads))
            window = int(self.clock().timestamp()) // WINDOW_SECONDS
            used = self.per_window[(endpoint, window)]
            reset = str((window + 1) * WINDOW_SECONDS)
            if used >= self.limit:
                self.over_limit += 1
                return 429, _limits(self.limit, 0, reset), _too_many()
            self.per_window[(endpoint, window)] = used + 1
            headers = _limits(self.limit, self.limit - used - 1, reset)
            if fault == "429":
                return 429, _limits(self.limit, 0, reset), _too_many()
            if fault == "500":
                return 500, headers, {"title": "Internal Server Error", "status": 500}
            if self.expired and self.expired in (query.get("pagination_token"), query.get("next_token")):
                return 400, headers, _invalid_token(self.expired)
            page = self._page(endpoint, query)
        if fault == "timeout":
            time.sleep(0.6)  # longer than the client waits: X got the request, the poller never hears back
        return 200, headers, page

    def _page(self, endpoint: str, query: dict[str, str]) -> dict[str, Any]:
        since, until = int(query.get("since_id") or 0), query.get("pagination_token") or query.get("next_token")
        words, now = query.get("query", "").lower(), self.clock()
        found = [
            t
            for t in sorted(self.tweets, key=lambda t: int(t["id"]), reverse=True)
            if int(t["id"]) > since and (until is None or int(t["id"]) < int(until))
            if endpoint == "mentions" or words in t["text"].lower()
            if self.visible_at[t["id"]] <= now
        ]
        size = int(query.get("max_results") or 10)
        page, rest = found[:size], found[size:]
        if not page:
            return {"meta": {"result_count": 0}}
        meta: dict[str, Any] = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
        if rest:
            meta["next_token"] = page[-1]["id"]  # an opaque token to the client; here: below this id
        authors = {t["author_id"] for t in page}
        return {"data": page, "includes": {"users": [self.users[a] for a in sorted(authors)]}, "meta": meta}

    def write(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            self.posts.append((path, headers, body))
            status = self.post_statuses.pop(0) if self.post_statuses else 201
            serial = len(self.posts)
        if status == 0:  # a timeout: X got it, the client stops waiting first
            time.sleep(0.6)
            status = 201
        if status == 429:
            return 429, _too_many()
        if status >= 400:
            detail = "You are not allowed to create a Tweet with duplicate content."
            return status, {"title": "Forbidden", "detail": detail, "type": "about:blank", "status": status}
        if path.endswith("/likes"):
            return 200, {"data": {"liked": True}}
        if "/dm_conversations/with/" in path:
            return status, {"data": {"dm_conversation_id": f"{BRAND}-x", "dm_event_id": f"19000000000000{serial:05d}"}}
        return status, {
            "data": {"id": f"18000000000000{serial:05d}", "text": body.get("text"), "edit_history_tweet_ids": []}
        }


def _limits(limit: int, remaining: int, reset: str) -> dict[str, str]:
    return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": reset}


def _invalid_token(token: str) -> dict[str, Any]:
    return {
        "errors": [
            {
                "parameters": {"pagination_token": [token]},
                "message": f"The `pagination_token` query parameter value [{token}] is not valid.",
            }
        ],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def _too_many() -> dict[str, Any]:
    return {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}


def _handler(fake: FakeX) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, headers, body = fake.read(parts.path, query, self.headers.get("Authorization"))
            self._answer(status, headers, body)

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, body = fake.write(urlsplit(self.path).path, dict(self.headers.items()), json.loads(raw or b"{}"))
            self._answer(status, {}, body)

        def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout fault)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
