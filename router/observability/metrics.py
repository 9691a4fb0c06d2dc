"""Every Prometheus metric, defined once, in a registry the app owns (no global state).

Labels are few and bounded: the routed model and provider come from the catalog, the outcome
from a fixed set. Prompts, user ids and free text never become labels. Labelled children are
cached, so the request path does one dict lookup per metric.
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

OUTCOMES = ("ok", "client_error", "upstream_error", "timeout", "cancelled", "internal_error")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "tokenwise_requests",
            "Requests answered, by endpoint, routed model, provider and outcome.",
            ("endpoint", "model", "provider", "outcome"),
            registry=r,
        )
        self.latency = Histogram(
            "tokenwise_request_duration_seconds",
            "Time from request received to last byte sent, by routed model.",
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
        self.upstream_errors = Counter(
            "tokenwise_upstream_errors",
            "Upstream failures by provider and kind (status, timeout, protocol).",
            ("provider", "kind"),
            registry=r,
        )
        self.tokens = Counter(
            "tokenwise_tokens",
            "Tokens metered, by team, routed model and kind "
            "(input, cached_input, cache_write, reasoning, output).",
            ("team", "model", "kind"),
            registry=r,
        )
        self.cost = Counter(
            "tokenwise_cost_usd",
            "USD spent, by team, routed model and part (input, cached_input, cache_write, "
            "reasoning, output, fees).",
            ("team", "model", "part"),
            registry=r,
        )
        self.savings = Counter(
            "tokenwise_savings_usd",
            "Estimated USD saved against the model asked for (or the policy's reference), "
            "by team and routed model.",
            ("team", "model"),
            registry=r,
        )
        self.estimated = Counter(
            "tokenwise_estimated_usage",
            "Requests metered by local counting because the upstream sent no usage.",
            ("model",),
            registry=r,
        )
        self.in_flight = Gauge(
            "tokenwise_requests_in_flight", "Requests being served now.", registry=r
        )
        self._requests: dict[tuple[str, str, str, str], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}
        self._ttft: dict[str, Histogram] = {}
        self._children: dict[tuple[str, ...], Counter] = {}

    def observe(
        self, endpoint: str, model: str, provider: str, outcome: str, seconds: float
    ) -> None:
        key = (endpoint, model, provider, outcome)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(*key)
        counter.inc()
        lkey = (endpoint, model)
        hist = self._latency.get(lkey)
        if hist is None:
            hist = self._latency[lkey] = self.latency.labels(*lkey)
        hist.observe(seconds)

    def first_token(self, model: str, seconds: float) -> None:
        hist = self._ttft.get(model)
        if hist is None:
            hist = self._ttft[model] = self.ttft.labels(model)
        hist.observe(seconds)

    def spend(
        self,
        team: str,
        model: str,
        tokens: dict[str, int],
        parts: dict[str, Decimal],
        savings: Decimal,
        estimated: bool,
    ) -> None:
        for kind, n in tokens.items():
            if n:
                self._child(self.tokens, (team, model, kind)).inc(n)
        for part, usd in parts.items():
            if usd:
                self._child(self.cost, (team, model, part)).inc(float(usd))
        if savings:
            self._child(self.savings, (team, model)).inc(float(savings))
        if estimated:
            self._child(self.estimated, (model,)).inc()

    def _child(self, metric: Counter, labels: tuple[str, ...]) -> Counter:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def upstream_error(self, provider: str, kind: str) -> None:
        self.upstream_errors.labels(provider, kind).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
