"""The console's store on SQLite and PostgreSQL: merging, priority, claims and leases,
decisions, overturns, the outbox and the audit log."""

from __future__ import annotations

import sqlite3
import threading
import time
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pipeline.console.accounts import AccountError
from pipeline.console.cases import DecisionInput, case_id
from pipeline.console.queue import Filters, NotHeld
from pipeline.console.roles import User
from pipeline.console.schema import audit_log, metadata
from pipeline.console.store import Store
from pipeline.contract.messages import Action, Decision, Violation
from tests.console.conftest import Clock, add_user, item

TOPIC = "mod.decisions"
APPROVE = DecisionInput("approve", None, "")


def test_migrations_create_exactly_the_schema(store: Store) -> None:
    with store.engine.connect() as conn, warnings.catch_warnings():
        # The DESC ordering indexes are written by hand in the migration; SQLite cannot
        # reflect them for comparison and says so.
        warnings.filterwarnings("ignore", "autogenerate skipping", UserWarning)
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        names = {i["name"] for i in sa.inspect(conn).get_indexes("cases")}
    ordering = {"ix_cases_next", "ix_cases_queue_next", "ix_cases_site_next"}
    assert [d for d in diff if not (d[0].endswith("_index") and d[1].name in ordering)] == []
    assert ordering <= names
    store.migrate()  # a second start migrates nothing and fails on nothing


def test_reports_and_a_filter_hit_of_one_post_are_one_case(store: Store) -> None:
    counts = store.ingest([
        item("p1", priority=50),
        item("p1", report="r1", reporter="alice", priority=30, queue="reports",
             category="violating_post"),
        item("p1", report="r2", reporter="bob", priority=30, queue="reports"),
        item("p1", report="r3", reporter="alice", priority=30, queue="reports"),  # same person
        item("p2", priority=50),
    ])
    assert (counts.items, counts.new_cases, counts.duplicates) == (5, 2, 0)
    with store.read() as conn:
        rows = {r.post_id: r for r in conn.exec_driver_sql(
            "SELECT post_id, reporters, item_priority, priority, queue FROM cases")}
    # two distinct reporters: one step of 5 above the most urgent item's 50
    assert (rows["p1"].reporters, rows["p1"].item_priority, rows["p1"].priority) == (2, 50, 55)
    assert rows["p1"].queue == "standard"
    assert (rows["p2"].reporters, rows["p2"].priority) == (0, 50)
    admin = add_user(store, "lead1", "lead", "*")
    view = store.case_view(admin, case_id("site-a", "p1"))
    assert view is not None
    assert len(view.items) == 4
    assert {c for c in view.categories} == {"abuse", "report:violating_post"}


def test_priority_rises_with_each_new_reporter_and_stops_at_100(store: Store) -> None:
    store.ingest([item("p1", report=f"r{i}", reporter=f"u{i}", priority=90, queue="reports")
                  for i in range(4)])
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT priority FROM cases").scalar_one() == 100
    store.ingest([item("p2", report="x", reporter="z", priority=60, queue="reports")])
    store.ingest([item("p2", report="y", reporter="w", priority=60, queue="reports")])
    with store.read() as conn:
        assert conn.exec_driver_sql(
            "SELECT priority FROM cases WHERE post_id = 'p2'").scalar_one() == 65


def test_a_replayed_batch_changes_nothing(store: Store) -> None:
    batch = [item("p1"), item("p1", report="r1", reporter="a", queue="reports")]
    actions = [Action("a1", "delete", "site-a", "u1", "p1", None, "ng", "auto",
                      "2026-11-23T10:00:00Z")]
    violations = [Violation("v1", "site-a", "u1", "p1", ["abuse"], ["しね"], "filter",
                            "2026-11-23T10:00:00Z", "2026-11-23T10:00:01Z")]
    first = store.ingest(batch, actions, violations)
    again = store.ingest(batch, actions, violations)
    assert (first.items, first.history) == (2, 2)
    assert (again.items, again.duplicates, again.history, again.new_cases) == (0, 2, 0, 0)
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM review_items").scalar_one() == 2
        assert conn.exec_driver_sql("SELECT reporters FROM cases").scalar_one() == 1


def test_an_ingest_batch_commits_between_slices_while_writers_wait_and_replays_whole(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite has one writer: a batch is written slice by slice (`ingest_slice` items, a case's
    # items together, then the history), committing after each slice another write waits
    # for. Here one always waits. PostgreSQL locks rows and keeps one transaction.
    store.ingest_slice = 4
    batch = [item(f"p{n}") for n in range(9)] + [
        item("p0", report=f"r{i}", reporter=f"x{i}", queue="reports") for i in range(3)]
    actions = [Action(f"a{n}", "delete", "site-a", "u1", f"p{n}", None, "ng", "auto",
                      "2026-11-23T10:00:00Z") for n in range(5)]
    violations = [Violation(f"v{n}", "site-a", "u1", f"p{n}", ["abuse"], ["しね"], "filter",
                            "2026-11-23T10:00:00Z", "2026-11-23T10:00:01Z") for n in range(3)]
    transactions: list[int] = []
    write = store.write

    def counted() -> object:
        transactions.append(1)
        return write()

    # A batch cut short (the process died after its first slice) and then replayed whole.
    store.ingest(batch[:1] + batch[9:])
    monkeypatch.setattr(store, "write", counted)
    monkeypatch.setattr(store, "writers_waiting", lambda: True)
    counts = store.ingest(batch, actions, violations)
    # SQLite: p0's four items (already written), p1-p4, p5-p8; actions 4 + 1; violations 3.
    assert len(transactions) == (6 if store.backend == "sqlite" else 1)
    assert (counts.items, counts.duplicates, counts.new_cases, counts.history) == (8, 4, 8, 8)
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM review_items").scalar_one() == 12
        assert conn.exec_driver_sql("SELECT count(*) FROM history").scalar_one() == 8
        # three reporters: two steps of 5 above the item's 50, as if written at once
        assert conn.exec_driver_sql(
            "SELECT reporters, priority FROM cases WHERE post_id = 'p0'").one() == (3, 60)
    again = store.ingest(batch, actions, violations)
    assert (again.items, again.duplicates, again.new_cases, again.history) == (0, 12, 0, 0)
    monkeypatch.setattr(store, "writers_waiting", lambda: False)
    transactions.clear()
    store.ingest([item(f"q{n}") for n in range(9)], actions)
    assert len(transactions) == 1  # nobody waits: the slices share one transaction


def test_a_write_that_waits_for_a_sqlite_ingest_gets_in_after_the_slice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real writer lock: a decision that comes while the ingest writes its first slice
    # waits only for that slice, then the ingest goes on with the rest.
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    store.migrate()
    store.ingest_slice = 3
    order: list[str] = []
    bulk = store.insert_rows
    other: list[threading.Thread] = []

    def decide() -> None:
        with store.write() as conn:
            order.append("decision")
            conn.exec_driver_sql("SELECT 1")

    def slice_written(conn: sa.Connection, table: sa.Table,
                      rows: list[dict[str, object]]) -> None:
        bulk(conn, table, rows)
        if table.name != "review_items":
            return
        order.append(f"slice of {len(rows)}")
        if not other:
            other.append(threading.Thread(target=decide))
            other[0].start()
            deadline = time.monotonic() + 10
            while not store.writers_waiting() and time.monotonic() < deadline:
                time.sleep(0.001)

    monkeypatch.setattr(store, "insert_rows", slice_written)
    counts = store.ingest([item(f"p{n}") for n in range(9)])
    other[0].join(10)
    store.close()
    assert counts.items == 9
    assert order == ["slice of 3", "decision", "slice of 3", "slice of 3"]


def test_an_ingest_racing_another_instance_merges_into_the_case_it_wrote(
        store: Store, store_url: tuple[str, str | None], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    if store.backend == "sqlite":
        pytest.skip("one console process per SQLite store: its write lock orders ingests")
    url, schema = store_url
    other = Store(url, schema=schema)
    bulk = store.insert_rows
    raced: list[str] = []

    def racing(conn: sa.Connection, table: sa.Table, rows: list[dict[str, object]]) -> None:
        if table.name == "cases" and not raced:
            # Another instance writes the same post's case after this one looked for it.
            raced.append("once")
            other.ingest([item("p1", report="r1", reporter="alice", queue="reports")])
        bulk(conn, table, rows)

    monkeypatch.setattr(store, "insert_rows", racing)
    counts = store.ingest([item("p1"), item("p1", report="r2", reporter="bob",
                                            queue="reports")])
    other.close()
    assert raced == ["once"]
    assert (counts.items, counts.new_cases) == (2, 0)  # the retry merged into its case
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM review_items").scalar_one() == 3
        assert conn.exec_driver_sql("SELECT reporters, priority FROM cases").one() == (2, 55)


def test_next_case_is_highest_priority_then_oldest_in_the_reviewers_sites(
        store: Store) -> None:
    store.ingest([
        item("old", priority=50, created_at="2026-11-23T09:00:00Z"),
        item("new", priority=50, created_at="2026-11-23T11:00:00Z"),
        item("urgent", priority=90, queue="urgent", created_at="2026-11-23T12:00:00Z"),
        item("other-site", site="site-b", priority=100, queue="urgent"),
    ])
    staff = add_user(store, "s1")
    order = []
    for _ in range(3):
        claim, _ = store.claim_next(staff)
        assert claim is not None
        order.append(claim.case_id)
        store.decide(staff, claim.case_id, claim.claim_id, APPROVE, TOPIC)
    assert order == [case_id("site-a", p) for p in ("urgent", "old", "new")]
    assert store.claim_next(staff) == (None, 0)  # site-b is not staff's


def test_a_reviewer_of_several_sites_gets_the_first_case_of_all_of_them(
        store: Store) -> None:
    store.ingest([
        item("a-old", priority=50, created_at="2026-11-23T08:00:00Z"),
        item("a-urgent", priority=90, queue="urgent", created_at="2026-11-23T12:00:00Z"),
        item("b-urgent", site="site-b", priority=90, queue="urgent",
             created_at="2026-11-23T11:00:00Z"),
        item("b-old", site="site-b", priority=50, created_at="2026-11-23T07:00:00Z"),
        item("c-top", site="site-c", priority=100, queue="urgent"),
    ])
    first = add_user(store, "s1", sites="site-a,site-b")
    second = add_user(store, "s2", sites="site-a,site-b")
    one, _ = store.claim_next(first)
    two, _ = store.claim_next(second)  # the first's case is held: the next one
    assert one is not None
    assert two is not None
    assert (one.case_id, two.case_id) == (case_id("site-b", "b-urgent"),
                                          case_id("site-a", "a-urgent"))
    three = store.decide(first, one.case_id, one.claim_id, APPROVE, TOPIC, Filters()).next
    four = store.decide(second, two.case_id, two.claim_id, APPROVE, TOPIC, Filters()).next
    assert three is not None
    assert four is not None
    assert (three.case_id, four.case_id) == (case_id("site-b", "b-old"),
                                             case_id("site-a", "a-old"))
    assert store.decide(first, three.case_id, three.claim_id, APPROVE, TOPIC,
                        Filters()).next is None  # site-c is not theirs


def test_filters_by_queue_site_and_category(store: Store) -> None:
    from pipeline.contract.messages import Hit
    store.ingest([
        item("p1", priority=90, queue="urgent"),
        item("p2", priority=50, hits=[Hit("ライン", "watch", "contact", 0, 3)]),
        item("p3", site="site-b", priority=50),
    ])
    lead = add_user(store, "l1", "lead", "site-a,site-b")
    claim, _ = store.claim_next(lead, Filters(category="contact"))
    assert claim is not None
    assert claim.case_id == case_id("site-a", "p2")
    store.release(lead, claim.case_id, claim.claim_id)
    claim, _ = store.claim_next(lead, Filters(site="site-b"))
    assert claim is not None
    assert claim.case_id == case_id("site-b", "p3")
    store.release(lead, claim.case_id, claim.claim_id)
    claim, _ = store.claim_next(lead, Filters(queue="standard"))
    assert claim is not None
    assert claim.case_id == case_id("site-a", "p2")


def test_a_reviewer_gets_back_the_case_it_holds(store: Store) -> None:
    store.ingest([item("p1"), item("p2")])
    staff = add_user(store, "s1")
    first, _ = store.claim_next(staff)
    again, _ = store.claim_next(staff)
    assert first is not None
    assert again is not None
    assert (again.case_id, again.claim_id) == (first.case_id, first.claim_id)


def test_a_lapsed_lease_returns_the_case_and_refuses_the_late_decision(
        store: Store, clock: Clock) -> None:
    store.ingest([item("p1")])
    alice, bob = add_user(store, "alice"), add_user(store, "bob")
    held, _ = store.claim_next(alice)
    assert held is not None
    assert held.lease_until == clock.now + 600
    clock.now += 599
    assert store.claim_next(bob) == (None, 0)  # boundary: one second left, still alice's
    store.renew(alice, held.case_id, held.claim_id)  # renewal while open: 600 s from now
    clock.now += 600
    assert store.claim_next(bob) == (None, 0)
    clock.now += 1  # now the lease has lapsed
    taken, lapsed = store.claim_next(bob)
    assert taken is not None
    assert taken.case_id == held.case_id
    assert lapsed == 1
    with pytest.raises(NotHeld):
        store.decide(alice, held.case_id, held.claim_id, APPROVE, TOPIC)
    with pytest.raises(NotHeld):
        store.renew(alice, held.case_id, held.claim_id)
    assert store.decide(bob, taken.case_id, taken.claim_id, APPROVE, TOPIC).duplicate is False


def test_the_sweep_returns_lapsed_cases_and_audits_them(store: Store, clock: Clock) -> None:
    store.ingest([item("p1")])
    alice = add_user(store, "alice")
    held, _ = store.claim_next(alice)
    assert held is not None
    assert store.sweep_lapsed() == 0
    clock.now += 601
    assert store.sweep_lapsed() == 1
    assert [s.depth for s in store.queue_stats(None)] == [1]
    assert [r.action for r in store.audit_entries(action="lease_lapsed")] == ["lease_lapsed"]
    assert store.claim_next(alice)[0] is not None


def test_a_decision_on_a_case_not_held_is_refused(store: Store) -> None:
    store.ingest([item("p1")])
    alice, bob = add_user(store, "alice"), add_user(store, "bob")
    held, _ = store.claim_next(alice)
    assert held is not None
    with pytest.raises(NotHeld):
        store.decide(bob, held.case_id, held.claim_id, APPROVE, TOPIC)
    with pytest.raises(NotHeld):
        store.decide(bob, held.case_id, "f" * 32, APPROVE, TOPIC)


def test_the_same_decision_submitted_twice_is_recorded_once(store: Store) -> None:
    store.ingest([item("p1")])
    alice = add_user(store, "alice")
    held, _ = store.claim_next(alice)
    assert held is not None
    form = DecisionInput("suspend", 86_400, "二度目")
    first = store.decide(alice, held.case_id, held.claim_id, form, TOPIC)
    second = store.decide(alice, held.case_id, held.claim_id, form, TOPIC)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.decision == first.decision
    assert first.decision.duration_s == 86_400
    assert first.decision.reviewer == "alice"
    rows = store.claim_outbox(10, 60)
    assert len(rows) == 1
    import msgspec
    assert msgspec.json.decode(rows[0].value, type=Decision) == first.decision
    assert rows[0].key == b"site-a:u1"


def test_escalated_cases_go_to_leads_only(store: Store) -> None:
    store.ingest([item("p1")])
    staff, lead = add_user(store, "s1"), add_user(store, "l1", "lead")
    held, _ = store.claim_next(staff)
    assert held is not None
    store.decide(staff, held.case_id, held.claim_id, DecisionInput("escalate", None, ""), TOPIC)
    assert store.claim_next(staff) == (None, 0)
    with pytest.raises(AccountError):
        store.claim_next(staff, Filters(queue="escalated"))
    assert store.claim_next(lead) == (None, 0)  # not in the ordinary queues any more
    taken, _ = store.claim_next(lead, Filters(queue="escalated"))
    assert taken is not None
    assert taken.case_id == held.case_id
    with pytest.raises(AccountError, match="already_escalated"):
        store.decide(lead, taken.case_id, taken.claim_id, DecisionInput("escalate", None, ""),
                     TOPIC)
    final = store.decide(lead, taken.case_id, taken.claim_id,
                         DecisionInput("delete", None, ""), TOPIC)
    assert (final.decision.role, final.decision.decision) == ("lead", "delete")


def test_overturn_needs_a_lead_and_a_reason_and_happens_once(store: Store) -> None:
    store.ingest([item("p1")])
    staff, lead = add_user(store, "s1"), add_user(store, "l1", "lead")
    held, _ = store.claim_next(staff)
    assert held is not None
    deleted = store.decide(staff, held.case_id, held.claim_id,
                           DecisionInput("delete", None, ""), TOPIC).decision
    restore = DecisionInput("approve", None, "文脈上問題なし")
    with pytest.raises(AccountError, match="forbidden"):
        store.overturn(staff, deleted.decision_id, restore, TOPIC)
    with pytest.raises(AccountError, match="reason_required"):
        store.overturn(lead, deleted.decision_id, DecisionInput("approve", None, ""), TOPIC)
    done = store.overturn(lead, deleted.decision_id, restore, TOPIC)
    assert done.decision.overturns == deleted.decision_id
    assert done.decision.note == "文脈上問題なし"
    assert store.overturn(lead, deleted.decision_id, restore, TOPIC).duplicate is True
    with pytest.raises(AccountError, match="cannot_overturn"):
        store.overturn(lead, deleted.decision_id, DecisionInput("warn", None, "x"), TOPIC)
    assert len(store.claim_outbox(10, 60)) == 2


def test_a_new_report_reopens_an_approved_post_but_not_a_deleted_one(store: Store) -> None:
    store.ingest([item("p1"), item("p2")])
    staff = add_user(store, "s1")
    for kind in ("approve", "delete"):
        held, _ = store.claim_next(staff)
        assert held is not None
        store.decide(staff, held.case_id, held.claim_id, DecisionInput(kind, None, ""), TOPIC)
    counts = store.ingest([item("p1", report="r9", reporter="x", queue="reports"),
                           item("p2", report="r8", reporter="y", queue="reports")])
    assert counts.reopened == 1
    with store.read() as conn:
        status: dict[str, str] = dict(
            conn.exec_driver_sql("SELECT post_id, status FROM cases").all())
    assert status == {"p1": "open", "p2": "decided"}


def test_sqlite_commits_leave_the_log_to_the_checkpointer_which_starts_it_over(
        store: Store) -> None:
    if store.backend != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    checkpointer = store._checkpointer
    assert checkpointer is not None
    checkpointer.stop()  # this test runs its rounds itself
    path = str(store.engine.url.database)
    probe = sqlite3.connect(path, isolation_level=None)

    def frames() -> int:
        return int(probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])

    store.ingest([item(f"p{i}") for i in range(300)])
    store.ingest([item(f"q{i}") for i in range(300)])
    written = frames()
    assert written > 100  # no commit copied the log back and started it over
    checkpointer.checkpoint(probe)
    store.ingest([item("r1")])  # this writer finds the log copied: it starts it over
    assert frames() < 30
    probe.close()


def test_the_audit_log_is_append_only(store: Store) -> None:
    add_user(store, "s1")
    with pytest.raises(sa.exc.DBAPIError), store.write() as conn:
        conn.execute(audit_log.update().values(actor="someone else"))
    with pytest.raises(sa.exc.DBAPIError), store.write() as conn:
        conn.execute(audit_log.delete())
    assert [r.action for r in store.audit_entries()] == ["account_add"]


def test_outbox_rows_are_owned_by_one_relay_until_sent_or_released(
        store: Store, clock: Clock) -> None:
    store.ingest([item("p1"), item("p2")])
    staff = add_user(store, "s1")
    for _ in range(2):
        held, _ = store.claim_next(staff)
        assert held is not None
        store.decide(staff, held.case_id, held.claim_id, APPROVE, TOPIC)
    first = store.claim_outbox(1, 60)
    assert len(first) == 1
    second = store.claim_outbox(10, 60)
    assert [r.outbox_id for r in second] != [r.outbox_id for r in first]
    assert len(second) == 1
    assert store.claim_outbox(10, 60) == []
    store.unclaim_outbox([first[0].outbox_id])
    assert [r.outbox_id for r in store.claim_outbox(10, 60)] == [first[0].outbox_id]
    store.mark_sent([first[0].outbox_id])
    clock.now += 61  # the other row's relay vanished: its lease lapses and it is offered again
    assert [r.outbox_id for r in store.claim_outbox(10, 60)] == [second[0].outbox_id]
    assert store.outbox_backlog()[0] == 1


def _claim_at_once(store: Store, reviewers: list[User]) -> dict[str, str | None]:
    """Every reviewer asks for the next case at the same moment, each from its own thread;
    the case each got (None: queue empty). No claim may raise."""
    got: dict[str, str | None] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(reviewers))

    def claim(user: User) -> None:
        try:
            start.wait()
            held, _ = store.claim_next(user)
            got[user.username] = held.case_id if held else None
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(u,)) for u in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    return got


def test_fifty_concurrent_claims_never_share_a_case(store: Store) -> None:
    store.ingest([item(f"p{i}") for i in range(30)])
    got = _claim_at_once(store, [add_user(store, f"r{i}") for i in range(50)])
    handed = [c for c in got.values() if c is not None]
    assert len(got) == 50
    assert len(handed) == 30
    assert len(set(handed)) == 30
    with store.read() as conn:
        assert conn.exec_driver_sql(
            "SELECT count(DISTINCT claimed_by) FROM cases").scalar_one() == 30


def test_concurrent_claims_of_reviewers_of_several_sites_never_share_a_case(
        store: Store) -> None:
    store.ingest([item(f"p{i}", site=("site-a", "site-b")[i % 2]) for i in range(12)]
                 + [item("elsewhere", site="site-c")])
    got = _claim_at_once(store, [add_user(store, f"r{i}", sites="site-a,site-b,site-z")
                                 for i in range(20)])
    handed = [c for c in got.values() if c is not None]
    assert len(got) == 20
    assert sorted(handed) == sorted(case_id(("site-a", "site-b")[i % 2], f"p{i}")
                                    for i in range(12))


def test_a_decision_can_claim_the_next_case_in_the_same_step(store: Store) -> None:
    store.ingest([item("p1", priority=90, queue="urgent"), item("p2")])
    staff = add_user(store, "s1")
    held, _ = store.claim_next(staff)
    assert held is not None
    done = store.decide(staff, held.case_id, held.claim_id, APPROVE, TOPIC, Filters())
    assert done.next is not None
    assert done.next.case_id == case_id("site-a", "p2")
    again = store.decide(staff, held.case_id, held.claim_id, APPROVE, TOPIC, Filters())
    assert again.duplicate
    assert again.next == done.next  # the repeat finds the case it already holds
    last = store.decide(staff, done.next.case_id, done.next.claim_id, APPROVE, TOPIC,
                        Filters())
    assert last.next is None
