"""The filter core and the verdict policy: posts and reports in, messages out."""

from __future__ import annotations

import gc
import weakref

import pytest

from pipeline.config import Config, PolicyConfig
from pipeline.contract.ids import stable_id
from pipeline.contract.messages import Action, Hit, Post, Report, ReviewItem, Violation
from pipeline.errors import PoisonRecord
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
    outcome = default_core.process_post(post("今日はいい天気"), NOW)
    assert (outcome.verdict, outcome.messages) == ("clean", [])


def test_ng_post_produces_action_and_violation(default_core: FilterCore) -> None:
    outcome = default_core.process_post(post("お前しね"), NOW)
    assert outcome.verdict == "ng"
    assert outcome.review is None
    action, violation = outcome.action, outcome.violation
    assert action is not None
    assert violation is not None
    assert action.action_id == stable_id("action", "delete", "site-01", "p1")
    assert (action.action, action.site_id, action.user_id, action.post_id, action.source,
            action.duration_s, action.issued_at) == (
        "delete", "site-01", "u1", "p1", "auto", None, NOW)
    assert action.reason == "ng categories=abuse terms=しね"
    assert action.wordlist_version == default_core.version
    assert violation.violation_id == stable_id("violation", "site-01", "p1")
    assert (violation.categories, violation.terms, violation.source, violation.created_at,
            violation.detected_at) == (["abuse"], ["しね"], "filter", "2026-11-22T10:00:00Z", NOW)


def test_watch_post_goes_to_standard_queue(default_core: FilterCore) -> None:
    outcome = default_core.process_post(post("ライン交換しよ"), NOW)
    [item] = outcome.messages
    assert isinstance(item, ReviewItem)
    assert (item.queue, item.priority, item.source) == ("standard", 50, "filter")
    assert item.item_id == stable_id("review", "filter", "site-01", "p1")
    assert item.text[item.hits[0].start:item.hits[0].end] == "ライン交換"


def test_threat_is_deleted_and_also_sent_to_urgent(default_core: FilterCore) -> None:
    outcome = default_core.process_post(post("殺すぞ"), NOW)
    assert [type(m) for m in outcome.messages] == [Action, Violation, ReviewItem]
    assert outcome.review is not None
    assert (outcome.review.queue, outcome.review.priority) == ("urgent", 90)


def test_outputs_are_identical_on_replay(default_core: FilterCore) -> None:
    first = default_core.process_post(post("殺すぞ"), NOW)
    again = default_core.process_post(post("殺すぞ"), NOW)
    assert first.messages == again.messages


def test_report_review_item(default_core: FilterCore) -> None:
    report = Report("r1", "site-01", "p9", "u7", "violating_post", "2026-11-22T10:00:00Z",
                    text="ひどい", post_text="しね", post_user_id="u3")
    item = default_core.process_report(report, b"site-01:u3")
    assert item.item_id == stable_id("review", "report", "site-01", "r1")
    assert (item.queue, item.source, item.site_id, item.user_id, item.post_id,
            item.report_id, item.report_category, item.report_text) == (
        "reports", "report", "site-01", "u3", "p9", "r1", "violating_post", "ひどい")
    assert [h.term for h in item.hits] == ["しね"]
    assert item.priority == 60


def test_report_without_post_user_uses_record_key(default_core: FilterCore) -> None:
    report = Report("r2", "site-01", "p9", "u7", "operation", "2026-11-22T10:00:00Z")
    item = default_core.process_report(report, b"site-01:u5")
    assert (item.user_id, item.hits, item.priority) == ("u5", [], 30)


@pytest.mark.parametrize("key", [None, b"", b"site-01", b"site-01:", b"site-02:u5"])
def test_report_naming_no_author_is_a_schema_error(default_core: FilterCore,
                                                   key: bytes | None) -> None:
    report = Report("r3", "site-01", "p9", "u7", "operation", "2026-11-22T10:00:00Z")
    with pytest.raises(PoisonRecord) as caught:
        default_core.process_report(report, key)
    assert caught.value.reason == "schema"
    assert "no author" in caught.value.message


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
    """The worker freezes its heap after each load (`service.freeze_heap`), so a core it
    replaces must be freed by reference counting alone: it may hold no reference cycle, even
    after judging posts, reports and a batch."""
    core = FilterCore(Matcher(load_wordlists(ROOT / "wordlists"), engine), Config())
    core.hits_batch(["しね", "普通の投稿", "090-1234-5678"], ["s", "s", None])
    core.process_post(post("死ね"), "2026-01-01T00:00:00Z")
    core.process_report(Report("r1", "s", "p1", "u2", "violating_post", "2026-01-01T00:00:00Z",
                               post_text="しね", post_user_id="u1"), None)
    refs = [weakref.ref(o) for o in (core, core.matcher, core.matcher.wordlist,
                                      core.matcher._engine)]
    gc.disable()
    try:
        del core
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        gc.enable()
