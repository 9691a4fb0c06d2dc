"""One request's bookkeeping from routing to the end: bill it, count it, write it down.

An `Exchange` is created once the request is routed. Whatever way it ends (an answer, an upstream
error, a broken or abandoned stream), `close()` runs once: the usage (reported, or counted from
what was generated) is priced, the metrics are counted, and one ledger record is written.
`close()` is async so that settling a budget reservation in the store can happen there: the
hold's cost is journalled before the ledger record and settled after it, at the ledger's cost
(zero when nothing reached the upstream), so the budget counters and the ledger agree.

Whoever classifies and routes the request sets `category`, `tier` and `effort` (the effort sent
upstream); they label the metrics and the ledger record. `proxy_seconds` collects the time the
proxy itself spends once the upstream is answering (stream hooks add to it): with the time
before the upstream call and the time `close()` takes, it is the proxy overhead metric.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from router.auth import Principal
from router.budget.holds import Hold
from router.errors import (
    ClientLeft,
    ProxyError,
    UpstreamProtocolError,
    UpstreamStatus,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from router.metering.bill import Bill, Tally, make_bill, measure, reasoning_ate_the_answer
from router.metering.pricing import ModelPrice
from router.observability.metrics import UNKNOWN, RequestLabels
from router.services import Route, Services
from router.store.base import LedgerRecord

ZERO = Decimal(0)
UPSTREAM_FAILURES = (UpstreamStatus, UpstreamProtocolError, UpstreamUnavailable, UpstreamTimeout)
# An upstream's answer that blames the request (malformed, too large, unprocessable), not the
# provider (its key, its model id, its limits, its health).
REQUEST_STATUSES = frozenset({400, 413, 422})


def clients_fault(exc: ProxyError) -> bool:
    """A failure the client caused: a refusal of the proxy's own before any upstream answered
    (a field the dialect cannot take, a budget that refuses a fallback), or an upstream's
    answer that blames the request. Neither counts as an upstream error."""
    if isinstance(exc, UpstreamStatus):
        return exc.status in REQUEST_STATUSES
    return not isinstance(exc, UPSTREAM_FAILURES) and exc.status < 500


@dataclass
class Exchange:
    services: Services
    principal: Principal
    route: Route
    request_id: str
    endpoint: str
    messages: Sequence[Mapping[str, Any]]
    started: float
    tally: Tally = field(default_factory=Tally)
    first_chunk_at: float | None = None
    category: str | None = None
    tier: str | None = None
    effort: str | None = None
    proxy_seconds: float = 0.0
    created: float = field(default_factory=time.perf_counter)
    user: str | None = None  # the request's `user` field (an end user), kept in the ledger
    policy_override: str | None = None  # a soft budget's cheaper policy, for the router
    hold: Hold | None = None  # the budget reservation, settled in close()
    usage_convention: str | None = None  # the answer's usage shape (default: the provider's)
    unanswered: bool = False  # the output limit went to reasoning: no answer (set by close)
    known_tokens: int = 0  # prompt tokens `messages` does not show (a prompt of token ids)
    body: Mapping[str, Any] | None = None  # the request, for a local count of its tools
    _bill: Bill | None = None
    _billed: tuple[object, int, int] | None = None
    closed: bool = False

    def __post_init__(self) -> None:
        self.services.metrics.started()
        decision = self.route.decision
        if decision is not None:
            self.category = decision.category
            self.tier = decision.tier
            self.effort = decision.effort

    def bill(self) -> Bill:
        """Price what the tally holds now; the same bill again until the tally changes (a
        stream may send usage more than once, each time the running total)."""
        tally = self.tally
        state = (tally.usage, len(tally.content), len(tally.reasoning))
        if self._bill is None or (not self.closed and not _same(state, self._billed)):
            self._billed = state
            model = self.route.target.model
            usage = measure(
                self.tally,
                self.messages,
                model.upstream_id,
                self.usage_convention or model.provider.usage,
                self.services.counter,
                self.known_tokens,
                self.body,
            )
            self._bill = make_bill(usage, model.price, self.reference_price())
        return self._bill

    def reference_price(self) -> ModelPrice | None:
        """The counterfactual: the model the client named, or the policy's reference model."""
        decision = self.route.decision
        if decision is not None:
            policy = self.services.router.policies[decision.policy]
            return self.services.targets[policy.reference].model.price
        requested = self.services.targets.get(self.route.requested)
        return requested.model.price if requested is not None else None

    def labels(self) -> RequestLabels:
        target = self.route.target
        return RequestLabels(
            endpoint=self.endpoint,
            team=self.principal.team,
            requested_model=self.route.requested,
            model=target.name,
            provider=target.provider,
            category=self.category or UNKNOWN,
            tier=self.tier or UNKNOWN,
            effort=self.effort or "default",
        )

    def try_failed(self, exc: ProxyError) -> None:
        """Count one failed try of the current upstream, the ones a retry or a fallback
        covered too (`tokenwise_upstream_errors_total`); a refusal that blames the request is
        not the upstream's failure."""
        exc.counted_try = True
        if not clients_fault(exc):
            kind = "timeout" if exc.status == 504 else "upstream_error"
            self.services.metrics.upstream_error(self.route.target.provider, kind)

    def stream_ended(self, outcome: str, error: ProxyError | None) -> None:
        """Count how a relayed stream ended: a failure against the provider, and the error event
        the client got after the stream started."""
        if outcome not in ("ok", "cancelled"):
            self.services.metrics.upstream_error(self.route.target.provider, outcome)
        if error is not None:
            self.services.metrics.error_event(self.endpoint, error.status, error.code)

    async def fail(self, exc: BaseException, headers: Mapping[str, str]) -> None:
        """Close a request that ends without an answer: a `ProxyError` is an upstream failure
        (counted against the provider) unless the request itself was at fault (`clients_fault`);
        either gets the response headers added under its own and the provider's key blanked out
        of its message. Anything else is a cancellation. The caller re-raises."""
        if not isinstance(exc, ProxyError) or isinstance(exc, ClientLeft):
            await self.close("cancelled", upstream_answered=False)
            return
        target = self.route.target
        if clients_fault(exc):
            outcome = "client_error"
        else:
            outcome = "timeout" if exc.status == 504 else "upstream_error"
            if not exc.counted_try:  # a circuit open: no try failed so
                self.services.metrics.upstream_error(target.provider, outcome)
        await self.close(outcome, upstream_answered=False)
        exc.headers = {**headers, **exc.headers}  # the error's own: what was tried last
        exc.redact(target.model.provider.api_key)

    async def close(self, outcome: str, *, upstream_answered: bool = True) -> Bill | None:
        """Meter, count and record the request once; None when nothing reached the upstream."""
        if self.closed:
            return self._bill
        now = time.perf_counter()
        services = self.services
        labels = self.labels()
        bill = self.bill() if upstream_answered else None
        self.closed = True
        if bill is not None:
            u, c = bill.usage, bill.cost
            tokens = {
                "input": u.input_uncached,
                "cached_input": u.input_cached,
                "cache_write": u.cache_write,
                "reasoning": u.reasoning_output,
                "output": u.visible_output,
            }
            counterfactual = c.total + bill.savings
            services.metrics.spend(labels, tokens, c.parts(), c.total, counterfactual, u.estimated)
            if outcome == "ok" and reasoning_ate_the_answer(self.tally, u):
                self.unanswered = True
                services.metrics.no_answer(labels, c.total)
        decision = self.route.decision
        served_as_decided = decision is not None and decision.model == self.route.target.name
        if bill is not None and decision is not None and served_as_decided and outcome == "ok":
            services.router.priors.observe(
                decision.model, decision.category, decision.effort, bill.usage.output_total
            )
        if self.hold is not None:
            self.hold.closing(bill.cost.total if bill is not None else ZERO)
        services.ledger.record(self._record(outcome, now, bill))
        if self.hold is not None:
            await self.hold.settle(bill.cost.total if bill is not None else ZERO)
        ttft = None if self.first_chunk_at is None else self.first_chunk_at - self.started
        overhead = (self.created - self.started) + self.proxy_seconds
        overhead += time.perf_counter() - now
        services.metrics.request(labels, outcome, now - self.started, ttft=ttft, overhead=overhead)
        services.metrics.finished()
        return bill

    def _record(self, outcome: str, now: float, bill: Bill | None) -> LedgerRecord:
        target = self.route.target
        ttft = None
        if self.first_chunk_at is not None:
            ttft = (self.first_chunk_at - self.started) * 1000
        metered: dict[str, Any] = {}
        if bill is not None:
            u, c = bill.usage, bill.cost
            metered = {
                "input_uncached_tokens": u.input_uncached,
                "input_cached_tokens": u.input_cached,
                "cache_write_tokens": u.cache_write,
                "reasoning_tokens": u.reasoning_output,
                "output_tokens": u.visible_output,
                "cost_input": c.input,
                "cost_cached_input": c.cached_input,
                "cost_cache_write": c.cache_write,
                "cost_reasoning": c.reasoning,
                "cost_output": c.output,
                "cost_total": c.total,
                "upstream_cost": c.reported_total,
                "savings": bill.savings,
                "estimated": u.estimated,
            }
        return LedgerRecord(  # built once: dataclasses.replace would build it twice
            ts=time.time(),
            request_id=self.request_id,
            team=self.principal.team,
            key_id=self.principal.key_id,
            user=self.user,
            endpoint=self.endpoint,
            requested_model=self.route.requested,
            routed_model=target.name,
            provider=target.provider,
            category=self.category,
            tier=self.tier,
            effort=self.effort,
            status=outcome,
            latency_ms=(now - self.started) * 1000,
            ttft_ms=ttft,
            **metered,
        )


def _same(state: tuple[object, int, int], billed: tuple[object, int, int] | None) -> bool:
    return billed is not None and state[0] is billed[0] and state[1:] == billed[1:]
