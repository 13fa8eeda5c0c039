"""The Grafana dashboards, generated from code with grafana-foundation-sdk (development tool).

`python -m pipeline.telemetry.dashboards` writes `config/grafana/dashboards/*.json`, which
docker-compose provisions into Grafana; a unit test fails when the committed files differ from
what this module generates. The SDK is a test-extra dependency (`scripts/setup.sh test`): the
running services never import this module.

Three dashboards, each answering one audience's questions:

- **SRE** (`mimamori-sre`): is every service keeping up? One row per service in data-flow
  order: records in, outputs, verdict mix, processing time, lag and its growth, dead letters,
  errors, commits, broker connectivity, then the processes' CPU, memory and file descriptors.
- **Patrol** (`mimamori-patrol`): are people keeping up? Queue depth, the oldest case's age
  against its queue's SLA, decisions by outcome and role, time to decision, lapsed leases,
  reviewers on shift and the console's outbox.
- **Operators** (`mimamori-operators`): what is moderation doing? Hits and reports by category,
  actions by type and source, strikes, ladder transitions, overturns, the wordlist versions and
  reload history.

Panels read the recording rules of `config/prometheus/recording.rules.yml` where an alert uses
the same expression, so a panel shows exactly what its alert evaluates. Scrape jobs are named
as in `config/prometheus.yml`: `mimamori-worker` (filter), `mimamori-enforcer`,
`mimamori-console`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders.dashboard import (
    AnnotationQuery,
    Dashboard,
    DashboardLink,
    Row,
    ThresholdsConfig,
)
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common, dashboard

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "config" / "grafana" / "dashboards"
# The datasource provisioned by config/grafana/provisioning/datasources/prometheus.yml.
DATASOURCE = dashboard.DataSourceRef(type_val="prometheus", uid="mimamori-prometheus")

FILTER_JOB = "mimamori-worker"
ENFORCER_JOB = "mimamori-enforcer"
CONSOLE_JOB = "mimamori-console"

PER_SECOND = "suffix: /s"
PER_HOUR = "suffix: /h"

# A panel's size on Grafana's 24-column grid: three panels a line.
WIDTH = 8
HEIGHT = 7


def query(expr: str, legend: str) -> Dataquery:
    """One Prometheus target."""
    return Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE).range()


def panel(title: str, description: str, unit: str, *targets: Dataquery,
          stacked: bool = False, threshold: float | None = None,
          max_value: float | None = None, dashed: str | None = None) -> Timeseries:
    """A time series panel. `threshold` draws a red dashed line at that value (an alert's
    limit); `stacked` stacks the series (parts of one whole, like verdicts); series whose
    name matches the regular expression `dashed` are drawn dashed (limits, like an SLA)."""
    built = (
        Timeseries().title(title).description(description).unit(unit)
        .datasource(DATASOURCE).span(WIDTH).height(HEIGHT).min(0)
        .line_width(1).fill_opacity(10 if not stacked else 60)
        .legend(common_builders.VizLegendOptions()
                .display_mode(common.LegendDisplayMode.LIST)
                .placement(common.LegendPlacement.BOTTOM).show_legend(True))
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI)
                 .sort(common.SortOrder.DESCENDING))
    )
    for index, target in enumerate(targets):
        built = built.with_target(target.ref_id("ABCDEFGH"[index]))
    if stacked:
        built = built.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    if max_value is not None:
        built = built.max(max_value)
    if dashed is not None:
        built = built.override_by_regexp(dashed, [dashboard.DynamicConfigValue(
            id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]})])
    if threshold is not None:
        built = built.thresholds(
            ThresholdsConfig().mode(dashboard.ThresholdsMode.ABSOLUTE).steps([
                dashboard.Threshold(value=None, color="green"),
                dashboard.Threshold(value=threshold, color="red"),
            ])
        ).thresholds_style(common_builders.GraphThresholdsStyleConfig()
                           .mode(common.GraphThresholdsStyleMode.DASHED))
    return built


def _base(uid: str, title: str, description: str) -> Dashboard:
    return (
        Dashboard(title).uid(uid).description(description)
        .tags(["mimamori", "generated"]).time("now-6h", "now").refresh("30s")
        .timezone(common.TimeZoneBrowser).tooltip(dashboard.DashboardCursorSync.CROSSHAIR)
        # The other mimamori dashboards, one click away.
        .link(DashboardLink("mimamori").type(dashboard.DashboardLinkType.DASHBOARDS)
              .tags(["mimamori"]).as_dropdown(True).keep_time(True))
        # Marks on every panel where a mimamori alert fired.
        .annotation(
            AnnotationQuery().name("Firing mimamori alerts").datasource(DATASOURCE)
            .enable(True).icon_color("red")
            .expr('ALERTS{alertname=~"Mimamori.*", alertstate="firing"}'))
    )


def loop_row(job: str, outputs: bool = True) -> list[Timeseries]:
    """The panels every consumer-group service shares, in data-flow order. `outputs=False`
    for a service whose loop produces nothing but DLQ copies (the console's ingest writes to
    its store; its decisions leave through the outbox)."""
    j = f'job="{job}"'
    out = [
        panel("Outputs", "Messages produced and acknowledged per second, by topic.",
              PER_SECOND,
              query(f"job_service_topic:mimamori_outputs:rate5m{{{j}}}", "{{topic}}")),
    ] if outputs else []
    return [
        panel("Records in", "Records consumed per second, by input topic.", PER_SECOND,
              query(f"job_service_topic:mimamori_records_consumed:rate5m{{{j}}}",
                    "{{topic}}")),
        *out,
        panel("Processing duration",
              "Fetch to commit per batch (alert: p99 over 1 s for 10 minutes), and the mean "
              "time per record within a batch.", "s",
              query(f"job_service:mimamori_batch_processing_seconds:quantile_rate5m{{{j}}}",
                    "batch p{{quantile}}"),
              query(f"job_service:mimamori_record_processing_seconds:quantile_rate5m{{{j}}}",
                    "per record p{{quantile}}"),
              threshold=1.0),
        panel("Lag per partition", "Records behind the high watermark, per partition "
              "(alert: over 1,000 and growing for 15 minutes).", "short",
              query(f"job_service_topic_partition:mimamori_consumer_lag_records:max{{{j}}}",
                    "{{topic}}[{{partition}}]")),
        panel("Lag growth", "Change of the total lag per topic, records per second "
              "(positive: falling behind).", PER_SECOND,
              query(f"deriv(job_service_topic:mimamori_consumer_lag_records:sum{{{j}}}[5m])",
                    "{{topic}}")),
        panel("Dead letters by reason", "Records sent to the DLQ per second, by reason.",
              PER_SECOND,
              query(f"job_service_reason:mimamori_dlq_records:rate5m{{{j}}}", "{{reason}}")),
        panel("Dead-letter share of input",
              "Share of consumed records sent to the DLQ (alert: over 1% for 10 minutes).",
              "percentunit",
              query(f"job_service:mimamori_dlq_records:ratio_rate5m{{{j}}}", "DLQ share"),
              threshold=0.01),
        panel("Errors by kind", "Fetch and produce errors handled by the loop, per second.",
              PER_SECOND,
              query(f"job_service_kind:mimamori_errors:rate5m{{{j}}}", "{{kind}}")),
        panel("Commits by result", "Offset commits per second: ok, rebalanced, failed, "
              "stuck (timed out; consumer replaced).", PER_SECOND,
              query(f"job_service_result:mimamori_offset_commits:rate5m{{{j}}}",
                    "{{result}}")),
        panel("Since last commit", "Seconds since each process last committed a batch (grows "
              "while idle, and while stalled).", "s",
              query(f"time() - max by (instance) "
                    f"(mimamori_last_processed_timestamp_seconds{{{j}}})", "{{instance}}")),
        panel("Broker connectivity", "1 while the process reaches the broker; share of time "
              "it could not (alert: unreachable for a minute).", "percentunit",
              query(f"min by (instance) (mimamori_broker_connected{{{j}}})",
                    "{{instance}} connected"),
              query(f"sum by (instance) "
                    f"(rate(mimamori_broker_unreachable_seconds_total{{{j}}}[5m]))",
                    "{{instance}} unreachable"),
              max_value=1),
        panel("Instances up", "Processes Prometheus can scrape (alert: one does not answer "
              "for a minute).", "short",
              query(f'sum(up{{{j}}})', "up"),
              query(f'count(up{{{j}}})', "discovered")),
        panel("CPU", "CPU time per second of each process (1 = one core).", "short",
              query(f"sum by (instance) (rate(mimamori_process_cpu_seconds_total{{{j}}}[5m]))",
                    "{{instance}}")),
        panel("Memory (RSS)", "Resident memory of each process.", "bytes",
              query(f"mimamori_process_resident_memory_bytes{{{j}}}", "{{instance}}")),
        panel("Open file descriptors", "Open file descriptors of each process (its limit is "
              "mimamori_process_max_fds).", "short",
              query(f"mimamori_process_open_fds{{{j}}}", "{{instance}}")),
    ]


def sre() -> Dashboard:
    """Is every service keeping up?"""
    built = _base("mimamori-sre", "mimamori: SRE",
                  "Is every service keeping up? One row per service in data-flow order. "
                  "Alerts: config/prometheus/alerts.rules.yml; runbook: docs/runbook.md.")
    f = f'job="{FILTER_JOB}"'
    filter_panels = loop_row(FILTER_JOB)
    filter_panels.insert(2, panel(
        "Verdict mix", "Posts and reports judged per second, by outcome.", PER_SECOND,
        query(f"job_service_outcome:mimamori_verdicts:rate5m{{{f}}}", "{{outcome}}"),
        stacked=True))
    e = f'job="{ENFORCER_JOB}"'
    enforcer_panels = [
        *loop_row(ENFORCER_JOB),
        panel("Ledger restore duration", "p90 time to restore the strike ledger from "
              "mod.ledger after an assignment (alert: over 60 s).", "s",
              query(f"histogram_quantile(0.9, sum by (le) "
                    f"(rate(mimamori_enforcer_restore_seconds_bucket{{{e}}}[30m])))", "p90"),
              threshold=60),
        panel("Replays skipped", "Replayed inputs the enforcer recognised and skipped (after "
              "a crash or rebalance), per second.", PER_SECOND,
              query(f"sum(rate(mimamori_enforcer_replays_skipped_total{{{e}}}[5m]))",
                    "skipped")),
    ]
    c = f'job="{CONSOLE_JOB}"'
    console_panels = [
        *loop_row(CONSOLE_JOB, outputs=False),
        panel("Outbox", "The console's output: decisions stored but not yet produced to "
              "mod.decisions, and the oldest one's age (alert: growing for 10 minutes, or "
              "older than 5 minutes).",
              "short",
              query(f"job_service:mimamori_console_outbox_backlog:max{{{c}}}", "backlog"),
              query(f"max(mimamori_console_outbox_oldest_age_seconds{{{c}}})",
                    "oldest (s)")),
    ]
    for title, panels in (("Filter workers", filter_panels), ("Enforcer", enforcer_panels),
                          ("Patrol console", console_panels)):
        built = built.with_row(Row(title))
        for p in panels:
            built = built.with_panel(p)
    return built


def patrol() -> Dashboard:
    """Are people keeping up with the queues?"""
    built = _base("mimamori-patrol", "mimamori: Patrol",
                  "Are patrol staff keeping up? Queues against their SLAs, decisions, "
                  "reviewers. Every SLA sits well inside the 12-hour response duty.")
    rows = {
        "Queues": [
            panel("Queue depth", "Unreviewed cases per queue.", "short",
                  query("max by (queue) (mimamori_console_queue_depth)", "{{queue}}")),
            panel("Oldest case age against SLA", "How long the oldest unreviewed case of "
                  "each queue has waited, and the queue's SLA.", "s",
                  query("job_service_queue:mimamori_console_queue_oldest_age_seconds:max",
                        "{{queue}} oldest"),
                  query("job_service_queue:mimamori_console_queue_sla_seconds:max",
                        "{{queue}} SLA"),
                  dashed=".* SLA"),
            panel("SLA used by the oldest case", "Oldest case age over the queue's SLA "
                  "(alert: above 100%).", "percentunit",
                  query("job_service_queue:mimamori_console_queue_oldest_age:sla_ratio",
                        "{{queue}}"),
                  threshold=1.0),
        ],
        "Decisions": [
            panel("Decisions by outcome", "Patrol decisions per hour, by outcome.", PER_HOUR,
                  query("sum by (decision) (rate(mimamori_console_decisions_total[15m])) "
                        "* 3600", "{{decision}}"),
                  stacked=True),
            panel("Time to decision", "From a reviewer's claim of a case to the decision.", "s",
                  query("histogram_quantile(0.5, sum by (le) "
                        "(rate(mimamori_console_decision_seconds_bucket[15m])))", "p50"),
                  query("histogram_quantile(0.9, sum by (le) "
                        "(rate(mimamori_console_decision_seconds_bucket[15m])))", "p90")),
            panel("Lapsed leases", "Cases opened by a reviewer and returned to the queue "
                  "undecided, per hour.", PER_HOUR,
                  query("sum(rate(mimamori_console_leases_lapsed_total[15m])) * 3600",
                        "lapsed")),
        ],
        "Reviewers": [
            panel("Decisions by role", "Decisions per hour by staff, leads and chiefs.",
                  PER_HOUR,
                  query("sum by (role) (rate(mimamori_console_decisions_total[15m])) * 3600",
                        "{{role}}"),
                  stacked=True),
            panel("Active reviewers", "Reviewers active in the console (alert: none while "
                  "cases wait, for 15 minutes).", "short",
                  query("max(mimamori_console_active_reviewers)", "active")),
            panel("Decisions per active reviewer", "Team throughput per person on shift, "
                  "per hour (no per-person series: labels never name a user).", PER_HOUR,
                  query("sum(rate(mimamori_console_decisions_total[15m])) * 3600 "
                        "/ max(mimamori_console_active_reviewers)", "per reviewer")),
        ],
        "Outbox": [
            panel("Outbox backlog", "Decisions stored but not yet on mod.decisions (alert: "
                  "growing for 10 minutes).", "short",
                  query("job_service:mimamori_console_outbox_backlog:max", "backlog")),
            panel("Outbox oldest entry", "Age of the oldest undelivered decision (alert: "
                  "over 5 minutes).", "s",
                  query("max(mimamori_console_outbox_oldest_age_seconds)", "oldest"),
                  threshold=300),
        ],
    }
    for title, panels in rows.items():
        built = built.with_row(Row(title))
        for p in panels:
            built = built.with_panel(p)
    return built


def operators() -> Dashboard:
    """What is moderation doing, and is it right?"""
    built = _base("mimamori-operators", "mimamori: Operators",
                  "What is moderation doing? Hits, reports and actions by kind, the "
                  "escalation ladder, overturns, and the wordlists in use.")
    rows = {
        "What the filter finds": [
            panel("Hits by category", "Surviving NG and watch hits per hour, by category.",
                  PER_HOUR,
                  query("sum by (mode, category) (rate(mimamori_hits_total[15m])) * 3600",
                        "{{mode}} {{category}}")),
            panel("Verdicts", "Posts and reports judged per hour, by outcome.", PER_HOUR,
                  query("sum by (outcome) (rate(mimamori_verdicts_total[15m])) * 3600",
                        "{{outcome}}"),
                  stacked=True),
            panel("Reports by category", "User reports per hour, by the reporter's "
                  "category.", PER_HOUR,
                  query("sum by (category) (rate(mimamori_reports_total[15m])) * 3600",
                        "{{category}}"),
                  stacked=True),
        ],
        "Actions": [
            panel("Actions by type and source", "Actions per hour: the enforcer's by type "
                  "and source (patrol, escalation, auto), and the filter's automatic action "
                  "on NG posts.", PER_HOUR,
                  query("sum by (action, source) "
                        "(rate(mimamori_enforcer_actions_total[15m])) * 3600",
                        "{{action}} ({{source}})"),
                  query('sum(rate(mimamori_verdicts_total{outcome="ng"}[15m])) * 3600',
                        "NG posts (auto, filter)")),
            panel("Strikes by category", "Strikes recorded per hour, by category.", PER_HOUR,
                  query("sum by (category) (rate(mimamori_enforcer_strikes_total[15m])) "
                        "* 3600", "{{category}}"),
                  stacked=True),
            panel("Ladder transitions", "Users moved up the escalation ladder per hour, by "
                  "the step reached.", PER_HOUR,
                  query("sum by (to) (rate(mimamori_enforcer_ladder_transitions_total[15m]))"
                        " * 3600", "to {{to}}")),
            panel("Overturns", "Actions overturned by patrol per hour.", PER_HOUR,
                  query("sum(rate(mimamori_enforcer_overturns_total[15m])) * 3600",
                        "overturns")),
            panel("Overturned share of actions", "Overturns over actions (restore and lift "
                  "excluded) in 6 hours (alert: over 5%).", "percentunit",
                  query("sum(increase(mimamori_enforcer_overturns_total[6h])) / "
                        'sum(increase(mimamori_enforcer_actions_total{action!~"restore|lift"}'
                        "[6h]))", "overturned"),
                  threshold=0.05),
            panel("Users in the strike ledger", "Users with strikes held by the enforcers.",
                  "short",
                  query("sum(mimamori_enforcer_ledger_users)", "users")),
        ],
        "Wordlists": [
            panel("Wordlist version per worker", "Workers judging with each wordlist version "
                  "(alert: more than one version for 15 minutes).", "short",
                  query("count by (version) (mimamori_wordlist_info)", "{{version}}"),
                  stacked=True),
            panel("Wordlist reloads", "Hot reloads in the last hour, by result (alert: the "
                  "last one failed).", "short",
                  query("sum by (result) (increase(mimamori_wordlist_reloads_total[1h]))",
                        "{{result}}")),
            panel("Wordlist entries", "Loaded entries by mode.", "short",
                  query("max by (mode) (mimamori_wordlist_entries)", "{{mode}}")),
            panel("Since last wordlist load", "Seconds since the newest successful load, "
                  "and since the newest failed reload (0 when none failed).", "s",
                  query("time() - max(mimamori_wordlist_loaded_timestamp_seconds)", "loaded"),
                  query("time() - max(mimamori_wordlist_reload_failed_timestamp_seconds > 0)",
                        "failed")),
        ],
    }
    for title, panels in rows.items():
        built = built.with_row(Row(title))
        for p in panels:
            built = built.with_panel(p)
    return built


DASHBOARDS = {"mimamori-sre.json": sre, "mimamori-patrol.json": patrol,
              "mimamori-operators.json": operators}


def render() -> dict[str, str]:
    """File name to JSON text of every dashboard."""
    encoder = JSONEncoder(sort_keys=True, indent=2)
    out = {}
    for name, build in DASHBOARDS.items():
        model = build().build()
        # Fixed panel ids in layout order, so links to a panel (`viewPanel=`) stay valid.
        for index, item in enumerate(model.panels or [], 1):
            item.id_val = index
        text = encoder.encode(model)
        out[name] = json.dumps(json.loads(text), indent=2, sort_keys=True,
                               ensure_ascii=False) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the dashboards (or, with --check, fail when the committed ones differ)."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.telemetry.dashboards",
                                     description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a file in --out differs from the generated one")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render().items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date, run python -m pipeline.telemetry.dashboards:", *stale)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
