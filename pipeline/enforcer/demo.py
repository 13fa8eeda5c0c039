"""The enforcer's part of `mimamori demo` (I/O shell): run it in-process next to the filter
workers, show the ladder's actions, a lead's overturn and one user's history."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
from prometheus_client import CollectorRegistry

from pipeline.config import Config
from pipeline.contract.ids import stable_id, user_key
from pipeline.contract.messages import Action, Decision, encoder
from pipeline.enforcer.commands import read_history
from pipeline.enforcer.history import duration, format_history
from pipeline.enforcer.service import run_enforcer
from pipeline.kafka.topicio import committed_total, produce, read_all
from pipeline.telemetry.metrics import LoopMetrics

Say = Callable[[str], None]


class Enforcement:
    """An enforcer running in-process until `stop` is set.

    Args:
        config: the demo's configuration (broker address set).
        registry: the demo's metrics registry, so /metrics shows the enforcer too, and
            `loop_metrics` the loop families already on it.
        stop: the demo's stop event.
    """

    def __init__(self, config: Config, registry: CollectorRegistry,
                 loop_metrics: LoopMetrics, stop: asyncio.Event) -> None:
        self.config = config
        self.task = asyncio.create_task(run_enforcer(config, stop, registry, loop_metrics))

    async def _caught_up(self, events: int, timeout_s: float = 60) -> bool:
        t = self.config.topics
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.task.done():
            done = await committed_total(self.config.kafka.bootstrap_servers,
                                         self.config.enforcer.group_id,
                                         [t.violations, t.decisions])
            if done >= events:
                return True
            await asyncio.sleep(0.2)
        return False

    async def report(self, say: Say) -> bool:
        """Wait until the enforcer has applied every strike event, send a lead's overturn of
        one automatic delete that led to a suspension, and print what happened."""
        t = self.config.topics
        bootstrap = self.config.kafka.bootstrap_servers
        violations = len(await read_all(bootstrap, [t.violations]))
        if not await self._caught_up(violations):
            failure = self.task.exception() if self.task.done() else None
            say(f"   enforcer did not catch up in time{f': {failure!r}' if failure else ''}")
            return False
        actions = await _actions(bootstrap, t.actions)
        overturned = await self._overturn(actions)
        if overturned is not None and not await self._caught_up(violations + 1):
            say("   enforcer did not apply the overturn in time")
            return False
        enforced = [a for a in await _actions(bootstrap, t.actions) if a.source != "auto"]
        counts = collections.Counter(a.action for a in enforced)
        say(f"\n9. enforcer (group {self.config.enforcer.group_id!r}): {violations} strike "
            f"events applied, {len(enforced)} actions on {t.actions}:")
        say("   " + " · ".join(f"{kind} {counts[kind]}" for kind in
                              ("warn", "suspend", "expel", "restore", "lift")))
        for kind in ("warn", "suspend", "expel"):
            example = min((a for a in enforced if a.action == kind), key=_by_user,
                          default=None)
            if example is not None:
                length = f" {duration(example.duration_s)}" if example.duration_s else ""
                say(f"   {kind}{length} {example.site_id}:{example.user_id} ({example.rule}): "
                    f"{example.reason}")
        if overturned is not None:
            site_id, user_id, post_id = overturned
            reversals = [a for a in enforced if a.action in ("restore", "lift")
                         and a.user_id == user_id]
            say(f"   a lead approves {site_id}:{user_id}'s post {post_id}, deleted "
                f"automatically: " + ", ".join(
                    f"{a.action} {a.post_id or 'suspension ' + (a.reverses or '')[:8]}"
                    for a in reversals))
            view = await read_history(self.config, site_id, user_id, int(time.time()))
            say(f"   mimamori history {site_id}:{user_id}")
            for line in format_history(view).splitlines():
                say(f"     {line}")
        return True

    async def _overturn(self, actions: list[Action]) -> tuple[str, str, str] | None:
        """A lead's approve of the post whose strike brought a user's latest rung, where that
        rung is a suspension: the strike is withdrawn, the post restored, the suspension
        lifted."""
        latest: dict[tuple[str, str], Action] = {}
        for action in actions:
            if action.source == "escalation":
                latest[(action.site_id, action.user_id)] = action
        suspension = min((a for a in latest.values() if a.action == "suspend"), key=_by_user,
                         default=None)
        if suspension is None:
            return None
        view = await read_history(self.config, suspension.site_id, suspension.user_id,
                                  int(time.time()))
        last = suspension.strike_ids[-1]
        post_id = next((s.post_id for s in view.strikes if s.strike_id == last), None)
        if post_id is None:
            return None
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        decision = Decision(
            decision_id=stable_id("demo-decision", suspension.site_id, post_id),
            item_id=stable_id("review", "filter", suspension.site_id, post_id),
            site_id=suspension.site_id, user_id=suspension.user_id, post_id=post_id,
            decision="approve", duration_s=None, note="not abuse: a quote from a film",
            reviewer="lead-demo", role="lead", overturns=None, decided_at=now)
        await produce(self.config.kafka.bootstrap_servers, [
            (self.config.topics.decisions, user_key(decision.site_id, decision.user_id),
             encoder.encode(decision))])
        return suspension.site_id, suspension.user_id, post_id


def _by_user(action: Action) -> tuple[str, str]:
    """The demo's examples are the first user in this order, not in the order the partitions
    happened to be read, so every run shows the same ones (a user's actions keep their order:
    they share a partition)."""
    return action.site_id, action.user_id


async def _actions(bootstrap: str, topic: str) -> list[Action]:
    return [msgspec.json.decode(r.value or b"", type=Action)
            for r in await read_all(bootstrap, [topic])]
