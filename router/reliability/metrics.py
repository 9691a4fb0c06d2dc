"""The reliability metrics, in the app's registry (labels: catalog models and fixed reasons)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from router.upstream.breaker import STATE_VALUE, State


class ReliabilityMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.retries = Counter(
            "tokenwise_upstream_retries",
            "Upstream calls tried again before the first byte reached the client, by upstream "
            "(catalog model) and reason (upstream_error, timeout, rate_limited).",
            ("upstream", "reason"),
            registry=registry,
        )
        self.fallbacks = Counter(
            "tokenwise_fallbacks",
            "Requests moved from one upstream to the next, by the upstream left, the one tried "
            "next and why (upstream_error, timeout, rate_limited, circuit_open, context_window, "
            "budget).",
            ("from_upstream", "to_upstream", "reason"),
            registry=registry,
        )
        self.breaker_state = Gauge(
            "tokenwise_breaker_state",
            "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.",
            ("upstream",),
            multiprocess_mode="livemax",
            registry=registry,
        )
        self.breaker_opened = Counter(
            "tokenwise_breaker_opened",
            "Times an upstream's circuit breaker opened.",
            ("upstream",),
            registry=registry,
        )
        self.shed = Counter(
            "tokenwise_shed_requests",
            "Requests answered 503 overloaded at once because too many were in flight.",
            registry=registry,
        )

    def state(self, upstream: str, state: State) -> None:
        self.breaker_state.labels(upstream).set(STATE_VALUE[state])
        if state == "open":
            self.breaker_opened.labels(upstream).inc()
