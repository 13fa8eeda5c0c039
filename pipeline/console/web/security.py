"""Security of the console's web edge (I/O shell): response headers, the session cookie, the
CSRF check, and access control by role and site.

- Every response carries a Content-Security-Policy without inline script or style,
  `X-Frame-Options: DENY`, `nosniff`, no referrer; pages are not cached.
- The session cookie is HttpOnly, SameSite=Strict, Secure over https, and expires with the
  session. The login form, which has no session yet, uses a double-submit CSRF cookie.
- Every state-changing request (POST) must carry the session's CSRF token (form field `csrf`
  or header `X-CSRF-Token`); without it: 403.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.console.accounts import Session
from pipeline.console.roles import Role

SESSION_COOKIE = "mimamori_session"
LOGIN_CSRF_COOKIE = "mimamori_login_csrf"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class Refused(HTTPException):
    """An anonymous or unauthorised request; anonymous GETs are sent to the login page."""


def is_https(request: Request, always: bool) -> bool:
    """Whether cookies must be Secure."""
    return always or request.url.scheme == "https"


def cookie_options(request: Request, always_secure: bool, max_age: int) -> dict[str, Any]:
    """Options of every cookie the console sets."""
    return {"httponly": True, "samesite": "strict", "secure": is_https(request, always_secure),
            "max_age": max_age, "path": "/"}


async def current_session(request: Request) -> Session | None:
    """The request's live session, or None (cached on the request)."""
    if "session" in request.scope:
        cached: Session | None = request.scope["session"]
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    session = None
    if token and len(token) < 200:
        session = await run_in_threadpool(request.app.state.store.session, token)
    request.scope["session"] = session
    return session


async def require(request: Request, role: Role = "staff") -> Session:
    """The session of a user with at least `role`, else refuse (login for anonymous GETs,
    401 for anonymous posts, 403 for a user without the role), and for POSTs the CSRF check.

    Raises:
        Refused: anonymous or without the role.
        HTTPException: 403 on a POST without the session's CSRF token.
    """
    session = await current_session(request)
    if session is None:
        raise Refused(401 if request.method != "GET" else 303, "login required")
    if not session.user.at_least(role):
        raise Refused(403, "error.forbidden")
    if request.method == "POST":
        await check_csrf(request, session.csrf_token)
    return session


async def form_value(request: Request, name: str) -> str:
    """One field of the posted form ('' when absent)."""
    form = await request.form()
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse a POST whose token (form field or header) is not `expected`.

    Raises:
        HTTPException: 403.
    """
    sent = request.headers.get("x-csrf-token") or await form_value(request, "csrf")
    if not sent or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "error.csrf")


def client_address(request: Request) -> str:
    """The client's address, for throttling and the audit log."""
    return request.client.host if request.client else "unknown"
