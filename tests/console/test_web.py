"""The console's web app through Starlette's test client: access control, CSRF, headers,
hostile posts shown as text, the decision flow. (The browser tests drive real Chromium.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from starlette.routing import Route
from starlette.testclient import TestClient

from pipeline.config import Config
from pipeline.console.cases import case_id
from pipeline.console.metrics import ConsoleMetrics
from pipeline.console.store import Store
from pipeline.console.web.app import create_app
from pipeline.contract.messages import Hit
from tests.console.conftest import CHEAP_HASHER, Clock, item
from tests.console.webutil import PASSWORD, login, page_csrf

HOSTILE = ('<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
           '<a href="javascript:window.pwned=3">link</a> しね \u202eevil\u202c end')


@pytest.fixture
def sqlite_store(tmp_path: object, clock: Clock) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path}/web.db", clock=clock)
    store.hasher = CHEAP_HASHER
    store.migrate()
    for name, role, sites in (("staff-a", "staff", "site-a"), ("staff-b", "staff", "site-b"),
                              ("lead", "lead", "site-a,site-b"), ("chief", "chief", "*")):
        store.add_user(name, role, PASSWORD, frozenset(sites.split(",")))
    yield store
    store.close()


@pytest.fixture
def metrics() -> ConsoleMetrics:
    return ConsoleMetrics(CollectorRegistry())


@pytest.fixture
def client(sqlite_store: Store, metrics: ConsoleMetrics) -> Iterator[TestClient]:
    app = create_app(Config(), sqlite_store, metrics)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def _routes(client: TestClient) -> list[tuple[str, str]]:
    out = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route):
            path = re.sub(r"\{(\w+):str\}", "x", route.path)
            out += [(m, path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return out


def test_every_page_but_login_refuses_an_anonymous_user(client: TestClient) -> None:
    routes = _routes(client)
    assert len(routes) >= 20
    for method, path in routes:
        if path == "/login":
            continue
        answer = client.request(method, path, follow_redirects=False)
        if method == "GET":
            assert (answer.status_code, answer.headers.get("location")) == (303, "/login"), path
        else:
            assert answer.status_code == 401, (method, path)
    assert client.get("/login").status_code == 200


def test_wrong_password_is_refused_and_logins_are_throttled(client: TestClient) -> None:
    assert login(client, "staff-a", "wrong password!").status_code == 401
    assert login(client, "nobody", "wrong password!").status_code == 401
    for _ in range(3):
        assert login(client, "staff-a", "wrong password!").status_code == 401
    # five failures for the account within the window: even the right password waits
    assert login(client, "staff-a").status_code == 429
    assert login(client, "staff-b").status_code == 429  # and so does this client address


def test_staff_cannot_reach_lead_or_chief_pages(client: TestClient) -> None:
    assert login(client, "staff-a").status_code == 303
    for path in ("/lead/escalated", "/lead/decisions", "/chief/users", "/chief/stats",
                 "/audit", "/audit.csv"):
        assert client.get(path).status_code == 403, path
    csrf = page_csrf(client)
    assert client.post("/chief/users", data={"csrf": csrf, "username": "x", "role": "chief",
                                             "sites": "*", "password": PASSWORD}
                       ).status_code == 403
    assert client.post("/next", data={"csrf": csrf, "queue": "escalated"}).status_code == 403


def test_staff_cannot_see_another_sites_case(client: TestClient, sqlite_store: Store) -> None:
    sqlite_store.ingest([item("p1", site="site-b")])
    login(client, "staff-a")
    assert client.get(f"/cases/{case_id('site-b', 'p1')}").status_code == 404
    login(client, "staff-b")
    assert client.get(f"/cases/{case_id('site-b', 'p1')}").status_code == 200


def test_state_changes_without_the_csrf_token_are_refused(
        client: TestClient, sqlite_store: Store) -> None:
    sqlite_store.ingest([item("p1")])
    # the login form itself: its token must match its cookie
    client.get("/login")
    assert client.post("/login", data={"username": "staff-a", "password": PASSWORD}
                       ).status_code == 403
    assert client.post("/login", data={"username": "staff-a", "password": PASSWORD,
                                       "csrf": "forged"}).status_code == 403
    login(client, "chief")
    good = page_csrf(client)
    for path, data in (("/next", {}), ("/settings", {"language": "en"}), ("/logout", {}),
                       ("/chief/users", {"username": "evil", "role": "chief", "sites": "*",
                                         "password": PASSWORD}),
                       (f"/cases/{case_id('site-a', 'p1')}/decide", {"decision": "delete"})):
        assert client.post(path, data=data, follow_redirects=False).status_code == 403, path
        forged = client.post(path, data=data | {"csrf": good[:-2] + "xx"},
                             follow_redirects=False)
        assert forged.status_code == 403, path
    assert sqlite_store.get_user("evil") is None
    assert client.post("/next", data={"csrf": good}, follow_redirects=False).status_code == 303


def test_security_headers_and_cookie_flags(client: TestClient) -> None:
    page = client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    answer = login(client, "staff-a")
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    secure = TestClient(client.app, base_url="https://testserver")
    assert "Secure" in login(secure, "staff-a").headers["set-cookie"]
    assert "<script>" not in page.text.replace('<script src="/static/console.js" defer>', "")


def test_a_hostile_post_is_shown_as_text(client: TestClient, sqlite_store: Store) -> None:
    start = HOSTILE.index("しね")
    sqlite_store.ingest([item("p1", text=HOSTILE,
                              hits=[Hit("しね", "ng", "abuse", start, start + 2)])])
    login(client, "staff-a")
    page = client.get(f"/cases/{case_id('site-a', 'p1')}")
    assert page.status_code == 200
    body = page.text
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in body
    assert "<script>window" not in body
    assert '<img src=x' not in body
    assert 'href="javascript:' not in body
    assert "\u202e" not in body  # the override is shown by name, never applied
    assert '<span class="ctl">U+202E</span>' in body
    assert '<mark class="hit" data-hits="0" title="しね (abuse) ">しね</mark>' in body


def test_claim_decide_and_straight_to_the_next_case(
        client: TestClient, sqlite_store: Store, metrics: ConsoleMetrics, clock: Clock) -> None:
    sqlite_store.ingest([item("p1", priority=90, queue="urgent"), item("p2")])
    login(client, "staff-a")
    csrf = page_csrf(client)
    first = client.post("/next", data={"csrf": csrf}, follow_redirects=False)
    assert first.headers["location"] == f"/cases/{case_id('site-a', 'p1')}"
    page = client.get(first.headers["location"]).text
    claim = re.search(r'name="claim_id" value="(\w+)"', page)
    assert claim is not None
    clock.now += 42
    decided = client.post(f"/cases/{case_id('site-a', 'p1')}/decide", follow_redirects=False,
                          data={"csrf": csrf, "claim_id": claim.group(1),
                                "decision": "suspend", "duration_s": "604800", "note": "脅迫"})
    assert decided.headers["location"] == f"/cases/{case_id('site-a', 'p2')}"
    again = client.post(f"/cases/{case_id('site-a', 'p1')}/decide", follow_redirects=False,
                        data={"csrf": csrf, "claim_id": claim.group(1),
                              "decision": "suspend", "duration_s": "604800", "note": "脅迫"})
    assert again.status_code == 303  # a double submit is harmless
    assert len(sqlite_store.claim_outbox(10, 60)) == 1
    r = metrics.registry
    assert r.get_sample_value("mimamori_console_decisions_total",
                              {"decision": "suspend", "role": "staff"}) == 1
    assert r.get_sample_value("mimamori_console_decision_seconds_sum") == 42
    assert r.get_sample_value("mimamori_console_decision_seconds_bucket", {"le": "60.0"}) == 1
    assert r.get_sample_value("mimamori_console_decision_seconds_bucket", {"le": "30.0"}) == 0


def test_a_decision_without_the_lease_is_refused(client: TestClient,
                                                 sqlite_store: Store) -> None:
    sqlite_store.ingest([item("p1")])
    login(client, "staff-a")
    csrf = page_csrf(client)
    answer = client.post(f"/cases/{case_id('site-a', 'p1')}/decide",
                         data={"csrf": csrf, "claim_id": "0" * 32, "decision": "delete"})
    assert answer.status_code == 409
    assert "担当していません" in answer.text
    assert sqlite_store.claim_outbox(10, 60) == []


def test_the_audit_log_exports_as_csv_with_formulas_defused(
        client: TestClient, sqlite_store: Store) -> None:
    login(client, "=HYPERLINK(1)", "whatever password")  # an audited failure with that name
    login(client, "lead")
    answer = client.get("/audit.csv")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    lines = answer.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "audit_id,time,actor,action,case_id,target,detail"
    assert any(",'=HYPERLINK(1),login_failed," in line for line in lines)
    assert any(",lead,login," in line for line in lines)
    assert "login_failed" in client.get("/audit").text


def test_masking_in_lists_follows_the_reviewers_setting(
        client: TestClient, sqlite_store: Store) -> None:
    shine = [Hit("しね", "ng", "abuse", 3, 5)]
    sqlite_store.ingest([item("p1", text="おまえしね", hits=shine),
                         item("p2", text="おまえしね２", hits=shine)])
    login(client, "staff-a")
    page = client.get(f"/cases/{case_id('site-a', 'p2')}").text
    assert "おまえ＊＊" in page  # the earlier case of the same author, masked
    csrf = page_csrf(client)
    client.post("/settings", data={"csrf": csrf, "language": "en"})  # mask unchecked
    page = client.get(f"/cases/{case_id('site-a', 'p2')}").text
    assert "おまえ＊＊" not in page
    assert "Author&#39;s history" in page  # and the language is now English


def test_lead_overturns_with_a_reason_and_chief_adds_an_account(
        client: TestClient, sqlite_store: Store) -> None:
    sqlite_store.ingest([item("p1")])
    staff = sqlite_store.get_user("staff-a")
    assert staff is not None
    held, _ = sqlite_store.claim_next(staff)
    assert held is not None
    from pipeline.console.cases import DecisionInput
    made = sqlite_store.decide(staff, held.case_id, held.claim_id,
                               DecisionInput("delete", None, ""), "mod.decisions").decision
    login(client, "lead")
    csrf = page_csrf(client)
    path = f"/lead/decisions/{made.decision_id}/overturn"
    empty = client.post(path, data={"csrf": csrf, "decision": "approve", "note": ""},
                        follow_redirects=False)
    assert empty.headers["location"].endswith("e=error.reason_required")
    done = client.post(path, data={"csrf": csrf, "decision": "approve", "note": "誤判定"},
                       follow_redirects=False)
    assert done.headers["location"].endswith("m=done.overturned")
    login(client, "chief")
    csrf = page_csrf(client)
    client.post("/chief/users", data={"csrf": csrf, "username": "newbie", "role": "staff",
                                      "sites": "site-a", "password": PASSWORD})
    added = sqlite_store.get_user("newbie")
    assert added is not None
    assert added.sites == frozenset({"site-a"})
    stats = client.get("/chief/stats").text
    assert 'data-reviewer="staff-a"' in stats
    assert "100%" in stats  # staff-a's one decision was overturned
