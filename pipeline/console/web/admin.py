"""Pages of leads (escalated cases, overturns) and chiefs (accounts, reviewer statistics)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.config import Config
from pipeline.console import cases as rules
from pipeline.console.accounts import AccountError
from pipeline.console.metrics import ConsoleMetrics
from pipeline.console.roles import ROLES, parse_sites
from pipeline.console.store import Store
from pipeline.console.web.render import render
from pipeline.console.web.security import require

STATS_WINDOW_S = 30 * 86_400


async def escalated(request: Request) -> Response:
    session = await require(request, "lead")
    store: Store = request.app.state.store
    rows = await run_in_threadpool(store.escalated, session.user)
    hits = await run_in_threadpool(store.case_hits, [r.case_id for r in rows])
    return render(request, "escalated.html", session, rows=rows, hits=hits)


async def decisions(request: Request) -> Response:
    session = await require(request, "lead")
    store: Store = request.app.state.store
    rows = await run_in_threadpool(store.recent_decisions, session.user)
    hits = await run_in_threadpool(store.case_hits, sorted({r.case_id for r in rows}))
    return render(request, "decisions.html", session, rows=rows, hits=hits,
                  message=request.query_params.get("m"), error=request.query_params.get("e"))


async def overturn(request: Request) -> Response:
    session = await require(request, "lead")
    store: Store = request.app.state.store
    config: Config = request.app.state.config
    metrics: ConsoleMetrics = request.app.state.metrics
    form = await request.form()
    try:
        parsed = rules.parse_decision(str(form.get("decision") or ""),
                                      str(form.get("duration_s") or ""),
                                      str(form.get("note") or ""), config.console.max_note_chars)
        done = await run_in_threadpool(store.overturn, session.user,
                                       request.path_params["decision_id"], parsed,
                                       config.topics.decisions)
    except rules.DecisionError as exc:
        return RedirectResponse(f"/lead/decisions?e={exc}", 303)
    except AccountError as exc:
        return RedirectResponse(f"/lead/decisions?e={exc.key}", 303)
    if not done.duplicate:
        metrics.decisions.labels(parsed.decision, session.user.role).inc()
        request.app.state.on_decision()
    return RedirectResponse("/lead/decisions?m=done.overturned", 303)


async def users_page(request: Request) -> Response:
    session = await require(request, "chief")
    store: Store = request.app.state.store
    accounts = await run_in_threadpool(store.list_users)
    return render(request, "users.html", session, accounts=accounts, roles=ROLES,
                  message=request.query_params.get("m"), error=request.query_params.get("e"))


async def users_add(request: Request) -> Response:
    session = await require(request, "chief")
    store: Store = request.app.state.store
    config: Config = request.app.state.config
    form = await request.form()
    sites = parse_sites(str(form.get("sites") or ""))
    if not session.user.covers(sites):
        return RedirectResponse("/chief/users?e=error.sites", 303)
    try:
        await run_in_threadpool(
            lambda: store.add_user(str(form.get("username") or ""), str(form.get("role") or ""),
                                   str(form.get("password") or ""), sites,
                                   language=config.console.default_language,
                                   actor=session.user))
    except AccountError as exc:
        return RedirectResponse(f"/chief/users?e={exc.key}", 303)
    return RedirectResponse("/chief/users?m=done.saved", 303)


async def users_change(request: Request) -> Response:
    session = await require(request, "chief")
    store: Store = request.app.state.store
    form = await request.form()
    username = request.path_params["username"]
    target = await run_in_threadpool(store.get_user, username)
    if target is None:
        return RedirectResponse("/chief/users?e=error.no_such_user", 303)
    if not session.user.covers(target.sites):  # another site's chief's staff
        raise HTTPException(403, "error.forbidden")
    action = str(form.get("action") or "")
    try:
        if action in ("disable", "enable"):
            await run_in_threadpool(lambda: store.set_disabled(
                username, action == "disable", actor=session.user))
        elif action == "reset":
            await run_in_threadpool(lambda: store.reset_password(
                username, str(form.get("password") or ""), actor=session.user))
        elif action == "change":
            sites = parse_sites(str(form.get("sites") or ""))
            role: Any = str(form.get("role") or "")
            if not session.user.covers(sites):
                return RedirectResponse("/chief/users?e=error.sites", 303)
            await run_in_threadpool(lambda: store.set_role_and_sites(
                username, role, sites, actor=session.user))
        else:
            raise HTTPException(400, "error.not_found")
    except AccountError as exc:
        return RedirectResponse(f"/chief/users?e={exc.key}", 303)
    return RedirectResponse("/chief/users?m=done.saved", 303)


async def stats(request: Request) -> Response:
    session = await require(request, "chief")
    store: Store = request.app.state.store
    rows = await run_in_threadpool(store.reviewer_stats, store.now() - STATS_WINDOW_S)
    return render(request, "stats.html", session, rows=rows, decisions=rules.DECISIONS)


def routes() -> list[Route]:
    """The lead and chief routes."""
    return [
        Route("/lead/escalated", escalated, methods=["GET"]),
        Route("/lead/decisions", decisions, methods=["GET"]),
        Route("/lead/decisions/{decision_id:str}/overturn", overturn, methods=["POST"]),
        Route("/chief/users", users_page, methods=["GET"]),
        Route("/chief/users", users_add, methods=["POST"]),
        Route("/chief/users/{username:str}", users_change, methods=["POST"]),
        Route("/chief/stats", stats, methods=["GET"]),
    ]
