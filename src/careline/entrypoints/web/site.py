"""The desktop's part of the application: its routes, its static files, and errors answered as pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from careline.entrypoints.web import approvals, calls, canned, collision, dashboard, deliveries, desk, live, pages
from careline.entrypoints.web.security import CsrfRejected, LoginRequired, PageForbidden, login_url

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    # Only our own scripts and styles run; inline script and other origins are refused by the browser.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def install(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(approvals.router)
    app.include_router(desk.router)
    app.include_router(dashboard.router)
    app.include_router(canned.router)
    app.include_router(deliveries.router)
    app.include_router(calls.router)
    app.include_router(live.router)
    app.include_router(collision.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(PageForbidden, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfRejected, _csrf_rejected)  # type: ignore[arg-type]

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith("/api/"):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response


def is_page(request: Request) -> bool:
    """A request of the desktop (not of the JSON API)."""
    return not request.url.path.startswith("/api/") and request.url.path != "/healthz"


def _login_required(request: Request, error: LoginRequired) -> Response:
    """A page asked for in the browser goes to the sign-in form; anything else (a script's fetch, a beacon, a
    form post whose session ended) answers 401, so that no hidden redirect replaces an open sign-in form's
    CSRF cookie."""
    wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
    if not wants_page or request.url.path in ("/live", "/offers"):
        return Response(status_code=401)
    return RedirectResponse(login_url(error.next_path), status_code=303)


def _forbidden(request: Request, error: PageForbidden) -> Response:
    return pages.render(request, "error.html", 403, title="Not for you", detail=str(error) or "Forbidden.")


def _csrf_rejected(request: Request, _error: CsrfRejected) -> Response:
    detail = "This form was not sent by one of this site's pages (or it expired): reload the page and try again."
    return pages.render(request, "error.html", 403, title="Request refused", detail=detail)


def error_page(request: Request, code: int, detail: str) -> Response:
    titles = {404: "Not found", 403: "Not for you", 409: "Changed meanwhile", 422: "Not accepted"}
    return pages.render(request, "error.html", code, title=titles.get(code, "Something went wrong"), detail=detail)
