"""The summary as a PNG: one panel per figure the performance goals name, targets side by side.

Panels: req/s and CPU ms/req at ns-l0 (pure overhead, the highest concurrency measured up to
16), added p50/p99 at ns-l50 and added TTFT p50 at st-l50 (the highest concurrency measured),
and RSS. A panel whose scenario was not run is left out. matplotlib (Agg) only; without it no
plot is drawn and the run says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from report import Summary

Pick = Callable[[Summary], float | None]


def _at(summaries: Sequence[Summary], scenario: str, prefer: int | None) -> list[Summary]:
    rows = [s for s in summaries if s.scenario == scenario]
    levels = sorted({s.concurrency for s in rows})
    if not levels:
        return []
    below = [c for c in levels if prefer is None or c <= prefer]
    chosen = below[-1] if below else levels[0]
    return [s for s in rows if s.concurrency == chosen]


def plot(summaries: Sequence[Summary], path: Path, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    panels: list[tuple[str, list[Summary], list[tuple[str, Pick]]]] = []
    l0 = _at(summaries, "ns-l0", 16)
    if l0:
        c = l0[0].concurrency
        panels.append((f"req/s (ns-l0, c={c}, log scale)", l0, [("req/s", lambda s: s.rps)]))
        cpu: list[tuple[str, Pick]] = [
            ("proxy", lambda s: s.cpu_ms_per_req),
            ("+ redis", lambda s: s.redis_cpu_ms_per_req),
        ]
        panels.append((f"CPU ms per request (ns-l0, c={c})", l0, cpu))
        panels.append((f"RSS MB (ns-l0, c={c})", l0, [("RSS", lambda s: s.rss_mb)]))
    l50 = _at(summaries, "ns-l50", None)
    if l50:
        added: list[tuple[str, Pick]] = [
            ("+p50", lambda s: s.added_p50_ms),
            ("+p99", lambda s: s.added_p99_ms),
        ]
        c = l50[0].concurrency
        panels.append((f"added latency ms (ns-l50, c={c})", l50, added))
    st = _at(summaries, "st-l50", None)
    if st:
        c = st[0].concurrency
        ttft: list[tuple[str, Pick]] = [("+TTFT p50", lambda s: s.added_ttft_p50_ms)]
        panels.append((f"added TTFT p50 ms (st-l50, c={c})", st, ttft))
    if not panels:
        return False
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.3 * len(panels)), squeeze=False)
    for ax, (name, rows, series) in zip(axes[:, 0], panels, strict=True):
        labels = [s.target for s in rows]
        width = 0.8 / len(series)
        for i, (label, pick) in enumerate(series):
            xs = [j + i * width for j in range(len(rows))]
            ys = [pick(s) or 0.0 for s in rows]
            bars = ax.bar(xs, ys, width, label=label)
            ax.bar_label(bars, fmt="%.3g", fontsize=7)
        ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(rows))], labels)
        ax.set_title(name, fontsize=9)
        if "log scale" in name:
            ax.set_yscale("log")
        ax.tick_params(labelsize=8)
        if len(series) > 1:
            ax.legend(fontsize=7)
    fig.suptitle(f"tokenwise proxy overhead ({title})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True
