"""Budget and rate-limit metrics, registered in the app's registry next to the others.

Labels are bounded: `team` comes from the key store, `reason` from a fixed set. The remaining
budget per scope is `tokenwise_budget_remaining_usd` (observability.metrics, read from the
store at scrape time).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

REASONS = ("budget", "rpm", "tpm", "store")


class BudgetMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.refusals = Counter(
            "tokenwise_budget_refusals",
            "Requests refused before the upstream call, by team and reason "
            "(budget, rpm, tpm, store: the store was unreachable and budgets fail closed).",
            ("team", "reason"),
            registry=registry,
        )
        self.clamped = Counter(
            "tokenwise_budget_clamped",
            "Requests whose output limit was lowered to what the remaining budget could pay.",
            ("team",),
            registry=registry,
        )
        self.waits = Counter(
            "tokenwise_budget_waits",
            "Pauses of requests waiting for other requests' reservations to settle before "
            "their own could be reserved (budgets.wait_in_flight_seconds).",
            registry=registry,
        )
        self.soft_alerts = Counter(
            "tokenwise_budget_soft_alerts",
            "Soft budget thresholds crossed (once per budget window per process), by team.",
            ("team",),
            registry=registry,
        )
        self.store_errors = Counter(
            "tokenwise_budget_store_errors",
            "Store calls of the budget path that failed or timed out, by operation.",
            ("operation",),
            registry=registry,
        )
        self.fail_open = Counter(
            "tokenwise_budget_fail_open",
            "Requests admitted without a reservation because the store was down "
            "(budgets.on_store_error: fail_open).",
            registry=registry,
        )
        self.pending_settles = Gauge(
            "tokenwise_budget_pending_settles",
            "Settlements and reconciliations waiting for the store to come back.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.expired = Counter(
            "tokenwise_budget_expired_leases",
            "Reservations whose lease ended unsettled (settled at their reserved amount).",
            registry=registry,
        )

    def refused(self, team: str, reason: str) -> None:
        self.refusals.labels(team, reason).inc()
