"""Pictures of the Grafana dashboards for the README, drawn from a real Prometheus.

Grafana does not run on the machines this project is built on, so this runs the pipeline the
way the observability test does (embedded broker, filter workers as processes, Debian's
Prometheus with the repository's rules), plays a short scenario, then draws every panel of
every dashboard from Prometheus's range queries with matplotlib, laid out on Grafana's grid:

    bash scripts/setup.sh bench        # matplotlib
    .venv/bin/python -m tests.render_dashboards --out docs/dashboards

Scenario, in minutes from the start of the pictured window (after a warm-up): two workers,
an enforcer and a patrol console with one reviewer deciding a case every few seconds run on a
steady stream; at 2 a burst triples it for a minute; at 3 a list edit is hot-reloaded;
at 4 a broken list fails to reload and is fixed at 5; from 4.5 one worker is frozen (SIGSTOP)
for 40 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from pipeline.kafka.embedded import EmbeddedBroker
from pipeline.telemetry import dashboards
from tests.integration.conftest import fresh_config
from tests.observed import FILTER_JOB, Observed, observed_pipeline
from tests.prom import PrometheusServer

ROOT = Path(__file__).resolve().parents[1]
GRID_ROW_IN = 0.42  # inches per Grafana grid row
WIDTH_IN = 20.0


def legend(template: str, labels: dict[str, str]) -> str:
    """Grafana's `{{label}}` substitution."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


def formatter(unit: str) -> FuncFormatter:
    """Axis labels in the panel's unit."""
    def fmt(value: float, _pos: object) -> str:
        if unit == "percentunit":
            return f"{value * 100:.3g}%"
        if unit == "bytes":
            return f"{value / 2**20:.0f} MiB"
        if unit == "s":
            return f"{value * 1000:.3g} ms" if 0 < abs(value) < 1 else f"{value:.3g} s"
        if unit.startswith("suffix:"):
            return f"{value:.3g}{unit.removeprefix('suffix:').strip()}"
        return f"{value:.3g}"
    return FuncFormatter(fmt)


Series = list[tuple[str, list[float], list[float]]]


def fetch(panel: dict[str, Any], prometheus: PrometheusServer, start: float, end: float,
          step_s: float) -> Series:
    """Every series of a panel's targets over the window, named by its legend."""
    series: Series = []
    for target in panel["targets"]:
        for result in prometheus.query_range(target["expr"], start, end, step_s):
            points = [(float(t), float(v)) for t, v in result["values"]
                      if math.isfinite(float(v))]  # NaN: a quantile of no observations
            if points:
                series.append((legend(target["legendFormat"], result["metric"]),
                               [t for t, _ in points], [v for _, v in points]))
    return series


def draw_panel(ax: Axes, panel: dict[str, Any], series: Series) -> None:
    ax.set_title(panel["title"], fontsize=10, loc="left")
    defaults = panel["fieldConfig"]["defaults"]
    unit = defaults.get("unit", "short")
    if not series:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes,
                color="grey")
        ax.set_xticks([])
        ax.set_yticks([])
        return
    stacked = defaults.get("custom", {}).get("stacking", {}).get("mode") == "normal"
    if stacked and len({tuple(s[1]) for s in series}) == 1:
        ax.stackplot(series[0][1], *[s[2] for s in series], labels=[s[0] for s in series],
                     alpha=0.7)
    else:
        for name, times, values in series:
            ax.plot(times, values, label=name, linewidth=1.2,
                    linestyle="--" if name.endswith(" SLA") else "-")
    for step in defaults.get("thresholds", {}).get("steps", []):
        if step.get("value") is not None:
            ax.axhline(step["value"], color="red", linestyle="--", linewidth=0.8)
    ax.yaxis.set_major_formatter(formatter(unit))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _pos: time.strftime("%H:%M", time.localtime(v))))
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if len(series) <= 16:
        ax.legend(fontsize=6, loc="upper left", ncol=1 if len(series) <= 8 else 2)


def render(board: dict[str, Any], prometheus: PrometheusServer, start: float, end: float,
           out: Path) -> None:
    """One PNG of a dashboard, panels where Grafana puts them; a row none of whose panels has
    data (its service was not running) is reduced to its title."""
    step_s = max(5.0, (end - start) / 240)
    rows: list[tuple[str, list[tuple[dict[str, Any], Series]]]] = []
    for panel in board["panels"]:
        if panel["type"] == "row":
            rows.append((panel["title"], []))
        else:
            rows[-1][1].append((panel, fetch(panel, prometheus, start, end, step_s)))
    # Grafana's grid, with empty rows folded: one line for a row title, h lines per panel.
    layout: list[tuple[int, int, int, int, dict[str, Any] | str, Series]] = []
    y = 0
    for title, panels in rows:
        shown = any(series for _, series in panels)
        layout.append((y, 1, 0, 24, title if shown else f"{title}: no data (not running in "
                       "this picture)", []))
        y += 1
        if not shown:
            continue
        top = y
        for panel, series in panels:
            pos = panel["gridPos"]
            py = top + pos["y"] - (panels[0][0]["gridPos"]["y"])
            layout.append((py, pos["h"], pos["x"], pos["w"], panel, series))
            y = max(y, py + pos["h"])
    height_in = y * GRID_ROW_IN + 1.0
    fig = plt.figure(figsize=(WIDTH_IN, height_in))
    grid = fig.add_gridspec(y, 24, hspace=2.2, wspace=1.5, left=0.04, right=0.99,
                            top=1 - 0.9 / height_in, bottom=0.02)
    fig.suptitle(f"{board['title']}: {board['description']}", fontsize=13, x=0.01, y=0.995,
                 ha="left", va="top")
    for py, h, x, w, item, series in layout:
        if isinstance(item, str):
            ax = fig.add_subplot(grid[py, :])
            ax.axis("off")
            ax.text(0, 0.2, item, fontsize=12, fontweight="bold", transform=ax.transAxes)
            continue
        ax = fig.add_subplot(grid[py + 1:py + h, x:x + w])
        draw_panel(ax, item, series)
    fig.savefig(out, dpi=80)
    plt.close(fig)


def scenario(observed: Observed, minutes: float) -> None:
    """The incidents the pictures show (see the module docstring)."""
    began = time.monotonic()
    ja = observed.wordlists / "ja.tsv"
    original = ja.read_text(encoding="utf-8")
    patrol = observed.patrol()
    decisions = ["delete", "approve", "warn", "approve", "delete", "approve", "escalate"]

    def at(minute: float) -> None:
        """Wait for `minute`, deciding a case every few seconds meanwhile (one reviewer)."""
        until = began + minute * 60 * minutes / 6
        while time.monotonic() < until:
            patrol.decide_next([decisions[int(time.monotonic()) % len(decisions)]])
            time.sleep(max(0.0, min(4.0, until - time.monotonic())))

    at(2)
    observed.feeder.per_round *= 3
    at(3)
    observed.feeder.per_round //= 3
    ja.write_text(original + "ぴよぴよ\tng\tabuse\n", encoding="utf-8")
    at(4)
    ja.write_text(original + "ぴよぴよ\tnot-a-mode\tabuse\n", encoding="utf-8")
    at(4.5)
    observed.processes[FILTER_JOB][1].send_signal(signal.SIGSTOP)
    at(4.5 + 40 / 60)
    observed.processes[FILTER_JOB][1].send_signal(signal.SIGCONT)
    at(5)
    ja.write_text(original + "ぴよぴよ\tng\tabuse\n", encoding="utf-8")
    at(6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboards")
    parser.add_argument("--minutes", type=float, default=6.0,
                        help="length of the scenario (default 6)")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="minutes of steady stream before the pictured window, so the "
                        "5-minute rate windows are full (default 5)")
    args = parser.parse_args()
    matplotlib.use("Agg")  # files only, no display
    args.out.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker(startup_timeout_s=30)
    asyncio.run(broker.start())
    try:
        base = fresh_config(broker.bootstrap_servers, max_batch_records=500)
        with tempfile.TemporaryDirectory() as tmp, \
                observed_pipeline(base, Path(tmp), workers=2, enforcers=1,
                                  console=True) as observed:
            observed.wait_for('sum(up{job="mimamori-worker"}) == 2')
            time.sleep(args.warmup * 60)
            start = time.time()
            scenario(observed, args.minutes)
            end = time.time()
            for name in dashboards.DASHBOARDS:
                board = json.loads((ROOT / "config/grafana/dashboards" / name).read_text())
                target = args.out / name.replace(".json", ".png")
                render(board, observed.prometheus, start, end, target)
                print(f"wrote {target}")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
