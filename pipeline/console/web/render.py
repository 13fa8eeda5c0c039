"""Server-side rendering with Jinja2, autoescape on for every template (I/O shell)."""

from __future__ import annotations

import datetime
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from pipeline.console import cases as rules
from pipeline.console.accounts import Session
from pipeline.console.i18n import age_text, translate

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline.console", "templates"),
    autoescape=True,  # every template, whatever its name: post text is hostile
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


ENV.filters["when"] = _when


def language(request: Request, session: Session | None) -> str:
    """The page's language: the account's, else `?lang=`, else the configured default."""
    if session is not None:
        return session.user.language
    asked = request.query_params.get("lang") or request.cookies.get("mimamori_lang")
    if asked in ("ja", "en"):
        return asked
    default: str = request.app.state.config.console.default_language
    return default


def render(request: Request, template: str, session: Session | None, *, status: int = 200,
           **context: Any) -> HTMLResponse:
    """Render a page with the common context (language, user, CSRF token, clock)."""
    lang = language(request, session)
    store = request.app.state.store
    now = store.now()
    page = ENV.get_template(template).render(
        t=lambda key: translate(lang, key),
        age=lambda seconds: age_text(seconds, lang),
        lang=lang, user=session.user if session else None,
        csrf=session.csrf_token if session else "", now=now, rules=rules, **context)
    return HTMLResponse(page, status_code=status)
