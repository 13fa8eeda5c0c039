"""The patrol console end to end in real headless Chromium (Debian's, driven by Playwright;
no browser is ever downloaded): log in, claim the next case, see the highlights, decide with
the keyboard while an input method's composing keypresses are ignored, and find the Decision on
`mod.decisions`. A hostile post is shown as text and runs nothing.

MIMAMORI_SCREENSHOTS=DIR also saves the queue and case pages as PNG files there (the README's
screenshots come from this test).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.console.service import ConsoleService
from pipeline.contract.ids import user_key
from pipeline.contract.messages import Action, Decision, Hit, ReviewItem, encoder
from pipeline.enforcer.service import run_enforcer
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.kafka.topicio import produce, read_all
from tests.console.conftest import CHEAP_HASHER, item
from tests.integration.conftest import fresh_config

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORD = "correct horse battery"
THREAT = "明日 学校で 殺すぞ まじで"
HOSTILE = ('<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
           '<a href="javascript:window.pwned=3">link</a> \u202eしね\u202c')


def _items() -> list[ReviewItem]:
    start = THREAT.index("殺すぞ")
    hostile_at = HOSTILE.index("しね")
    return [
        item("p-threat", priority=90, queue="urgent", text=THREAT, user="u7",
             hits=[Hit("殺すぞ", "ng", "crime", start, start + 3)],
             created_at="2026-11-23T09:00:00Z"),
        item("p-threat", report="r1", reporter="a", queue="reports", priority=60,
             category="violating_post", text=THREAT, user="u7", hits=[]),
        item("p-earlier", priority=50, text="前にも しね って書いた", user="u7",
             hits=[Hit("しね", "ng", "abuse", 4, 6)], created_at="2026-11-20T09:00:00Z"),
        item("p-hostile", priority=40, queue="standard", text=HOSTILE, user="u9",
             hits=[Hit("しね", "ng", "abuse", hostile_at, hostile_at + 2)]),
        item("p-other-site", site="site-b", priority=100, queue="urgent"),
    ]


@pytest_asyncio.fixture
async def console(broker: EmbeddedBroker, tmp_path: Path) -> AsyncIterator[ConsoleService]:
    base = fresh_config(broker.bootstrap_servers)
    config = msgspec.structs.replace(base, console=msgspec.structs.replace(
        base.console, store_url=f"sqlite:///{tmp_path}/console.db", port=0,
        relay_interval_ms=100, refresh_interval_ms=200))
    await ensure_topics(config)  # the DLQs of the console's inputs are among them
    service = ConsoleService(config, CollectorRegistry())
    await service.start()
    assert service.store is not None
    service.store.hasher = CHEAP_HASHER
    for name, role in (("patrol-a", "staff"), ("lead-a", "lead")):
        await asyncio.to_thread(service.store.add_user, name, role, PASSWORD,
                                frozenset({"site-a"}))
    await produce(broker.bootstrap_servers, [
        (config.topics.review(i.queue), user_key(i.site_id, i.user_id), encoder.encode(i))
        for i in _items()])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # ingested: every case is in the store
        if sum(s.depth for s in service.store.queue_stats(None)) == 4:
            break
        await asyncio.sleep(0.1)
    yield service
    await service.stop()


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    if not await asyncio.to_thread(os.path.exists, CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup.sh test installs Debian's chromium")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def _login(page: Page, url: str, name: str) -> None:
    await page.goto(url + "/login")
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login")
    await page.wait_for_url(url + "/queues")


async def _decisions(config: Config, want: int, timeout_s: float = 30) -> list[Decision]:
    deadline = time.monotonic() + timeout_s
    found: list[Decision] = []
    while time.monotonic() < deadline:
        found = [msgspec.json.decode(r.value or b"", type=Decision) for r in
                 await read_all(config.kafka.bootstrap_servers, [config.topics.decisions])]
        if len(found) >= want:
            break
        await asyncio.sleep(0.2)
    return found


async def test_claim_see_highlights_and_decide_with_the_keyboard(
        console: ConsoleService, browser: Browser) -> None:
    stop_enforcer = asyncio.Event()  # the enforcer turns the decision into an Action
    enforcer = asyncio.create_task(run_enforcer(console.config, stop_enforcer))
    try:
        await _decide_with_the_keyboard(console, browser)
    finally:
        stop_enforcer.set()
        await enforcer


async def _decide_with_the_keyboard(console: ConsoleService, browser: Browser) -> None:
    page = await browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await _login(page, console.url, "patrol-a")
    urgent = page.locator("tr[data-queue=urgent] .depth")
    assert await urgent.inner_text() == "1"
    await _screenshot(page, "console-queues.png")

    await page.click("#next-any")
    await page.wait_for_url(console.url + "/cases/*")
    marks = page.locator("#post mark.hit")
    assert await marks.all_inner_texts() == ["殺すぞ"]
    assert await marks.first.get_attribute("title") == "殺すぞ (crime) "
    assert await page.locator("#reports tbody tr").count() == 1
    assert "violating_post" in await page.locator("#reports").inner_text()
    history = await page.locator("#history").inner_text()
    assert "前にも ＊＊ って書いた" in history  # the author's earlier case, masked
    assert "しね" not in history.replace(await page.locator("#history .revealed").inner_text(),
                                         "")
    await _screenshot(page, "console-case.png")

    # An input method composing Japanese sends keydown with isComposing (or keyCode 229):
    # neither may decide. Typing in the note does not decide either.
    await page.evaluate("""() => {
        document.body.dispatchEvent(new KeyboardEvent("keydown",
            {key: "d", isComposing: true, bubbles: true}));
        document.body.dispatchEvent(new KeyboardEvent("keydown",
            {key: "x", keyCode: 229, bubbles: true}));
    }""")
    await page.focus("#note")
    await page.keyboard.type("dx 確認済み")
    await page.locator("h1").click()  # leave the text field
    first_case = page.url
    await page.keyboard.press("w")  # warn
    await page.wait_for_url(lambda u: u != first_case)

    decisions = await _decisions(console.config, 1)
    assert [(d.decision, d.note, d.post_id, d.reviewer, d.role) for d in decisions] == [
        ("warn", "dx 確認済み", "p-threat", "patrol-a", "staff")]
    actions = await _actions(console.config, decisions[0].decision_id)
    assert [(a.action, a.source, a.post_id) for a in actions] == [
        ("warn", "patrol", None)]  # a warning is an account action: no post
    assert problems == []
    registry = console.metrics.registry
    assert registry.get_sample_value("mimamori_console_decisions_total",
                                     {"decision": "warn", "role": "staff"}) == 1


async def _actions(config: Config, decision_id: str, timeout_s: float = 60) -> list[Action]:
    deadline = time.monotonic() + timeout_s
    found: list[Action] = []
    while time.monotonic() < deadline:
        found = [a for a in (msgspec.json.decode(r.value or b"", type=Action) for r in
                             await read_all(config.kafka.bootstrap_servers,
                                            [config.topics.actions]))
                 if decision_id in a.reason]
        if found:
            break
        await asyncio.sleep(0.2)
    return found


async def test_a_hostile_post_runs_nothing_and_shows_as_text(
        console: ConsoleService, browser: Browser) -> None:
    page = await browser.new_page()
    await _login(page, console.url, "patrol-a")
    assert console.store is not None
    from pipeline.console.cases import case_id
    await page.goto(f"{console.url}/cases/{case_id('site-a', 'p-hostile')}")
    post = page.locator("#post")
    text = await post.inner_text()
    assert "<script>window.pwned=1</script>" in text
    assert 'onerror="window.pwned=2"' in text
    assert "U+202E" in text
    assert "\u202e" not in text
    assert await post.locator("img, a, script").count() == 0
    assert await page.evaluate("() => window.pwned") is None
    assert await page.locator("#post mark.hit").all_inner_texts() == ["しね"]
    # a staff member of site-a never sees site-b's case
    answer = await page.goto(f"{console.url}/cases/{case_id('site-b', 'p-other-site')}")
    assert answer is not None
    assert answer.status == 404


async def test_a_lead_works_an_escalated_case(console: ConsoleService, browser: Browser) -> None:
    staff = await browser.new_page()
    await _login(staff, console.url, "patrol-a")
    await staff.click("#next-any")
    await staff.wait_for_url(console.url + "/cases/*")
    escalated = staff.url
    await staff.keyboard.press("e")  # escalate to a lead
    await staff.wait_for_url(lambda u: u != escalated)
    answer = await staff.goto(console.url + "/lead/escalated")
    assert answer is not None
    assert answer.status == 403
    lead = await browser.new_page()
    await _login(lead, console.url, "lead-a")
    await lead.goto(console.url + "/lead/escalated")
    assert await lead.locator("#escalated tbody tr").count() == 1
    await lead.click("#next-escalated")
    await lead.wait_for_url(console.url + "/cases/*")
    assert await lead.locator("button[data-key=e]").count() == 0  # no second escalation
    deleted = lead.url
    await lead.keyboard.press("d")
    await lead.wait_for_url(lambda u: u != deleted)
    decisions = await _decisions(console.config, 2)
    assert [(d.decision, d.role) for d in decisions] == [("escalate", "staff"),
                                                         ("delete", "lead")]


async def _screenshot(page: Page, name: str) -> None:
    directory = os.environ.get("MIMAMORI_SCREENSHOTS")
    if directory:
        await asyncio.to_thread(Path(directory).mkdir, parents=True, exist_ok=True)
        await page.set_viewport_size({"width": 1100, "height": 900})
        await page.screenshot(path=str(Path(directory) / name), full_page=True)
