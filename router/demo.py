"""`tokenwise demo`: the proxy on the embedded default, driven by the official OpenAI SDK.

The proxy (and, in the embedded default, its simulator) runs on free loopback ports in this
process; the workload goes through `openai.OpenAI` exactly as a team's code would send it. The
table says what served each request class and what it cost in tokens and time.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from router.config.load import ConfigError, Settings, load_settings
from router.localserver import serving

_NOTICE = (
    "From Monday 3 March the north entrance of the library will be closed for six weeks while "
    "the steps are rebuilt. Please use the east entrance on Mill Street, which has step-free "
    "access and a temporary book drop. The reading rooms, the cafe and the study booths stay "
    "open at their usual hours, and bookings made for the group rooms on the ground floor are "
    "not affected. We are sorry for the inconvenience and thank you for your patience."
)

WORKLOAD: tuple[tuple[str, str], ...] = (
    ("trivial", "What is the capital of Australia?"),
    ("trivial", "How many legs does a spider have?"),
    ("chat", "Hi! How is your day going?"),
    ("chat", "Can you recommend a good book for a long flight?"),
    ("math", "Find all real x such that x^4 - 5x^2 + 4 = 0, and prove there are no others."),
    (
        "math",
        "A train leaves at 3pm at 80 km/h; another at 4pm at 100 km/h. When does it catch up?",
    ),
    ("logic", "Three boxes are all mislabeled: apples, oranges, mixed. Pick one fruit to fix all."),
    ("logic", "If all bloops are razzies and some razzies are lazzies, must a bloop be a lazzie?"),
    ("transform", "Summarize in one sentence:\n\n" + _NOTICE),
    ("transform", "Translate into French:\n\n" + _NOTICE),
)


@dataclass
class Row:
    label: str
    models: list[str] = field(default_factory=list)
    prompt: list[int] = field(default_factory=list)
    completion: list[int] = field(default_factory=list)
    reasoning: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    cost: list[str] = field(default_factory=list)


def send(client: Any, model: str, prompt: str) -> tuple[str, Any, float, str]:
    started = time.perf_counter()
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": prompt}]
    )
    elapsed = (time.perf_counter() - started) * 1000
    completion = raw.parse()
    served = raw.headers.get("x-tokenwise-model", completion.model)
    route = dict(
        item.split("=", 1) for item in raw.headers.get("x-tokenwise-route", "").split("; ") if item
    )
    if route:
        served += f" ({route.get('tier')}, effort {route.get('effort')})"
    cost = raw.headers.get("x-tokenwise-cost-usd", "")
    return served, completion.usage, elapsed, cost


def run_workload(client: Any, models: tuple[str, ...], repeat: int) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for _ in range(repeat):
        for model in models:
            for category, prompt in WORKLOAD:
                label = f"{category} -> {model}"
                row = rows.setdefault(label, Row(label))
                served, usage, ms, cost = send(client, model, prompt)
                details = getattr(usage, "completion_tokens_details", None)
                row.models.append(served)
                row.prompt.append(usage.prompt_tokens)
                row.completion.append(usage.completion_tokens)
                row.reasoning.append(getattr(details, "reasoning_tokens", 0) or 0)
                row.latency_ms.append(ms)
                if cost:
                    row.cost.append(cost)
    return rows


def print_table(rows: dict[str, Row], out: TextIO) -> None:
    header = (
        "request class -> asked for",
        "served by",
        "prompt",
        "completion",
        "reasoning",
        "cost USD",
        "p50 ms",
    )
    lines = [header]
    for row in rows.values():
        served = "; ".join(_counted(row.models))
        cost = f"{statistics.median(float(c) for c in row.cost):.6f}" if row.cost else "-"
        lines.append(
            (
                row.label,
                served,
                str(round(statistics.median(row.prompt))),
                str(round(statistics.median(row.completion))),
                str(round(statistics.median(row.reasoning))),
                cost,
                f"{statistics.median(row.latency_ms):.1f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


def _counted(choices: list[str]) -> list[str]:
    """Each distinct choice once, in order, with how many of the requests it served."""
    counts = Counter(choices)
    return [f"{choice} x{counts[choice]}" if len(counts) > 1 else choice for choice in counts]


def demo_models(settings: Settings) -> tuple[str, ...]:
    explicit = [m for m in ("sim-small", "sim-large-reasoner") if m in settings.models]
    if not explicit:
        explicit = [next(iter(settings.models))]
    return ("auto", *explicit)


def run_demo(config: str | None, repeat: int, out: TextIO = sys.stdout) -> int:
    import openai

    from router.app import create_app

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        print(f"tokenwise: configuration error: {exc}", file=sys.stderr)
        return 2
    key = settings.dev_key or settings.env.get("TOKENWISE_DEMO_KEY")
    if not key:
        print(
            "tokenwise demo: the config declares keys; set TOKENWISE_DEMO_KEY to one of them",
            file=sys.stderr,
        )
        return 2
    print(f"Tokenwise demo: config {settings.source}", file=out)
    if settings.uses_simulator:
        print(
            "Upstream: the built-in SIMULATOR (simulated models; no real provider is called).",
            file=out,
        )
    with serving(create_app(settings)) as server:
        base_url = f"http://127.0.0.1:{server.port}/v1"
        print(f"Proxy: {base_url} (official openai SDK client)\n", file=out)
        with openai.OpenAI(base_url=base_url, api_key=key, max_retries=0) as client:
            rows = run_workload(client, demo_models(settings), repeat)
    print_table(rows, out)
    print(
        "\n'auto' is decided per request by the classifier and the default policy (served by: "
        "model, tier, effort); explicit models go where they say. Costs are the proxy's own "
        "metering of each answer at the prices in pricing.json (simulated models carry the "
        "prices of the real models they imitate).",
        file=out,
    )
    return 0
