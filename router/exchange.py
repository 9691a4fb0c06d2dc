"""One request's bookkeeping from routing to the end: bill it, count it, write it down.

An `Exchange` is created once the request is routed. Whatever way it ends (an answer, an upstream
error, a broken or abandoned stream), `close()` runs once: the usage (reported, or counted from
what was generated) is priced, the metrics are counted, and one ledger record is written.
`close()` is async so that settling a budget reservation in the store can happen there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from router.auth import Principal
from router.metering.bill import Bill, Tally, make_bill, measure
from router.metering.pricing import ModelPrice
from router.services import Route, Services
from router.store.base import LedgerRecord


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
    _bill: Bill | None = None
    closed: bool = False

    def bill(self) -> Bill:
        """Price what the tally holds now (memoised: later calls return the same bill)."""
        if self._bill is None:
            model = self.route.target.model
            usage = measure(
                self.tally,
                self.messages,
                model.upstream_id,
                model.provider.usage,
                self.services.counter,
            )
            self._bill = make_bill(usage, model.price, self.reference_price())
        return self._bill

    def reference_price(self) -> ModelPrice | None:
        """The counterfactual: the model the client named, when it differs from what served."""
        requested = self.services.targets.get(self.route.requested)
        return requested.model.price if requested is not None else None

    async def close(self, outcome: str, *, upstream_answered: bool = True) -> Bill | None:
        """Meter, count and record the request once; None when nothing reached the upstream."""
        if self.closed:
            return self._bill
        self.closed = True
        now = time.perf_counter()
        target = self.route.target
        services = self.services
        services.metrics.observe(
            self.endpoint, target.name, target.provider, outcome, now - self.started
        )
        if self.first_chunk_at is not None:
            services.metrics.first_token(target.name, self.first_chunk_at - self.started)
        bill = self.bill() if upstream_answered else None
        if bill is not None:
            u, c = bill.usage, bill.cost
            tokens = {
                "input": u.input_uncached,
                "cached_input": u.input_cached,
                "cache_write": u.cache_write,
                "reasoning": u.reasoning_output,
                "output": u.visible_output,
            }
            services.metrics.spend(
                self.principal.team, target.name, tokens, c.parts(), bill.savings, u.estimated
            )
        services.ledger.record(self._record(outcome, now, bill))
        return bill

    def _record(self, outcome: str, now: float, bill: Bill | None) -> LedgerRecord:
        target = self.route.target
        ttft = None
        if self.first_chunk_at is not None:
            ttft = (self.first_chunk_at - self.started) * 1000
        base = LedgerRecord(
            ts=time.time(),
            request_id=self.request_id,
            team=self.principal.team,
            key_id=self.principal.key_id,
            endpoint=self.endpoint,
            requested_model=self.route.requested,
            routed_model=target.name,
            provider=target.provider,
            status=outcome,
            latency_ms=(now - self.started) * 1000,
            ttft_ms=ttft,
        )
        if bill is None:
            return base
        u, c = bill.usage, bill.cost
        return replace(
            base,
            input_uncached_tokens=u.input_uncached,
            input_cached_tokens=u.input_cached,
            cache_write_tokens=u.cache_write,
            reasoning_tokens=u.reasoning_output,
            output_tokens=u.visible_output,
            cost_input=c.input,
            cost_cached_input=c.cached_input,
            cost_cache_write=c.cache_write,
            cost_reasoning=c.reasoning,
            cost_output=c.output,
            cost_total=c.total,
            upstream_cost=c.reported_total,
            savings=bill.savings,
            estimated=u.estimated,
        )
