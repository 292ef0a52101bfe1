"""A small synchronous client of the HTTP API, used by `careline replay` and the demo's agents (docs/api.md)."""

from __future__ import annotations

from typing import Any

import httpx

PREFIX = "/api/v1"


class ApiError(Exception):
    """The server answered with an error, or could not be reached (``status`` 0)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}" if status else detail)
        self.status = status
        self.detail = detail


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        if token:
            self.use_token(token)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def use_token(self, token: str) -> None:
        self._http.headers["Authorization"] = f"Bearer {token}"

    # -- transport ---------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """JSON of a 2xx answer (or of a status listed in ``ok``); raises ApiError otherwise."""
        try:
            response = self._http.request(method, PREFIX + path, **kwargs)
        except httpx.TransportError as error:
            raise ApiError(0, f"cannot reach the Careline API at {self.base_url}: {error}") from error
        if response.is_success or response.status_code in ok:
            return response.json() if response.content else None
        raise ApiError(response.status_code, _detail(response))

    # -- the calls the replay and the simulated agents make -----------------------------------------
    def login(self, email: str, password: str) -> dict[str, Any]:
        """Exchange email and password for a token, which this client then uses; returns the agent."""
        body = self.request("POST", "/auth/token", json={"email": email, "password": password})
        self.use_token(body["token"])
        return dict(body["agent"])

    def set_status(self, status: str) -> None:
        self.request("PUT", "/me/status", json={"status": status})

    def create_channel_account(self, kind: str, name: str) -> bool:
        """True when created, False when it existed already (409)."""
        try:
            self.request("POST", "/channel-accounts", json={"kind": kind, "name": name})
        except ApiError as error:
            if error.status == 409:
                return False
            raise
        return True

    def post_messages(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """One batch; 422 (every item refused) still carries the per-item results."""
        body = self.request("POST", "/messages", json=items, ok=(422,))
        if not isinstance(body, dict) or "results" not in body:
            raise ApiError(422, f"the batch was refused: {body}")
        return body

    def conversations(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.request("GET", "/conversations", params=params)["items"])

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/conversations/{conversation_id}"))

    def act(self, conversation_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
        """accept, replies, notes, tags, resolve or reopen."""
        return self.request("POST", f"/conversations/{conversation_id}/{action}", json=body or {})

    def summary(self) -> dict[str, Any]:
        return dict(self.request("GET", "/reports/summary"))


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:300]
