"""Send a request upstream: retries, fallbacks and breakers, all before the client's first byte.

`forward` walks the request's candidates (`plan.candidates`): the routed model, then its
fallbacks. Each upstream is tried up to `retries.attempts` times with backoff
(`upstream.retry`); an open breaker skips it; a failure that another try cannot mend (a prompt
too long, a refused key) moves on at once, and a request the upstream refused for its own fault
(a 400) is answered at once. Nothing reaches the client until an answer has been checked
(`upstream.answer`): a JSON answer is read whole and parsed, a stream's first event is read and
must be neither malformed nor an error. From then on the answer is the client's and is never
retried. A client that disconnects meanwhile stops the walk at once (`departure`).

Moving to another model is the caller's `switch(target)`: it moves the budget reservation to
that model and builds the request in its dialect; `exchange.route` follows, so the ledger and
the metrics bill the model that served (no `switch`: the request stays on its model, as on
endpoints that cannot move it; retries and the breaker still apply). The answer says what
happened: `x-tokenwise-model` is the serving model, `x-tokenwise-fallback: from=<routed>;
reason=<why>; attempts=<n>` when it is not the routed one, `x-tokenwise-attempts: <n>` when it
took more than one try.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import orjson
from starlette.types import Receive

from router.errors import (
    BudgetExceeded,
    ProxyError,
    RateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from router.exchange import Exchange
from router.providers.base import Adapter, UpstreamCall
from router.reasoning.intent import ReasoningIntent
from router.reliability.departure import cancelled_on_departure
from router.reliability.plan import candidates, larger_window
from router.services import Services, Target
from router.upstream.answer import Answer, check_stream, read_answer
from router.upstream.breaker import Outcome
from router.upstream.client import UpstreamResponse
from router.upstream.retry import Failure, Reason, classify, wait_s

REQUEST_ID_HEADER = "x-tokenwise-request-id"  # sent upstream: the proxy's id for the request


class DeadlineExceeded(UpstreamTimeout):
    """The request's deadline (`retries.deadline_s`) ended an attempt."""


@dataclass
class Prepared:
    """A request made ready for one target: its dialect, body and response headers."""

    target: Target
    adapter: Adapter
    intent: ReasoningIntent
    call: UpstreamCall
    headers: dict[str, str]


@dataclass
class Served:
    prepared: Prepared
    resp: UpstreamResponse
    answer: Answer | None  # a JSON answer, read and checked (None: a stream, primed)


Switch = Callable[[Target], Awaitable[Prepared]]


async def forward(
    services: Services,
    exchange: Exchange,
    first: Prepared,
    switch: Switch | None,
    *,
    stream: bool,
    receive: Receive | None = None,
) -> Served:
    """The first answer any candidate gives, checked; else the error that says what failed.
    `receive`: the client's connection; when it closes, the walk stops at once (`ClientLeft`,
    router.reliability.departure)."""
    walk = _Walk(services, exchange, first, switch, stream)
    if receive is None:
        return await walk.run()
    async with cancelled_on_departure(receive):
        return await walk.run()


class _Walk:
    """One request's way down its candidates: what was tried, how often, and why it moved."""

    def __init__(
        self,
        services: Services,
        exchange: Exchange,
        first: Prepared,
        switch: Switch | None,
        stream: bool,
    ) -> None:
        self.services = services
        self.rel = services.reliability
        self.exchange = exchange
        self.first = self.current = first
        self.switch = switch
        self.stream = stream
        self.loop = asyncio.get_running_loop()
        self.deadline = self.loop.time() + self.rel.deadline_s
        decision = exchange.route.decision
        fallbacks = decision.fallbacks if decision else ()
        self.queue = (
            list(candidates(first.target.name, fallbacks, self.rel.config))
            if switch is not None
            else [first.target.name]
        )
        self.tried: list[str] = []  # every candidate reached, skipped ones included
        self.attempts = 0
        self.last: Failure | None = None
        self.moved: Reason | None = None  # why the request left the last candidate

    async def run(self) -> Served:
        rel = self.rel
        while self.queue:
            name = self.queue.pop(0)
            target = self.services.targets.get(name)
            if target is None:
                continue
            if self.tried:
                moved = self.moved or "upstream_error"
                rel.metrics.fallbacks.labels(self.tried[-1], name, moved).inc()
            self.tried.append(name)
            if not rel.breakers.available(name, rel.clock()):
                self.moved = "circuit_open"
                continue
            if self.current.target.name != name and not await self._switch(target):
                continue
            served = await self._tries(name)
            if served is not None:
                return served
        if self.last is None:  # every upstream's breaker is open: nothing was tried
            self.last = Failure(self._unavailable(), "circuit_open", False, False)
        raise self._final()

    async def _switch(self, target: Target) -> bool:
        """Make the request ready for a fallback; False when its budget or dialect refuses."""
        name = target.name
        fallbacks = self.rel.config.fallbacks.get(name, ())
        self.queue += [f for f in fallbacks if f not in (*self.tried, *self.queue)]
        assert self.switch is not None  # without one, the queue holds the first target only
        self.exchange.route = replace(self.exchange.route, target=target)
        try:
            self.current = await self.switch(target)
        except ProxyError as exc:
            budget = isinstance(exc, (BudgetExceeded, RateLimited))
            if self.last is None:
                self.last = Failure(exc, "budget" if budget else "upstream_error", False, False)
            self.moved = "budget" if budget else self.moved
            return False
        return True

    async def _tries(self, name: str) -> Served | None:
        """Try one upstream until it answers (the answer), or the request should move on
        (None); raise when it should stop here."""
        rel = self.rel
        retry = 0
        while True:
            if self.last is not None and self.loop.time() >= self.deadline:
                raise self._final()  # out of time
            if not rel.breakers.allow(name, rel.clock()):
                self.moved = "circuit_open"
                return None
            self.attempts += 1
            outcome: Outcome = "neutral"
            try:
                served = await _attempt(
                    self.services, self.exchange, self.current, self.stream, self.deadline
                )
                outcome = "ok"
            except DeadlineExceeded as exc:
                self.exchange.try_failed(exc)
                if self.last is None:  # else a retry was cut short: the failure before says more
                    self.last = Failure(exc, "timeout", False, False)
                raise self._final() from None
            except ProxyError as exc:
                self.exchange.try_failed(exc)
                self.last = classify(exc, time.time())
                outcome = "failed" if self.last.upstream_fault else "neutral"
            finally:
                rel.breakers.record(name, outcome, rel.clock())
            if outcome == "ok":
                return self._served(served)
            failure = self.last
            assert failure is not None
            self.moved = failure.reason
            if failure.reason == "context_window":
                self._larger_window(name)
                return None
            if not failure.fallback:
                raise self._final()
            retry += 1
            pause = wait_s(failure, retry, rel.config.retries)
            if retry >= rel.config.retries.attempts or pause is None:
                return None
            if self.loop.time() + pause >= self.deadline:
                return None
            rel.metrics.retries.labels(name, failure.reason).inc()
            await asyncio.sleep(pause)

    def _larger_window(self, refused: str) -> None:
        """Put a model with a larger window next in line; raise when there is none (or when
        the request cannot move)."""
        if self.switch is None:
            raise self._final()
        models = {name: t.model for name, t in self.services.targets.items()}
        whole = self.rel.config.context_fallback
        bigger = larger_window(refused, self.queue, models, self.tried, whole_catalog=whole)
        if bigger is None:
            raise self._final()
        self.queue = [bigger, *(q for q in self.queue if q != bigger)]

    def _unavailable(self) -> ProxyError:
        clock = self.rel.clock()
        waits = []
        for name in self.tried or [self.first.target.name]:
            breaker = self.rel.breakers.get(name)
            waits.append(breaker.retry_in(clock) if breaker is not None else 0.0)
        wait = max(1, round(min(waits)))
        return UpstreamUnavailable(
            f"No upstream can take this request now: '{self.first.target.name}' and its "
            f"fallbacks are failing (circuit open). Retry in {wait} s.",
            headers={"retry-after": str(wait)},
        )

    def _served(self, served: Served) -> Served:
        headers = served.prepared.headers
        if served.prepared.target.name != self.first.target.name:
            headers["x-tokenwise-fallback"] = self._fallback_header()
        if self.attempts > 1:
            headers["x-tokenwise-attempts"] = str(self.attempts)
        return served

    def _final(self) -> ProxyError:
        """The error the client gets when no upstream answered, with what was tried."""
        assert self.last is not None
        error = self.last.error
        headers = dict(self.current.headers)
        if self.current.target.name != self.first.target.name:
            headers["x-tokenwise-fallback"] = self._fallback_header()
        headers["x-tokenwise-attempts"] = str(self.attempts)
        error.headers = {**headers, **error.headers}
        return error

    def _fallback_header(self) -> str:
        reason = self.moved or "upstream_error"
        return f"from={self.first.target.name}; reason={reason}; attempts={self.attempts}"


async def _attempt(
    services: Services,
    exchange: Exchange,
    p: Prepared,
    stream: bool,
    deadline: float,
) -> Served:
    """One try: send, then read and check the answer (a stream: its first bytes)."""
    headers = {**p.call.headers, REQUEST_ID_HEADER: exchange.request_id}
    provider = p.target.provider
    try:
        resp = await services.upstream.send(
            "POST",
            p.target.url(p.call.path),
            orjson.dumps(p.call.body),
            headers,
            tls=p.target.tls,
            until=deadline,
        )
        try:
            if stream:
                await check_stream(resp, provider)
                resp.lift()  # the deadline bounds the start; the stream lasts as it lasts
                return Served(p, resp, None)
            return Served(p, resp, await read_answer(resp, provider))
        except BaseException:
            resp.close()
            raise
    except UpstreamTimeout:
        if asyncio.get_running_loop().time() < deadline:
            raise  # the upstream's own timeout (first byte, idle, total)
        raise DeadlineExceeded(
            f"No upstream answered within {services.reliability.deadline_s:g} s (retries and "
            "fallbacks included)."
        ) from None
