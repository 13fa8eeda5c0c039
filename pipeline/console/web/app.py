"""The console's web app (Starlette): routes in one table, pages rendered on the server, the
keyboard flow as progressive enhancement in /static/console.js (I/O shell)."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.config import Config
from pipeline.console import cases as rules
from pipeline.console.accounts import AccountError
from pipeline.console.metrics import ConsoleMetrics
from pipeline.console.queue import Claim, Filters
from pipeline.console.roles import User
from pipeline.console.store import Store
from pipeline.console.views import QueueStat
from pipeline.console.web import admin
from pipeline.console.web.render import render
from pipeline.console.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Refused,
    SecurityHeaders,
    check_csrf,
    client_address,
    cookie_options,
    current_session,
    require,
)


def _filters(values: Any) -> Filters:
    def pick(name: str) -> str | None:
        value = values.get(name)
        return value[:128] if isinstance(value, str) and value else None
    return Filters(queue=pick("queue"), site=pick("site"), category=pick("category"))


def _filter_query(filters: Filters) -> str:
    from urllib.parse import urlencode
    pairs = [(k, v) for k, v in (("queue", filters.queue), ("site", filters.site),
                                 ("category", filters.category)) if v]
    return ("?" + urlencode(pairs)) if pairs else ""


async def login_page(request: Request) -> Response:
    session = await current_session(request)
    if session is not None:
        return RedirectResponse("/queues", 303)
    return _login_form(request, None, 200)


def _login_form(request: Request, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, status=status, error=error,
                      login_csrf=token)
    config: Config = request.app.state.config
    response.set_cookie(LOGIN_CSRF_COOKIE, token,
                        **cookie_options(request, config.console.secure_cookies == "always",
                                         3600))
    return response


async def login(request: Request) -> Response:
    config: Config = request.app.state.config
    store: Store = request.app.state.store
    await check_csrf(request, request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_hex())
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:1024]
    client = client_address(request)
    keys = [f"user:{username}", f"addr:{client}"]
    c = config.console
    if await run_in_threadpool(store.throttled, keys, c.login_max_failures, c.login_window_s):
        return _login_form(request, "login.throttled", 429)
    opened = await run_in_threadpool(
        lambda: store.login(username, password, client=client, ttl_s=c.session_ttl_s,
                            throttle_keys=keys))
    if opened is None:
        return _login_form(request, "login.failed", 401)
    token, _ = opened
    response = RedirectResponse("/queues", 303)
    response.set_cookie(SESSION_COOKIE, token,
                        **cookie_options(request, c.secure_cookies == "always",
                                         c.session_ttl_s))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    session = await require(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    await run_in_threadpool(request.app.state.store.logout, token, session.user)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def home(request: Request) -> Response:
    await require(request)
    return RedirectResponse("/queues", 303)


def sla_of(config: Config, queue: str) -> int | None:
    """The service level of a queue, seconds."""
    c, p = config.console, config.policy
    return {p.urgent_queue: c.urgent_sla_s, p.standard_queue: c.standard_sla_s,
            p.reports_queue: c.reports_sla_s, rules.ESCALATED: c.escalated_sla_s}.get(queue)


def queue_order(config: Config) -> Callable[[str], tuple[int, str]]:
    """Urgent first, then standard, reports, escalated, then any other queue by name."""
    p = config.policy
    rank = {p.urgent_queue: 0, p.standard_queue: 1, p.reports_queue: 2, rules.ESCALATED: 3}
    return lambda q: (rank.get(q, 4), q)


async def queues(request: Request) -> Response:
    session = await require(request)
    store: Store = request.app.state.store
    config: Config = request.app.state.config
    filters = _filters(request.query_params)
    stats = await request.app.state.queue_stats(session.user, filters)
    by_queue = {s.queue: s for s in stats}
    names = sorted(set(by_queue) | {config.policy.urgent_queue, config.policy.standard_queue,
                                    config.policy.reports_queue}, key=queue_order(config))
    if not session.user.at_least("lead"):
        names = [n for n in names if n != rules.ESCALATED]
    sites, categories = await request.app.state.filter_choices()
    if not session.user.all_sites:
        sites = sorted(session.user.sites)
    now = store.now()
    rows = []
    for name in names:
        stat = by_queue.get(name)
        oldest = (now - stat.oldest_ts) if stat and stat.oldest_ts is not None else None
        sla = sla_of(config, name)
        rows.append({"queue": name, "depth": stat.depth if stat else 0, "oldest": oldest,
                     "sla": sla, "overdue": oldest is not None and sla is not None
                     and oldest > sla})
    return render(request, "queues.html", session, rows=rows, filters=filters, sites=sites,
                  categories=categories, message=request.query_params.get("m"))


async def next_case(request: Request) -> Response:
    session = await require(request)
    form = await request.form()
    return await _claim_and_go(request, session.user, _filters(form))


async def _claim_and_go(request: Request, user: Any, filters: Filters) -> Response:
    store: Store = request.app.state.store
    metrics: ConsoleMetrics = request.app.state.metrics
    try:
        claim, lapsed = await run_in_threadpool(store.claim_next, user, filters)
    except AccountError as exc:
        raise HTTPException(403, exc.key) from None
    if lapsed:
        metrics.leases_lapsed.inc(lapsed)
    return _go(claim, filters)


def _go(claim: Claim | None, filters: Filters) -> Response:
    """To the claimed case, or back to the queues when there was none."""
    if claim is None:
        query = _filter_query(filters)
        return RedirectResponse(f"/queues{query}{'&' if query else '?'}m=queues.empty", 303)
    return RedirectResponse(f"/cases/{claim.case_id}{_filter_query(filters)}", 303)


async def case_page(request: Request) -> Response:
    session = await require(request)
    store: Store = request.app.state.store
    config: Config = request.app.state.config
    case_id = request.path_params["case_id"]
    view = await run_in_threadpool(store.case_view, session.user, case_id)
    if view is None:
        raise HTTPException(404, "error.not_found")
    case = view.case
    held = (case.claimed_by == session.user.user_id and case.lease_until is not None
            and case.lease_until >= store.now() and case.status in ("open", rules.ESCALATED))
    earlier_hits = await run_in_threadpool(store.case_hits, [e.case_id for e in view.earlier])
    return render(request, "case.html", session, view=view, case=case, held=held,
                  segments=rules.segments(case.text, view.hits),
                  earlier_hits=earlier_hits, filters=_filters(request.query_params),
                  renew_s=config.console.lease_renew_interval_s,
                  shortcuts=rules.SHORTCUTS, message=request.query_params.get("m"))


async def decide(request: Request) -> Response:
    session = await require(request)
    store: Store = request.app.state.store
    config: Config = request.app.state.config
    metrics: ConsoleMetrics = request.app.state.metrics
    form = await request.form()
    case_id = request.path_params["case_id"]
    claim_id = str(form.get("claim_id") or "")
    try:
        parsed = rules.parse_decision(str(form.get("decision") or ""),
                                      str(form.get("duration_s") or ""),
                                      str(form.get("note") or ""), config.console.max_note_chars)
    except rules.DecisionError as exc:
        raise HTTPException(400, str(exc)) from None
    filters = _filters(form)
    try:
        done = await run_in_threadpool(store.decide, session.user, case_id, claim_id, parsed,
                                       config.topics.decisions, filters)
    except AccountError as exc:
        raise HTTPException(409, exc.key) from None
    if not done.duplicate:
        metrics.decisions.labels(parsed.decision, session.user.role).inc()
        if done.claimed_ts is not None:
            metrics.decision_seconds.observe(max(0.0, store.now() - done.claimed_ts))
        request.app.state.on_decision()
    if done.lapsed:
        metrics.leases_lapsed.inc(done.lapsed)
    return _go(done.next, filters)


async def renew(request: Request) -> Response:
    session = await require(request)
    store: Store = request.app.state.store
    claim_id = request.headers.get("x-claim-id", "") or str((await request.form()).get(
        "claim_id") or "")
    try:
        claim = await run_in_threadpool(store.renew, session.user,
                                        request.path_params["case_id"], claim_id)
    except AccountError:
        return JSONResponse({"held": False}, status_code=409)
    return JSONResponse({"held": True, "lease_until": claim.lease_until})


async def release(request: Request) -> Response:
    session = await require(request)
    form = await request.form()
    await run_in_threadpool(request.app.state.store.release, session.user,
                            request.path_params["case_id"], str(form.get("claim_id") or ""))
    return RedirectResponse(f"/queues{_filter_query(_filters(form))}", 303)


async def settings(request: Request) -> Response:
    session = await require(request)
    form = await request.form()
    await run_in_threadpool(
        lambda: request.app.state.store.update_settings(
            session.user, mask_abusive=form.get("mask_abusive") == "on",
            language=str(form.get("language") or session.user.language)))
    return RedirectResponse("/queues?m=done.saved", 303)


async def audit_page(request: Request) -> Response:
    session = await require(request, "lead")
    action = request.query_params.get("action") or None
    rows = await run_in_threadpool(request.app.state.store.audit_entries, 300, action)
    return render(request, "audit.html", session, rows=rows, action=action)


async def audit_csv(request: Request) -> Response:
    await require(request, "lead")
    store: Store = request.app.state.store

    def lines() -> Any:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["audit_id", "time", "actor", "action", "case_id", "target", "detail"])
        yield "\ufeff" + buffer.getvalue()  # BOM: spreadsheets then read UTF-8 Japanese
        for batch in store.audit_export():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for r in batch:
                writer.writerow([r.audit_id, rules.rfc3339(r.ts), _cell(r.actor), r.action,
                                 r.case_id or "", _cell(r.target or ""), _cell(r.detail)])
            yield buffer.getvalue()

    async def body() -> AsyncIterator[bytes]:
        async for chunk in iterate_in_threadpool(lines()):
            yield chunk.encode()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="mimamori-audit.csv"'})


def _cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, Refused) and exc.status_code == 303:
        return RedirectResponse("/login", 303)
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    session = request.scope.get("session")
    key = exc.detail if isinstance(exc.detail, str) and exc.detail.startswith("error.") \
        else "error.not_found" if exc.status_code == 404 else "error.forbidden"
    return render(request, "error.html", session, status=exc.status_code, error=key)


def create_app(config: Config, store: Store, metrics: ConsoleMetrics, *,
               on_decision: Callable[[], None] = lambda: None) -> Starlette:
    """The console's ASGI app.

    Args:
        config: the whole configuration (`console`, `topics`, `policy`).
        store: the opened, migrated store.
        metrics: where decisions and lapsed leases are counted.
        on_decision: called after each new decision (wakes the outbox relay).
    """
    from importlib.resources import files

    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home, methods=["GET"]),
        Route("/queues", queues, methods=["GET"]),
        Route("/next", next_case, methods=["POST"]),
        Route("/cases/{case_id:str}", case_page, methods=["GET"]),
        Route("/cases/{case_id:str}/decide", decide, methods=["POST"]),
        Route("/cases/{case_id:str}/renew", renew, methods=["POST"]),
        Route("/cases/{case_id:str}/release", release, methods=["POST"]),
        Route("/settings", settings, methods=["POST"]),
        Route("/audit", audit_page, methods=["GET"]),
        Route("/audit.csv", audit_csv, methods=["GET"]),
        *admin.routes(),
        Mount("/static", StaticFiles(directory=str(files("pipeline.console") / "static")),
              name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={HTTPException: _error})
    app.state.config = config
    app.state.store = store
    app.state.metrics = metrics
    app.state.on_decision = on_decision
    choices = _Cached(60.0)
    stats = _Cached(config.console.refresh_interval_ms / 1000)

    async def filter_choices() -> tuple[list[str], list[str]]:
        # Distinct sites and categories over every case: they change slowly.
        value: tuple[list[str], list[str]] = await choices.get(
            "all", store.now(), lambda: store.sites_and_categories())
        return value

    async def queue_stats(user: User, filters: Filters) -> list[QueueStat]:
        # Counting a million open cases takes a while; reviewers of the same sites share one
        # count per refresh interval instead of counting on every page view.
        scope = ("*",) if user.all_sites else tuple(sorted(user.sites))
        value: list[QueueStat] = await stats.get(
            (scope, filters), store.now(), lambda: store.queue_stats(user, filters))
        return value

    app.state.filter_choices = filter_choices
    app.state.queue_stats = queue_stats
    return app


class _Cached:
    """Values computed in the thread pool, kept for `ttl_s`, computed once at a time per key
    (a burst of page views waits for one computation instead of starting one each)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.values: dict[Any, tuple[float, Any]] = {}
        self.locks: dict[Any, asyncio.Lock] = {}

    async def get(self, key: Any, now: float, compute: Callable[[], Any]) -> Any:
        cached = self.values.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self.locks.setdefault(key, asyncio.Lock()):
            cached = self.values.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
            value = await run_in_threadpool(compute)
            if len(self.values) > 10_000:  # filters are user input: bound the memory
                self.values.clear()
            self.values[key] = (now + self.ttl_s, value)
            return value
