"""The filter core and the verdict policy: posts and reports in, messages out."""

from __future__ import annotations

import gc
import weakref

import msgspec
import pytest

from pipeline.config import Config, PolicyConfig
from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Action, Hit, Post, Report, ReviewItem, Violation
from pipeline.filter.judge import FilterCore
from pipeline.filter.policy import decide, report_priority
from pipeline.text.matcher import Matcher
from pipeline.text.wordlists import load_wordlists
from tests.unit.conftest import ROOT

NOW = "2026-11-23T00:00:00.000Z"


def hit(mode: str, category: str) -> Hit:
    return Hit("t", mode, category, 0, 1)  # type: ignore[arg-type]


def post(text: str, post_id: str = "p1") -> Post:
    return Post(post_id, "site-01", "u1", text, "2026-11-22T10:00:00Z")


@pytest.mark.parametrize(("hits", "verdict", "queue", "strikes"), [
    ([], "clean", None, ()),
    ([hit("watch", "abuse")], "review", "standard", ()),
    ([hit("watch", "self_harm")], "review", "urgent", ()),
    ([hit("ng", "abuse")], "ng", None, ("abuse",)),
    ([hit("ng", "crime"), hit("ng", "abuse")], "ng", "urgent", ("abuse", "crime")),
    ([hit("ng", "self_harm")], "ng", "urgent", ()),
    ([hit("ng", "abuse"), hit("watch", "contact")], "ng", None, ("abuse",)),
])
def test_policy(hits: list[Hit], verdict: str, queue: str | None,
                strikes: tuple[str, ...]) -> None:
    decision = decide(hits, PolicyConfig())
    assert (decision.verdict, decision.review_queue, decision.strike_categories) == (
        verdict, queue, strikes)


def test_report_priority_takes_the_highest_that_applies() -> None:
    policy = PolicyConfig()
    assert report_priority("operation", [], policy) == 30
    assert report_priority("violating_post", [], policy) == 60
    assert report_priority("operation", [hit("watch", "abuse")], policy) == 50
    assert report_priority("violating_post", [hit("watch", "crime")], policy) == 90


def test_clean_post_produces_nothing(default_core: FilterCore) -> None:
    result = default_core.process_post(post("今日はいい天気"), NOW)
    assert (result.verdict, result.outputs) == ("clean", [])


def test_ng_post_produces_action_and_violation(default_core: FilterCore) -> None:
    result = default_core.process_post(post("お前しね"), NOW)
    assert result.verdict == "ng"
    assert [o.topic for o in result.outputs] == ["mod.actions", "mod.violations"]
    assert all(o.key == b"site-01:u1" for o in result.outputs)
    action = msgspec.json.decode(result.outputs[0].value, type=Action)
    assert action.action_id == stable_id("action", "delete", "site-01", "p1")
    assert (action.action, action.post_id, action.source, action.duration_s) == (
        "delete", "p1", "auto", None)
    assert action.reason == "ng categories=abuse terms=しね"
    assert action.wordlist_version == default_core.version
    violation = msgspec.json.decode(result.outputs[1].value, type=Violation)
    assert violation.categories == ["abuse"]
    assert violation.post_id == "p1"


def test_watch_post_goes_to_standard_queue(default_core: FilterCore) -> None:
    result = default_core.process_post(post("ライン交換しよ"), NOW)
    [out] = result.outputs
    assert out.topic == "mod.review.standard"
    item = msgspec.json.decode(out.value, type=ReviewItem)
    assert (item.queue, item.priority, item.source) == ("standard", 50, "filter")
    assert item.item_id == stable_id("review", "filter", "site-01", "p1")
    assert item.text[item.hits[0].start:item.hits[0].end] == "ライン交換"


def test_threat_is_deleted_and_also_sent_to_urgent(default_core: FilterCore) -> None:
    result = default_core.process_post(post("殺すぞ"), NOW)
    assert [o.topic for o in result.outputs] == [
        "mod.actions", "mod.violations", "mod.review.urgent"]


def test_self_harm_gets_no_strike(default_core: FilterCore) -> None:
    result = default_core.process_post(post("もう死にたい"), NOW)
    assert [o.topic for o in result.outputs] == ["mod.review.urgent"]


def test_outputs_are_identical_on_replay(default_core: FilterCore) -> None:
    first = default_core.process_post(post("殺すぞ"), NOW)
    again = default_core.process_post(post("殺すぞ"), NOW)
    assert first.outputs == again.outputs


def test_report_review_item(default_core: FilterCore) -> None:
    report = Report("r1", "site-01", "p9", "u7", "violating_post", "2026-11-22T10:00:00Z",
                    text="ひどい", post_text="しね", post_user_id="u3")
    out = default_core.process_report(report, b"site-01:u3", NOW)
    assert (out.topic, out.key) == ("mod.review.reports", b"site-01:u3")
    item = msgspec.json.decode(out.value, type=ReviewItem)
    assert item.item_id == stable_id("review", "report", "site-01", "r1")
    assert (item.source, item.user_id, item.post_id, item.report_category) == (
        "report", "u3", "p9", "violating_post")
    assert [h.term for h in item.hits] == ["しね"]
    assert item.priority == 60


def test_report_without_post_user_uses_record_key(default_core: FilterCore) -> None:
    report = Report("r2", "site-01", "p9", "u7", "operation", "t")
    out = default_core.process_report(report, b"site-01:u5", NOW)
    item = msgspec.json.decode(out.value, type=ReviewItem)
    assert (item.user_id, item.hits, item.priority, out.key) == ("u5", [], 30, b"site-01:u5")


def test_batch_judging_equals_one_by_one(default_core: FilterCore) -> None:
    from pipeline.contract.messages import decode_post
    from pipeline.tools.sample import generate

    posts = [decode_post(r.value, max_bytes=1 << 20, max_text_chars=1 << 20)
             for r in generate(400, seed=3, hit_ratio=0.3, malformed=False, report_ratio=0)]
    texts = [p.text for p in posts] + ["しね\ue000しね", "", "  ", "f u c k", "ｼﾞ"]
    sites = [p.site_id for p in posts] + ["s"] * 5
    batch = default_core.hits_batch(texts, sites)
    assert batch == [default_core._hits_alone(t, s) for t, s in zip(texts, sites, strict=True)]
    assert sum(1 for hits in batch if hits) > 100


def test_a_replaced_core_is_freed_without_the_cyclic_collector(engine: str) -> None:
    """The worker freezes its heap after each load (`app.freeze_heap`), so a core it replaces
    must be freed by reference counting alone: it may hold no reference cycle, even after
    judging posts, reports and a batch."""
    core = FilterCore(Matcher(load_wordlists(ROOT / "wordlists"), engine), Config())
    core.hits_batch(["しね", "普通の投稿", "090-1234-5678"], ["s", "s", None])
    core.process_post(post("死ね"), "2026-01-01T00:00:00Z")
    core.process_report(Report("r1", "s", "p1", "u2", "violating_post", "t", post_text="しね"),
                        None, "2026-01-01T00:00:00Z")
    refs = [weakref.ref(o) for o in (core, core.matcher, core.matcher.wordlist,
                                      core.matcher._engine)]
    gc.disable()
    try:
        del core
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        gc.enable()
