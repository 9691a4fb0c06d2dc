"""Turn raw run rows into the summary table (text for the terminal, markdown for latest.md).

A row is one measured window: one target, one scenario, one concurrency, one repeat. A proxy
row is paired with the direct row of the same scenario, concurrency and repeat that was taken
right before or after it (`pair` names the proxy the direct run was paired with). Every figure
is a median over repeats; "added" figures are medians of the paired differences.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

Row = dict[str, Any]
HEADERS = (
    "scenario", "c", "target", "req/s", "p50 ms", "p99 ms", "+p50 ms", "+p99 ms",
    "TTFT p50", "+TTFT p50", "CPU ms/req", "x floor", "RSS MB", "redis CPU", "redis cmd/req",
    "redis RT/req", "errors",
)  # fmt: skip


@dataclass(frozen=True)
class Summary:
    scenario: str
    concurrency: int
    target: str
    repeats: int
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    added_p50_ms: float | None
    added_p99_ms: float | None
    ttft_p50_ms: float | None
    added_ttft_p50_ms: float | None
    cpu_ms_per_req: float | None
    rss_mb: float | None
    errors: int
    redis_cpu_ms_per_req: float | None = None
    redis_cmds_per_req: float | None = None
    redis_rtt_per_req: float | None = None
    cpu_vs_floor: float | None = None  # CPU ms/req over the floor's, same scenario and c


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _paired(
    rows: Sequence[Row], directs: dict[tuple[str, int, str, int], Row], key: str
) -> float | None:
    diffs = []
    for row in rows:
        base = directs.get((row["scenario"], row["concurrency"], row["target"], row["repeat"]))
        if base is not None and row[key] is not None and base[key] is not None:
            diffs.append(row[key] - base[key])
    return _median(diffs)


def summarise(
    rows: Sequence[Row], order: Sequence[str], scenario_order: Sequence[str]
) -> list[Summary]:
    """One Summary per (scenario, concurrency, target), direct first, then `order`."""
    runs = [row for row in rows if row.get("type") == "run"]
    directs = {
        (r["scenario"], r["concurrency"], r["pair"], r["repeat"]): r
        for r in runs
        if r["target"] == "direct" and r.get("pair")
    }
    groups: dict[tuple[str, int, str], list[Row]] = {}
    for row in runs:
        groups.setdefault((row["scenario"], row["concurrency"], row["target"]), []).append(row)

    def rank(key: tuple[str, int, str]) -> tuple[int, int, int]:
        scenario, concurrency, target = key
        where = scenario_order.index(scenario) if scenario in scenario_order else 99
        who = order.index(target) if target in order else 99
        return where, concurrency, who

    summaries = [_summary(key, groups[key], directs) for key in sorted(groups, key=rank)]
    floors = {
        (s.scenario, s.concurrency): s.cpu_ms_per_req for s in summaries if s.target == "floor"
    }
    return [_versus_floor(s, floors.get((s.scenario, s.concurrency))) for s in summaries]


def _versus_floor(summary: Summary, floor: float | None) -> Summary:
    if summary.cpu_ms_per_req is None or not floor or summary.target == "direct":
        return summary
    return replace(summary, cpu_vs_floor=summary.cpu_ms_per_req / floor)


def _summary(
    key: tuple[str, int, str], group: list[Row], directs: dict[tuple[str, int, str, int], Row]
) -> Summary:
    proxied = key[2] != "direct"

    def med(field: str) -> float | None:
        return _median(row[field] for row in group)

    def added(field: str) -> float | None:
        return _paired(group, directs, field) if proxied else None

    return Summary(
        scenario=key[0],
        concurrency=key[1],
        target=key[2],
        repeats=len(group),
        rps=med("rps"),
        p50_ms=med("p50_ms"),
        p99_ms=med("p99_ms"),
        added_p50_ms=added("p50_ms"),
        added_p99_ms=added("p99_ms"),
        ttft_p50_ms=med("ttft_p50_ms"),
        added_ttft_p50_ms=added("ttft_p50_ms"),
        cpu_ms_per_req=med("proxy_cpu_ms_per_req"),
        rss_mb=med("proxy_rss_mb"),
        errors=sum(int(row["errors"]) for row in group),
        redis_cpu_ms_per_req=_median(row.get("redis_cpu_ms_per_req") for row in group),
        redis_cmds_per_req=_median(row.get("redis_cmds_per_req") for row in group),
        redis_rtt_per_req=_median(row.get("redis_rtt_per_req") for row in group),
    )


def _fmt(value: float | None, digits: int = 2, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def cells(summary: Summary) -> list[str]:
    return [
        summary.scenario,
        str(summary.concurrency),
        summary.target,
        _fmt(summary.rps, 0),
        _fmt(summary.p50_ms),
        _fmt(summary.p99_ms),
        _fmt(summary.added_p50_ms, signed=True),
        _fmt(summary.added_p99_ms, signed=True),
        _fmt(summary.ttft_p50_ms),
        _fmt(summary.added_ttft_p50_ms, signed=True),
        _fmt(summary.cpu_ms_per_req, 3),
        _fmt(summary.cpu_vs_floor),
        _fmt(summary.rss_mb, 1),
        _fmt(summary.redis_cpu_ms_per_req, 3),
        _fmt(summary.redis_cmds_per_req),
        _fmt(summary.redis_rtt_per_req),
        str(summary.errors),
    ]


def text_table(summaries: Sequence[Summary]) -> str:
    """A fixed-width table, numbers right-aligned, a blank line between scenarios."""
    rows = [list(HEADERS)] + [cells(s) for s in summaries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]

    def align(i: int, cell: str) -> str:
        return cell.ljust(widths[i]) if i < 3 else cell.rjust(widths[i])

    lines = []
    previous = None
    for index, row in enumerate(rows):
        if index > 1 and row[0] != previous:
            lines.append("")
        previous = row[0]
        lines.append("  ".join(align(i, cell) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines)


def markdown_table(summaries: Sequence[Summary]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * 3 + "---:|" * (len(HEADERS) - 3)]
    lines.extend("| " + " | ".join(cells(s)) + " |" for s in summaries)
    return "\n".join(lines)


def _loads(meta: Row) -> str:
    def show(key: str) -> str:
        values = meta.get(key)
        return " / ".join(f"{v:.2f}" for v in values) if values else "?"

    return f"{show('loadavg_start')} at start, {show('loadavg_end')} at end"


def markdown_report(
    meta: Row, summaries: Sequence[Summary], failures: Sequence[str], notes: Sequence[str] = ()
) -> str:
    """latest.md: conditions, the table, and any target that could not be measured."""
    conditions = [
        ("run", meta["run_id"]),
        ("git commit", meta.get("git_commit") or "unknown"),
        ("machine", f"{meta['cpus']} CPUs, Python {meta['python']}"),
        ("load average (1/5/15 min)", _loads(meta)),
        ("layout", meta["layout"]),
        (
            "per run",
            f"{meta['warmup_s']} s warm-up (not recorded), {meta['duration_s']} s measured",
        ),
        ("repeats", f"{meta['repeats']} (medians; direct/proxy order alternates)"),
        ("clients", meta["clients"]),
    ]
    parts = [f"# Proxy overhead: {meta['run_id']}", "", "| item | value |", "|---|---|"]
    parts += [f"| {name} | {value} |" for name, value in conditions]
    parts += ["", "Commands:", ""]
    parts += [f"- `{name}`: `{command}`" for name, command in meta["commands"].items()]
    parts += ["", markdown_table(summaries), ""]
    parts.append(
        "`+` columns: proxied minus direct, paired within the same repeat (median of the "
        "differences). CPU ms/req: the proxy's process tree over the measured window; "
        "RSS: that tree at the end of the window. x floor: CPU ms/req over the floor's. "
        "redis: the benchmark's redis-server, per request: its CPU, commands "
        "(total_commands_processed) and round trips (total_reads_processed)."
    )
    if notes:
        parts += ["", "## Skipped", ""] + [f"- {note}" for note in notes]
    if failures:
        parts += ["", "## Not measured", ""] + [f"```\n{failure}\n```" for failure in failures]
    return "\n".join(parts) + "\n"
