"""`BudgetService`: reserve before the upstream call, settle when the request ends.

The request path calls two methods:

- `pressure(principal)`, before routing: the soft budgets of the team and key, and what they
  ask for when past their threshold (`Pressure.policy_override`, an effort cap);
- `admit(...)`, after routing and before the upstream call: count the prompt, estimate the
  cost (`estimate`), and reserve it atomically in the store together with the rate limits,
  with the cost of a minimal answer as the minimum. When the budget cannot cover the estimate,
  the request's output limit is lowered to what the reservation covers (header
  `x-tokenwise-budget: clamped=max_tokens:N`); under a hard budget a request naming no output
  limit gets the allowance it was reserved for (`capped ...`, unless `budgets.cap_output` is
  false), so no request can spend more than it holds. A refusal happens only when even the
  minimal answer does not fit: 429 `budget_exceeded` or `rate_limit_exceeded`.

The returned `Hold` is settled by `Exchange.close()` at the ledger's cost. A lease (longer than
the total upstream timeout) covers a process that dies; the upkeep task expires leases, retries
settlements and reconciles fail-open spend. Requests whose key and team have neither budgets
nor rate limits skip the store entirely.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from prometheus_client import CollectorRegistry

from router.auth import Principal
from router.budget.admission import (
    NO_PRESSURE,
    Admission,
    Pressure,
    admitted,
    held_back,
    scopes_of,
)
from router.budget.alerts import Alerts
from router.budget.cache import BudgetCache
from router.budget.directory import KeyDirectory
from router.budget.estimate import (
    Estimate,
    OutputAsk,
    choices,
    estimate,
    expected_output,
    limit_field,
    margin_tokens,
    output_ask,
    with_output_limit,
)
from router.budget.flight import Gate, StoreTimeout
from router.budget.holds import Hold, Settler
from router.budget.journal import Journal
from router.budget.metrics import BudgetMetrics
from router.budget.ratelimit import LocalMinutes, rules_for
from router.budget.recovery import replay_orphans
from router.budget.refusals import budget_error, rate_error, store_error
from router.budget.reset import rolling_reset
from router.budget.soft import cap_effort, soft_trigger, threshold_of
from router.budget.validate import lease_seconds
from router.config.load import ModelSpec, Settings
from router.errors import ProxyError
from router.ledger.writer import LedgerWriter
from router.metering.tokens import TokenCounter
from router.store.base import (
    BudgetRecord,
    BudgetRefusal,
    RateRefusal,
    RateRule,
    ReserveResult,
    Store,
    StoreUnavailable,
)

log = logging.getLogger("tokenwise.budget")

ZERO = Decimal(0)
# Prompt characters encoded for an estimate (~2 ms); a longer prompt is extrapolated from them.
ESTIMATE_EXACT_CHARS = 16_384
UNAVAILABLE = (StoreUnavailable, TimeoutError)


class BudgetService:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        counter: TokenCounter,
        ledger: LedgerWriter,
        registry: CollectorRegistry,
    ) -> None:
        config = settings.config
        self.store = store
        self.config = config.budgets
        self.rate_limits = config.rate_limits
        self.counter = counter
        self.ledger = ledger
        self.lease = lease_seconds(config)
        self.fail_open = config.budgets.on_store_error == "fail_open"
        self.gate = Gate(config.budgets.store_concurrency, config.budgets.store_timeout_seconds)
        self.metrics = BudgetMetrics(registry)
        self.cache = BudgetCache(store, self.gate, ttl=config.budgets.refresh_seconds)
        self.directory = KeyDirectory(
            store,
            self.gate,
            ttl=config.auth.cache_seconds,
            size=config.auth.cache_size,
            fail_open=self.fail_open,
        )
        self.journal = Journal(settings.home / "budget")
        self.settler = Settler(store, self.journal, self.metrics, self.gate)
        self.settler.on_spent = self.cache.note_spend
        self.alerts = Alerts(self.metrics, config.budgets.webhook_url)
        self.minutes = LocalMinutes()
        self._upkeep: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Open the journal, finish what dead processes left open, start the upkeep task."""
        self.journal.open()
        try:
            await self.cache.refresh_scopes()
        except Exception as exc:
            log.warning("budget: listing budgets failed: %r", exc)
        finished = 0
        try:
            finished = await replay_orphans(
                self.store, self.journal.directory, self.journal.path, self.ledger.record
            )
        except Exception as exc:  # kept on disk: the next start tries again
            log.warning("budget: replaying journals failed: %r", exc)
        self._upkeep = asyncio.get_running_loop().create_task(self._run(), name="budget-upkeep")
        return finished

    async def close(self) -> None:
        if self._upkeep is not None:
            self._upkeep.cancel()
            await asyncio.gather(self._upkeep, return_exceptions=True)
        await self.settler.drain()
        await self.alerts.close()
        clean = self.settler.in_flight == 0 and self.settler.pending == 0
        self.journal.close(remove=clean)

    async def upkeep(self) -> None:
        """One round: expire ended leases, retry settlements, compact the journal."""
        try:
            async with asyncio.timeout(self.config.store_timeout_seconds * 5):
                self.metrics.expired.inc(await self.store.expire(time.time()))
        except Exception as exc:
            self.metrics.store_errors.labels("expire").inc()
            log.warning("budget: expiring leases failed: %r", exc)
        try:
            await self.cache.refresh_scopes()
        except Exception as exc:
            log.warning("budget: listing budgets failed: %r", exc)
        await self.settler.retry()
        if self.journal.wants_compaction:
            self.journal.compact(self.settler.live_entries())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.config.expire_every_seconds)
            await self.upkeep()

    async def pressure(self, principal: Principal) -> Pressure:
        scopes = scopes_of(principal)
        try:
            budgets = await self.cache.budgets(scopes)
            soft = [s for s, b in budgets.items() if threshold_of(b) is not None]
            if not soft:
                return NO_PRESSURE
            views = await self.cache.views(soft, time.time())
        except UNAVAILABLE:
            return NO_PRESSURE  # advisory only: `admit` decides what an outage means
        state = soft_trigger(scopes, budgets, views)
        if state is None:
            return NO_PRESSURE
        self.alerts.crossed(state, principal.team)
        return Pressure(state, self.config.soft_effort_cap)

    def measure(
        self,
        model: ModelSpec,
        body: Mapping[str, Any],
        messages: Sequence[Mapping[str, Any]],
        allowance: int | None,
        output: bool = True,
        known_tokens: int = 0,
        answers: int | None = None,
    ) -> tuple[Estimate, OutputAsk]:
        """The estimate of a request (`allowance`: output tokens to expect, from the router;
        `known_tokens`: prompt tokens the messages do not show and whose count is exact, so
        without a margin: a conversation the upstream holds, as its usage reported it, or a
        prompt given as token ids; `answers`: how many answers the upstream generates and
        bills, when not the body's `n`)."""
        counted = self.counter.count_messages(
            messages, model.upstream_id, max_chars=ESTIMATE_EXACT_CHARS
        ).tokens
        counted += self.counter.count_prompt_fields(body, model.upstream_id)  # tools, schema
        prompt = margin_tokens(counted, self.config.prompt_margin) + max(0, known_tokens)
        if not output:  # embeddings: the input is the whole cost
            return estimate(model.price, prompt, 0, 0), OutputAsk(None, None)
        ask = output_ask(body)
        reasoning = bool(model.efforts)
        fallback = self.config.expected_output_tokens
        prior = allowance or (fallback.reasoning if reasoning else fallback.plain)
        minimal = self.config.minimal_output_tokens
        out = expected_output(ask, prior, model.context_window, prompt)
        return estimate(
            model.price,
            prompt,
            out,
            minimal.reasoning if reasoning else minimal.plain,
            answers or choices(body),
        ), ask

    async def admit(
        self,
        principal: Principal,
        model: ModelSpec,
        request_id: str,
        body: dict[str, Any],
        messages: Sequence[Mapping[str, Any]],
        *,
        pressure: Pressure = NO_PRESSURE,
        requested: str = "",
        user: str | None = None,
        allowance: int | None = None,
        default_effort: str | None = None,
        output: bool = True,
        rate: bool = True,
        known_tokens: int = 0,
        answers: int | None = None,
        limit_name: str | None = None,
    ) -> Admission:
        """Reserve for one request (`allowance`: output tokens to expect, from the router;
        `default_effort`: the effort the router sends when the client names none; `output`:
        False for a request that generates no tokens, such as embeddings, whose body is never
        given an output limit; `rate` False: a fallback's new reservation, the request already
        counted by the rate limits; `known_tokens` and `answers`: as `measure` takes them;
        `limit_name`: what the client's API calls the output limit, for the header, when the body
        here is a translation that names it otherwise)."""
        headers: dict[str, str] = {}
        notes: list[str] = []
        level = None
        if pressure.soft is not None:
            if pressure.effort_cap is not None and model.efforts:
                body, level = cap_effort(body, pressure.effort_cap, model.efforts, default_effort)
            notes.append(pressure.soft.header(level))
        scopes = scopes_of(principal)
        rules = rules_for(principal, self.rate_limits) if rate else ()
        budgets: dict[str, BudgetRecord] | None
        try:
            budgets = await self.cache.budgets(scopes)
        except UNAVAILABLE:
            budgets = self.cache.last_known(scopes)  # None: unknown, treated as budgeted
        if budgets == {} and not rules:
            return admitted(body, headers, notes, None, level)
        est, ask = self.measure(model, body, messages, allowance, output, known_tokens, answers)
        now = time.time()
        rid = f"{request_id or 'req'}.{secrets.token_hex(4)}"
        pending: dict[str, Any] = {
            "t": "p",
            "id": rid,
            "ts": now,
            "req": request_id,
            "team": principal.team,
            "key": principal.key_id,
            "user": user,
            "requested": requested,
            "model": model.name,
            "provider": model.provider.name,
            "scopes": list(scopes),
            "amount": str(est.amount),
            "budgeted": budgets is None or bool(budgets),
        }
        self.settler.note(rid, pending)
        try:
            result = await self._reserve_waiting(rid, scopes, est, rules, now, budgets)
        except UNAVAILABLE:
            self.metrics.store_errors.labels("reserve").inc()
            if not self.fail_open:
                self.settler.done(rid)
                self.metrics.refused(principal.team, "store")
                raise store_error() from None
            self.settler.note(rid, {"t": "o", "id": rid})
            self.metrics.fail_open.inc()
            hold = Hold(rid, ZERO, now + self.lease, self.settler, pending, open=True)
            return admitted(body, headers, notes, hold, level)
        except BaseException:
            self.settler.done(rid)  # cancelled, or a store error: nothing is held for it
            raise
        if not result.ok:
            self.settler.done(rid)
            refusal = result.refusal
            if isinstance(refusal, BudgetRefusal):
                record = (budgets or {}).get(refusal.scope)
                later = await rolling_reset(self.store, self.gate, refusal, record)
                result = replace(result, refusal=later)
            raise self._refused(principal, result, budgets, now)
        self.settler.note(rid, {"t": "r", "id": rid, "granted": str(result.reserved)})
        hold = Hold(rid, result.reserved, now + self.lease, self.settler, pending)
        field = limit_field(ask, bool(model.efforts))
        hard = budgets is None or any(b.hard for b in budgets.values())
        if output and result.reserved < est.amount:
            tokens = est.covered(result.reserved)
            body = with_output_limit(body, field, tokens)
            notes.append(f"clamped={limit_name or field}:{tokens}")
            self.metrics.clamped.labels(principal.team).inc()
        elif output and hard and budgets != {} and self.config.cap_output and ask.tokens is None:
            body = with_output_limit(body, field, est.output_tokens)
            notes.append(f"capped={limit_name or field}:{est.output_tokens}")
        if rules:
            headers.update(self.minutes.add(rules, est.tokens, now))
        return admitted(body, headers, notes, hold, level)

    async def _reserve_waiting(
        self,
        rid: str,
        scopes: Sequence[str],
        est: Estimate,
        rules: Sequence[RateRule],
        now: float,
        known: Mapping[str, BudgetRecord] | None = None,
    ) -> ReserveResult:
        """Reserve (`known`: the budget records the cache holds, None when unknown); a refusal
        that only other requests' reservations cause (the minimal answer fits what is settled)
        waits for them to settle, up to `budgets.wait_in_flight_seconds`, so that a burst is
        served as far as the budget goes instead of refused on estimates."""

        def at(when: float) -> Callable[[], Awaitable[ReserveResult]]:
            return lambda: self.store.reserve(
                rid,
                scopes,
                est.amount,
                self.lease,
                when,
                minimum=est.minimum,
                rate=rules,
                tokens=est.tokens,
                known=known,
            )

        result = await self._reserve(rid, at(now))
        deadline = time.monotonic() + self.config.wait_in_flight_seconds
        pause = 0.02
        while not result.ok and held_back(result.refusal) and time.monotonic() < deadline:
            self.metrics.waits.inc()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)
            result = await self._reserve(rid, at(time.time()))
        return result

    async def _reserve(
        self, rid: str, call: Callable[[], Awaitable[ReserveResult]]
    ) -> ReserveResult:
        """Make the store `call` through the gate; a reservation the caller stops waiting for
        is released when it lands."""
        task = asyncio.get_running_loop().create_task(self.gate.call(call))
        try:
            return await asyncio.shield(task)
        except BaseException as exc:
            cancelled = isinstance(exc, asyncio.CancelledError)
            task.add_done_callback(lambda t: self._abandoned(t, rid, cancelled))
            raise

    def _abandoned(self, task: asyncio.Future[ReserveResult], rid: str, cancelled: bool) -> None:
        """Release what a reservation nobody waits for may hold, once its call has ended. A
        call that failed may still have reached the store, so it is released too (settling
        nothing is a no-op); only a clear refusal is known to hold nothing."""
        slow = None if task.cancelled() else task.exception()
        if isinstance(slow, StoreTimeout):  # still running: decide when it lands
            slow.call.add_done_callback(lambda call: self._abandoned(call, rid, cancelled))
            return
        refused = not task.cancelled() and slow is None and not task.result().ok
        if not refused:
            self.settler.release(rid, ZERO, time.time() + self.lease, journal=cancelled)

    def _refused(
        self,
        principal: Principal,
        result: ReserveResult,
        budgets: Mapping[str, BudgetRecord] | None,
        now: float,
    ) -> ProxyError:
        refusal = result.refusal
        if isinstance(refusal, RateRefusal):
            self.metrics.refused(principal.team, refusal.rule)
            return rate_error(refusal, now)
        assert isinstance(refusal, BudgetRefusal)
        self.metrics.refused(principal.team, "budget")
        self.cache.forget(refusal.scope)
        return budget_error(refusal, (budgets or {}).get(refusal.scope), now)
