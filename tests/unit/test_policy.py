"""The verdict policy and the messages it writes, from a golden table (tests/data/policy.tsv)
and by hand: which hits make the reason, which categories strike, which queue and priority,
which parts make each stable id."""

from __future__ import annotations

import hashlib

import pytest

from pipeline.config import PolicyConfig
from pipeline.contract.ids import stable_id, user_key
from pipeline.contract.messages import Hit, Post, Report
from pipeline.errors import PoisonRecord
from pipeline.filter.outcomes import post_outcome, report_author, report_item
from pipeline.filter.policy import report_priority
from tests.tables import read_table

NOW = "2026-11-23T00:00:00.000Z"
POST = Post("p1", "site-01", "u1", "text", "2026-11-22T10:00:00Z")
PRIORITIES = {("しね", "abuse"): 70, ("会おう", "meeting"): 95}


def parse_hits(cell: str) -> list[Hit]:
    hits = []
    for i, spec in enumerate(filter(None, cell.split(","))):
        mode, category, term = spec.split(":")
        hits.append(Hit(term, mode, category, i, i + 1))  # type: ignore[arg-type]
    return hits


@pytest.mark.parametrize("row", read_table("policy.tsv"), ids=lambda row: row[0] or "none")
def test_policy_table(row: list[str]) -> None:
    cell, verdict, reason, strikes, queue, priority = row
    outcome = post_outcome(POST, parse_hits(cell), PolicyConfig(), NOW, "v1", PRIORITIES)
    assert outcome.verdict == verdict
    assert (outcome.action.reason if outcome.action else "-") == reason
    assert (",".join(outcome.violation.categories) if outcome.violation else "-") == strikes
    assert (outcome.review.queue if outcome.review else "-") == queue
    assert (str(outcome.review.priority) if outcome.review else "-") == priority


def test_stable_ids_are_blake2b_of_their_parts() -> None:
    def blake(*parts: str) -> str:
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()

    assert stable_id("action", "delete", "site-01", "p1") == blake(
        "action", "delete", "site-01", "p1")
    assert stable_id("a", "b") != stable_id("b", "a")
    # A part holding the separator cannot forge another input's id.
    assert len({stable_id("a", "b"), stable_id("a\x1fb"), stable_id("a\x1e", "b"),
                stable_id("a\x1e\x1fb"), stable_id("a", "\x1fb")}) == 5
    assert user_key("site-01", "u1") == b"site-01:u1"


def test_each_message_id_is_made_of_the_contract_parts() -> None:
    hits = parse_hits("ng:crime:殺す")
    outcome = post_outcome(POST, hits, PolicyConfig(), NOW, "v1", {})
    assert outcome.action is not None
    assert outcome.violation is not None
    assert outcome.review is not None
    assert outcome.action.action_id == stable_id("action", "delete", "site-01", "p1")
    assert outcome.violation.violation_id == stable_id("violation", "site-01", "p1")
    assert outcome.review.item_id == stable_id("review", "filter", "site-01", "p1")
    # The same post on another site, or another post, gets other ids.
    other_site = post_outcome(Post("p1", "site-02", "u1", "t", POST.created_at), hits,
                              PolicyConfig(), NOW, "v1", {})
    assert other_site.action is not None
    assert other_site.action.action_id != outcome.action.action_id
    warn = post_outcome(POST, hits, PolicyConfig(ng_action="warn"), NOW, "v1", {})
    assert warn.action is not None
    assert warn.action.action_id == stable_id("action", "warn", "site-01", "p1")
    report = Report("r1", "site-01", "p1", "x", "other", "2026-11-22T10:00:00Z")
    item = report_item(report, "u1", [], PolicyConfig(), "v1")
    assert item.item_id == stable_id("review", "report", "site-01", "r1")
    assert item.item_id != outcome.review.item_id


def test_messages_carry_the_post_and_the_wordlist_version() -> None:
    outcome = post_outcome(POST, parse_hits("ng:abuse:しね,watch:crime:殺す"), PolicyConfig(),
                           NOW, "v7", {})
    for message in outcome.messages:
        assert (message.site_id, message.user_id, message.post_id, message.wordlist_version) == (
            "site-01", "u1", "p1", "v7")
    assert outcome.action is not None
    assert (outcome.action.issued_at, outcome.action.source) == (NOW, "auto")
    assert outcome.violation is not None
    assert outcome.violation.terms == ["しね"]  # only the NG hits' terms
    assert (outcome.violation.created_at, outcome.violation.detected_at) == (
        "2026-11-22T10:00:00Z", NOW)


@pytest.mark.parametrize(("category", "hits", "priority"), [
    ("operation", "", 30),
    ("violating_post", "", 60),
    ("operation", "watch:abuse:ばか", 50),
    ("violating_post", "watch:abuse:ばか", 60),
    ("operation", "ng:abuse:しね", 50),  # an NG hit outside urgent categories: standard
    ("operation", "watch:contact:phone,watch:crime:殺す", 90),
    ("penalty", "ng:self_harm:自殺", 90),
])
def test_report_priority_is_the_highest_that_applies(category: str, hits: str,
                                                      priority: int) -> None:
    assert report_priority(category, parse_hits(hits), PolicyConfig()) == priority


def test_a_report_item_carries_the_report() -> None:
    report = Report("r1", "site-01", "p9", "x", "operation", "2026-11-22T10:00:00Z",
                    text="ひどい", post_text="お前ばか")
    item = report_item(report, "u3", parse_hits("watch:abuse:ばか"), PolicyConfig(), "v2")
    assert (item.text, item.created_at, item.wordlist_version, item.priority) == (
        "お前ばか", "2026-11-22T10:00:00Z", "v2", 50)  # the hit raises it above 30
    no_text = report_item(Report("r2", "site-01", "p9", "x", "operation",
                                 "2026-11-22T10:00:00Z"), "u3", [], PolicyConfig(), "v2")
    assert (no_text.text, no_text.priority, no_text.report_text) == ("", 30, "")


@pytest.mark.parametrize(("key", "author"), [
    (b"site-01:u1", "u1"),
    (b"site-01:user:with:colons", "user:with:colons"),
    (b"site-01:u\xff", "u\ufffd"),
])
def test_a_report_author_from_the_key(key: bytes, author: str) -> None:
    report = Report("r1", "site-01", "p9", "x", "operation", "2026-11-22T10:00:00Z")
    assert report_author(report, key) == author


def test_a_report_naming_no_author_says_so() -> None:
    report = Report("r1", "site-01", "p9", "x", "operation", "2026-11-22T10:00:00Z")
    with pytest.raises(PoisonRecord) as info:
        report_author(report, b"site-02:u1")
    assert (info.value.reason, info.value.message) == (
        "schema", "report names no author: no post_user_id and no site_id:user_id key for its "
                  "site")
