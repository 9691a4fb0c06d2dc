"""Every Prometheus metric, defined once, in a registry the app owns (no global state).

Labels are few and bounded: team (from the key store), the model the client named (a catalog or
virtual model: anything else is refused before it is counted), the routed model and provider
(the catalog), category, tier and effort (fixed vocabularies) and the outcome (a fixed set).
Prompts, user ids and free text never become labels; a label fed from request data that has no
fixed vocabulary (a dropped parameter's name) is capped at `MAX_FREE_VALUES` distinct values,
the rest counted as `other`. Labelled children are cached, so the request path does one dict
lookup per metric.

Several worker processes: with `multiprocess_dir` (`PROMETHEUS_MULTIPROC_DIR`, which
`tokenwise serve --workers N` sets), every worker writes its samples to files there and
`/metrics` on any worker reports the sum over all of them (prometheus_client's multiprocess
mode); without it, the app-owned registry is exposed as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from router.observability.multiproc import check_multiprocess_values, collect_dir
from router.observability.read_gauges import budget_gauge, learned_gauge

OUTCOMES = ("ok", "client_error", "upstream_error", "timeout", "cancelled", "internal_error")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
UNKNOWN = "unknown"  # category or tier when no classifier looked at the request
DEFAULT_EFFORT = "default"  # no effort sent: the model's own default
OTHER = "other"
ERROR_ENDPOINTS = {
    "/v1/chat/completions": "chat",
    "/v1/completions": "completions",
    "/v1/responses": "responses",
    "/v1/embeddings": "embeddings",
}
ENDPOINT_NAMES = frozenset(ERROR_ENDPOINTS.values())
MAX_FREE_VALUES = 64

# up to the default total timeout (600 s): long reasoning streams land in a bucket of their own
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
COST_BUCKETS = (1e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5)

CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUEST_LABELS = (
    "endpoint",
    "team",
    "requested_model",
    "model",
    "provider",
    "category",
    "tier",
    "effort",
)


@dataclass(frozen=True, slots=True)
class RequestLabels:
    """What a finished request is counted under (every value bounded, see the module doc)."""

    endpoint: str
    team: str
    requested_model: str  # what the client named: a catalog model or a virtual one (auto...)
    model: str  # the catalog model that served it
    provider: str
    category: str = UNKNOWN
    tier: str = UNKNOWN
    effort: str = DEFAULT_EFFORT

    def values(self) -> tuple[str, ...]:
        return (
            self.endpoint,
            self.team,
            self.requested_model,
            self.model,
            self.provider,
            self.category,
            self.tier,
            bounded_effort(self.effort),
        )


def bounded_effort(effort: str | None) -> str:
    if effort is None:
        return DEFAULT_EFFORT
    return effort if effort in EFFORTS or effort == DEFAULT_EFFORT else OTHER


class Metrics:
    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        if multiprocess_dir is not None:
            check_multiprocess_values(multiprocess_dir)
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[str, ...], Any] = {}
        self._free_values: dict[str, set[str]] = {}
        self._define(self.registry)
        self.budgets_read = budget_gauge()  # read from the store at each scrape, never in files
        self.learned_read = learned_gauge()  # the router's learned figures, read at each scrape
        self._scraped = CollectorRegistry()
        self._scraped.register(self.budgets_read)
        self._scraped.register(self.learned_read)

    def _define(self, r: CollectorRegistry) -> None:
        self.requests = Counter(
            "tokenwise_requests",
            "Requests finished, by endpoint, team, model asked for, routed model, provider, "
            "category, tier, effort and outcome.",
            (*REQUEST_LABELS, "outcome"),
            registry=r,
        )
        self.latency = Histogram(
            "tokenwise_request_duration_seconds",
            "Time from request received to last byte sent, by endpoint and routed model.",
            ("endpoint", "model"),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "tokenwise_time_to_first_token_seconds",
            "Streams: time from request received to the first chunk relayed, by routed model.",
            ("model",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            "tokenwise_proxy_overhead_seconds",
            "Time spent in the proxy itself (before the upstream call, processing stream "
            "chunks, metering), excluding the upstream's and the client's pace, by endpoint.",
            ("endpoint",),
            buckets=OVERHEAD_BUCKETS,
            registry=r,
        )
        self.upstream_errors = Counter(
            "tokenwise_upstream_errors",
            "Upstream failures by provider and kind (upstream_error, timeout).",
            ("provider", "kind"),
            registry=r,
        )
        self.error_answers = Counter(
            "tokenwise_error_responses",
            "Model calls answered with an OpenAI-shaped error instead of an answer (refusals of "
            "the proxy's own: key, validation, budget, rate limit, unknown model, shedding; and "
            "upstream failures), by endpoint, HTTP status and error code.",
            ("endpoint", "status", "code"),
            registry=r,
        )
        spend_labels = ("team", "requested_model", "model", "provider")
        self.tokens = Counter(
            "tokenwise_tokens",
            "Tokens metered, by kind (input, cached_input, cache_write, reasoning, output).",
            (*spend_labels, "kind"),
            registry=r,
        )
        self.cost = Counter(
            "tokenwise_cost_usd",
            "USD spent, by part (input, cached_input, cache_write, reasoning, output, fees).",
            (*spend_labels, "part"),
            registry=r,
        )
        self.counterfactual = Counter(
            "tokenwise_counterfactual_cost_usd",
            "Estimated USD the model asked for (or the policy's reference model) would have "
            "cost for the same requests; savings = this - tokenwise_cost_usd_total.",
            spend_labels,
            registry=r,
        )
        self.request_cost = Histogram(
            "tokenwise_request_cost_usd",
            "USD per metered request, by team and routed model.",
            ("team", "model"),
            buckets=COST_BUCKETS,
            registry=r,
        )
        self.estimated = Counter(
            "tokenwise_estimated_usage",
            "Requests metered by local counting (no usage from the upstream, or a stream the "
            "client left), by team and routed model.",
            ("team", "model"),
            registry=r,
        )
        self.unanswered = Counter(
            "tokenwise_unanswered",
            "Answers cut at the output limit with no visible content after reasoning (the limit "
            "went to thinking), by team, routed model and effort.",
            ("team", "model", "effort"),
            registry=r,
        )
        self.unanswered_cost = Counter(
            "tokenwise_unanswered_cost_usd",
            "USD paid for those answers, by team and routed model.",
            ("team", "model"),
            registry=r,
        )
        self.decisions = Counter(
            "tokenwise_routing_decisions",
            "Routing decisions by policy, category, tier, chosen model and effort.",
            ("policy", "category", "tier", "model", "effort"),
            registry=r,
        )
        self.efforts = Counter(
            "tokenwise_effort",
            "Reasoning effort asked for by the client against the effort sent upstream.",
            ("provider", "requested", "sent"),
            registry=r,
        )
        self.dropped_params = Counter(
            "tokenwise_dropped_params",
            "Request parameters dropped because the upstream does not support them.",
            ("provider", "param"),
            registry=r,
        )
        self.in_flight = Gauge(
            "tokenwise_requests_in_flight",
            "Requests being served now.",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.ledger_backlog = Gauge(
            "tokenwise_ledger_backlog_records",
            "Ledger records spooled on disk and not yet in the store (grows in a store outage).",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.disk_write_errors = Counter(
            "tokenwise_disk_write_errors",
            "Lines the disk refused (full, quota, read-only), by file: ledger_spool (records "
            "then wait in memory only) or budget_journal (reservations not crash-safe).",
            ("file",),
            registry=r,
        )

    # The request path

    def request(
        self,
        labels: RequestLabels,
        outcome: str,
        seconds: float,
        *,
        ttft: float | None = None,
        overhead: float | None = None,
    ) -> None:
        outcome = outcome if outcome in OUTCOMES else OTHER
        self._child(self.requests, (*labels.values(), outcome)).inc()
        self._child(self.latency, (labels.endpoint, labels.model)).observe(seconds)
        if ttft is not None:
            self._child(self.ttft, (labels.model,)).observe(ttft)
        if overhead is not None:
            self._child(self.overhead, (labels.endpoint,)).observe(max(0.0, overhead))

    def spend(
        self,
        labels: RequestLabels,
        tokens: Mapping[str, int],
        parts: Mapping[str, Decimal],
        total: Decimal,
        counterfactual: Decimal,
        estimated: bool,
    ) -> None:
        """One metered request: tokens and USD by kind, and what the alternative would cost."""
        who = (labels.team, labels.requested_model, labels.model, labels.provider)
        for kind, n in tokens.items():
            if n > 0:
                self._child(self.tokens, (*who, kind)).inc(n)
        for part, usd in parts.items():
            if usd > 0:
                self._child(self.cost, (*who, part)).inc(float(usd))
        if counterfactual > 0:
            self._child(self.counterfactual, who).inc(float(counterfactual))
        self._child(self.request_cost, (labels.team, labels.model)).observe(float(total))
        if estimated:
            self._child(self.estimated, (labels.team, labels.model)).inc()

    def no_answer(self, labels: RequestLabels, total: Decimal) -> None:
        """An answer whose output limit went to reasoning: paid for, nothing to show."""
        effort = bounded_effort(labels.effort)
        self._child(self.unanswered, (labels.team, labels.model, effort)).inc()
        if total > 0:
            self._child(self.unanswered_cost, (labels.team, labels.model)).inc(float(total))

    def upstream_error(self, provider: str, kind: str) -> None:
        self._child(self.upstream_errors, (provider, kind)).inc()

    def error_answer(self, path: str, status: int, code: str | None) -> None:
        """One error answer to a model call (`path`: the URL path; an upstream's own codes
        share a bounded set of label values)."""
        self.error_event(ERROR_ENDPOINTS.get(path, OTHER), status, code)

    def error_event(self, endpoint: str, status: int, code: str | None) -> None:
        """One error answer on `endpoint` (chat, completions, responses, embeddings): a
        stream's error event after it started counts too."""
        endpoint = endpoint if endpoint in ENDPOINT_NAMES else OTHER
        labels = (endpoint, str(status), self._free("error_code", code or OTHER))
        self._child(self.error_answers, labels).inc()

    def started(self) -> None:
        self.in_flight.inc()

    def finished(self) -> None:
        self.in_flight.dec()

    # Called by routing, reasoning and budgets

    def decision(self, policy: str, category: str, tier: str, model: str, effort: str) -> None:
        labels = (policy, category, tier, model, bounded_effort(effort))
        self._child(self.decisions, labels).inc()

    def effort(self, provider: str, requested: str | None, sent: str | None) -> None:
        labels = (provider, bounded_effort(requested), bounded_effort(sent))
        self._child(self.efforts, labels).inc()

    def dropped(self, provider: str, param: str) -> None:
        self._child(self.dropped_params, (provider, self._free("param", param))).inc()

    def budgets(self, remaining: Mapping[str, Decimal]) -> None:
        """The budgets the store holds now, each with what is left: a budget gone from the
        store is gone from the exposition."""
        self.budgets_read.values = {(scope,): float(usd) for scope, usd in remaining.items()}

    def learned(self, expected: Mapping[tuple[str, str, str], float]) -> None:
        """The learned expected completion tokens per (model, category, effort)."""
        self.learned_read.values = {
            (model, category, bounded_effort(effort)): tokens
            for (model, category, effort), tokens in expected.items()
        }

    def backlog(self, records: int) -> None:
        self.ledger_backlog.set(records)

    def disk_refused(self, file: str) -> None:
        self._child(self.disk_write_errors, (file,)).inc()

    # Exposition

    def exposition(self) -> bytes:
        if self.multiprocess_dir is None:
            counted = generate_latest(self.registry)
        else:
            counted = generate_latest(collect_dir(self.multiprocess_dir))
        return counted + generate_latest(self._scraped)

    def _child(self, metric: Any, labels: tuple[str, ...]) -> Any:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def _free(self, label: str, value: str) -> str:
        seen = self._free_values.setdefault(label, set())
        if value in seen:
            return value
        if len(seen) >= MAX_FREE_VALUES:
            return OTHER
        seen.add(value)
        return value
