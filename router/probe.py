"""`tokenwise probe`: does each reasoning model's upstream honour the reasoning it is sent?

For every configured model with a `reasoning` block, the probe sends one short reasoning prompt
at the lowest and at the highest level the model supports (what its adapter can express), and
once more streamed. It goes straight through the provider adapters and the upstream client, not
through the proxy's HTTP app, so it can read what the upstream itself returned. Per model:

* **effort**: honoured when the high level thinks clearly longer than the low one: at least
  `MARGIN` times the reasoning tokens (from usage; the reasoning text's length when usage has
  no count). A model with a single level is `n/a`;
* **stream usage**: whether a streamed answer carried usage (else metering must estimate);
* **reasoning in**: `field` (a reasoning field or thinking blocks), `content (think tags)`
  (inline `<think>`: the proxy moves it, the answer is fine), or `none` (the upstream returns
  no reasoning text);
* **harmony**: whether Harmony markup leaked into the raw content (a misconfigured gpt-oss
  host: the proxy repairs it, the host should be fixed).

A model fails on effort ignored, a Harmony leak, no streamed usage, or an upstream error; with
`--fail-on-violation` the exit code is then 1. With the embedded default the probe starts its
own simulator, as `tokenwise serve` does.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import orjson

from router.config.load import ConfigError, ModelSpec, Settings, load_settings
from router.config.schema import SIMULATOR_URL
from router.errors import ProxyError
from router.providers.effort_plan import levels_of
from router.providers.openai_reply import REASONING_KEYS
from router.providers.registry import adapter_for
from router.reasoning.effort import Effort, effort_rank
from router.reasoning.harmony_repair import repair_harmony
from router.reasoning.intent import normalize_reasoning
from router.reasoning.think_tags import split_think_tags
from router.upstream.client import Upstream, tls_context
from router.upstream.sse import SSESplitter, parse_event

PROMPT = (
    "A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. "
    "How much does the ball cost? Think it through, then give the amount."
)
MARGIN = 1.5


@dataclass
class Sample:
    """One non-streamed answer at one effort."""

    reasoning: int = 0
    """Reasoning tokens (usage), else characters of reasoning text."""
    where: str = "none"
    leak: bool = False
    error: str | None = None


@dataclass
class Report:
    model: str
    dialect: str
    low: Effort | None
    high: Effort | None
    samples: dict[str, Sample] = field(default_factory=dict)
    streamed_usage: bool | None = None
    stream_error: str | None = None

    @property
    def honoured(self) -> bool | None:
        if self.low is None or self.high is None or self.low == self.high:
            return None
        low, high = self.samples.get("low"), self.samples.get("high")
        if low is None or high is None or low.error or high.error:
            return None
        return high.reasoning > low.reasoning and high.reasoning >= MARGIN * low.reasoning

    @property
    def leak(self) -> bool:
        return any(sample.leak for sample in self.samples.values())

    @property
    def problems(self) -> list[str]:
        found = [f"error: {s.error}" for s in self.samples.values() if s.error]
        if self.stream_error:
            found.append(f"stream error: {self.stream_error}")
        if self.honoured is False:
            found.append("effort ignored")
        if self.leak:
            found.append("Harmony leaks")
        if self.streamed_usage is False:
            found.append("no streamed usage")
        return found


def _raw_texts(payload: Mapping[str, Any]) -> list[str]:
    """The answer text exactly as the upstream sent it (chat, completion or Messages shape)."""
    texts: list[str] = []
    choices = payload.get("choices")
    for choice in choices if isinstance(choices, list) else []:
        message = choice.get("message") if isinstance(choice, Mapping) else None
        text = message.get("content") if isinstance(message, Mapping) else choice.get("text")
        if isinstance(text, str):
            texts.append(text)
    blocks = payload.get("content")
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, Mapping) and block.get("type") == "text":
            texts.append(str(block.get("text", "")))
    return texts


def _in_field(payload: Mapping[str, Any]) -> bool:
    """Reasoning in a field of its own: a reasoning field, or Anthropic thinking blocks."""
    choices = payload.get("choices")
    for choice in choices if isinstance(choices, list) else []:
        message = choice.get("message") if isinstance(choice, Mapping) else None
        if isinstance(message, Mapping) and any(message.get(k) for k in REASONING_KEYS):
            return True
    blocks = payload.get("content")
    listed = blocks if isinstance(blocks, list) else []
    kinds = [block.get("type") for block in listed if isinstance(block, Mapping)]
    return "thinking" in kinds or "redacted_thinking" in kinds


def _where(payload: Mapping[str, Any], texts: Sequence[str], leak: bool) -> str:
    if _in_field(payload):
        return "field"
    if leak:
        return "content (Harmony)"
    if any(split_think_tags(text).found for text in texts):
        return "content (think tags)"
    return "none"


def _reasoning_amount(reply: Mapping[str, Any]) -> int:
    usage = reply.get("usage")
    details = usage.get("completion_tokens_details") if isinstance(usage, Mapping) else None
    tokens = details.get("reasoning_tokens") if isinstance(details, Mapping) else None
    if isinstance(tokens, int) and tokens > 0:
        return tokens
    message = (reply.get("choices") or [{}])[0].get("message") or {}
    return len(str(message.get("reasoning_content") or ""))


class Prober:
    def __init__(self, upstream: Upstream, base_urls: Mapping[str, str]) -> None:
        self.upstream = upstream
        self.base_urls = base_urls

    def _request(self, model: ModelSpec, effort: Effort | None, stream: bool) -> Any:
        messages = [{"role": "user", "content": PROMPT}]
        body: dict[str, Any] = {"model": model.name, "messages": messages}
        if effort is not None:
            body["reasoning_effort"] = effort
        if stream:
            body["stream"] = True
        adapter = adapter_for(model.provider.dialect)
        return adapter.build(body, model, normalize_reasoning(body), False)

    async def sample(self, model: ModelSpec, effort: Effort | None) -> Sample:
        call = self._request(model, effort, stream=False)
        url = self.base_urls[model.provider.name] + call.path
        try:
            tls = tls_context(model.provider.ca_bundle)
            resp = await self.upstream.send(
                "POST", url, orjson.dumps(call.body), call.headers, tls=tls
            )
            async with resp:
                data = await resp.read()
        except ProxyError as exc:
            return Sample(error=exc.message)
        if resp.status != 200:
            return Sample(error=f"HTTP {resp.status}: {data[:200].decode('utf-8', 'replace')}")
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            return Sample(error="the answer is not JSON")
        texts = _raw_texts(payload)
        leak = any(repair_harmony(text).repaired for text in texts)
        reply = adapter_for(model.provider.dialect).parse_response(payload, model, True)
        return Sample(_reasoning_amount(reply), _where(payload, texts, leak), leak)

    async def streamed_usage(self, model: ModelSpec, effort: Effort | None) -> bool:
        call = self._request(model, effort, stream=True)
        translator = adapter_for(model.provider.dialect).stream(model, True)
        url = self.base_urls[model.provider.name] + call.path
        tls = tls_context(model.provider.ca_bundle)
        resp = await self.upstream.send("POST", url, orjson.dumps(call.body), call.headers, tls=tls)
        seen = False
        splitter = SSESplitter()
        async with resp:
            if resp.status != 200:
                raise ProxyError(f"HTTP {resp.status}")
            async for data in resp.chunks():
                for raw in splitter.feed(data):
                    event = parse_event(raw)
                    if not isinstance(event.json, dict):
                        continue
                    chunks = translator.feed(event.json)
                    seen = seen or any(chunk.get("usage") for chunk in chunks)
        return seen

    async def probe(self, model: ModelSpec) -> Report:
        spec = model.reasoning
        assert spec is not None
        adapter = adapter_for(model.provider.dialect)
        levels = sorted(levels_of(spec, getattr(adapter, "wire_efforts", None)), key=effort_rank)
        low = levels[0] if levels else None
        high = levels[-1] if levels else None
        report = Report(model.name, model.provider.dialect, low, high)
        report.samples["low"] = await self.sample(model, low)
        if high != low:
            report.samples["high"] = await self.sample(model, high)
        try:
            report.streamed_usage = await self.streamed_usage(model, low)
        except ProxyError as exc:
            report.stream_error = exc.message
        return report


async def probe_models(settings: Settings) -> list[Report]:
    """Probe every reasoning model of the catalog (concurrently), in catalog order."""
    simulator = None
    base_urls = {m.provider.name: m.provider.base_url for m in settings.models.values()}
    if settings.uses_simulator:
        from router.simhost import InProcessSimulator

        simulator = InProcessSimulator()
        sim_url = await simulator.start()
        base_urls = {k: sim_url if v == SIMULATOR_URL else v for k, v in base_urls.items()}
    upstream = Upstream(settings.config.server.timeouts)
    await upstream.start()
    try:
        prober = Prober(upstream, base_urls)
        models = [m for m in settings.models.values() if m.reasoning is not None]
        return list(await asyncio.gather(*(prober.probe(m) for m in models)))
    finally:
        await upstream.close()
        if simulator is not None:
            await simulator.stop()


def _cell(value: bool | None, yes: str, no: str) -> str:
    return "n/a" if value is None else (yes if value else no)


def print_table(reports: Sequence[Report], out: TextIO) -> None:
    header = ("model", "dialect", "efforts", "reasoning", "effort", "stream usage", "reasoning in")
    rows = [(*header, "harmony", "verdict")]
    for r in reports:
        low, high = r.samples.get("low"), r.samples.get("high")
        amounts = "/".join(str(s.reasoning) for s in (low, high) if s is not None)
        efforts = f"{r.low}..{r.high}" if r.low != r.high else str(r.low or "-")
        rows.append(
            (
                r.model,
                r.dialect,
                efforts,
                amounts,
                _cell(r.honoured, "honoured", "IGNORED"),
                _cell(r.streamed_usage, "yes", "NO"),
                low.where if low is not None else "-",
                "LEAKS" if r.leak else "clean",
                "FAIL: " + "; ".join(r.problems) if r.problems else "ok",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip())
        out.write("\n")


def run_probe(config: str | None, fail_on_violation: bool, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        print(f"tokenwise probe: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    reports = asyncio.run(probe_models(settings))
    print_table(reports, out)
    failing = [r.model for r in reports if r.problems]
    elapsed = time.perf_counter() - started
    out.write(f"\n{len(reports)} reasoning models probed in {elapsed:.1f} s; ")
    out.write(f"failing: {', '.join(failing)}\n" if failing else "all conform\n")
    return 1 if failing and fail_on_violation else 0
