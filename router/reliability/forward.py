"""Send a request upstream: retries, fallbacks and breakers, all before the client's first byte.

`forward` walks the request's candidates (`plan.candidates`): the routed model, then its
fallbacks. Each upstream is tried up to `retries.attempts` times with backoff
(`upstream.retry`); an open breaker skips it; a failure that another try cannot mend (a prompt
too long, a refused key) moves on at once, and a request the upstream refused for its own fault
(a 400) is answered at once. Nothing reaches the client until an answer has been checked: a
JSON answer is read whole and parsed, a stream's first bytes are read and must not be an error
event. From then on the answer is the client's and is never retried.

Moving to another model is the caller's `switch(target)`: it moves the budget reservation to
that model and builds the request in its dialect; `exchange.route` follows, so the ledger and
the metrics bill the model that served. The answer says what happened: `x-tokenwise-model` is
the serving model, `x-tokenwise-fallback: from=<routed>; reason=<why>; attempts=<n>` when it is
not the routed one, `x-tokenwise-attempts: <n>` when it took more than one try.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import orjson

from router.errors import (
    BudgetExceeded,
    ProxyError,
    RateLimited,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from router.exchange import Exchange
from router.providers.base import Adapter, UpstreamCall
from router.reasoning.intent import ReasoningIntent
from router.reliability.plan import candidates, larger_window
from router.services import Services, Target
from router.upstream.breaker import Outcome
from router.upstream.client import UpstreamResponse
from router.upstream.failure import check_json_body, status_error
from router.upstream.retry import Failure, Reason, classify, wait_s
from router.upstream.sse import MalformedEvent, SSESplitter, parse_event

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


class Answer:
    __slots__ = ("json", "raw")

    def __init__(self, raw: bytes, json: dict[str, Any]) -> None:
        self.raw = raw
        self.json = json


@dataclass
class Served:
    prepared: Prepared
    resp: UpstreamResponse
    answer: Answer | None  # a JSON answer, read and checked (None: a stream, primed)


Switch = Callable[[Target], Awaitable[Prepared]]
Gone = Callable[[], Awaitable[bool]]


async def forward(
    services: Services,
    exchange: Exchange,
    first: Prepared,
    switch: Switch,
    *,
    stream: bool,
    gone: Gone | None = None,
) -> Served:
    rel = services.reliability
    loop = asyncio.get_running_loop()
    deadline = loop.time() + rel.deadline_s
    decision = exchange.route.decision
    queue = list(candidates(first.target.name, decision.fallbacks if decision else (), rel.config))
    tried: list[str] = []  # every candidate reached, skipped ones included
    current = first
    attempts = 0
    last: Failure | None = None
    moved: Reason | None = None  # why the request left the last candidate
    while queue:
        name = queue.pop(0)
        target = services.targets.get(name)
        if target is None:
            continue
        if tried:
            rel.metrics.fallbacks.labels(tried[-1], name, moved or "upstream_error").inc()
        tried.append(name)
        if not rel.breakers.available(name, rel.clock()):
            moved = "circuit_open"
            continue
        if current.target.name != name:
            queue += [f for f in rel.config.fallbacks.get(name, ()) if f not in (*tried, *queue)]
            exchange.route = replace(exchange.route, target=target)
            try:
                current = await switch(target)
            except ProxyError as exc:  # its budget or its dialect refuses: try the next one
                budget = isinstance(exc, (BudgetExceeded, RateLimited))
                if last is None:
                    last = Failure(exc, "budget" if budget else "upstream_error", False, False)
                moved = "budget" if budget else moved
                continue
        retry = 0
        while True:
            if last is not None and (
                loop.time() >= deadline or (gone is not None and await gone())
            ):
                raise _final(last, first, current, attempts, moved)  # out of time, or alone
            if not rel.breakers.allow(name, rel.clock()):
                moved = "circuit_open"
                break
            attempts += 1
            outcome: Outcome = "neutral"
            try:
                served = await _attempt(services, exchange, current, stream, deadline)
                outcome = "ok"
            except DeadlineExceeded as exc:
                if last is not None:  # a retry cut short: the failure before it says more
                    raise _final(last, first, current, attempts, moved) from None
                last = Failure(exc, "timeout", False, False)
                raise _final(last, first, current, attempts, moved) from None
            except ProxyError as exc:
                last = classify(exc, time.time())
                outcome = "failed" if last.upstream_fault else "neutral"
            finally:
                rel.breakers.record(name, outcome, rel.clock())
            if outcome == "ok":
                return _served(served, first, attempts, moved)
            assert last is not None
            moved = last.reason
            if last.reason == "context_window":
                whole = rel.config.context_fallback
                bigger = larger_window(name, queue, _models(services), tried, whole_catalog=whole)
                if bigger is None:
                    raise _final(last, first, current, attempts, moved)
                queue = [bigger, *(q for q in queue if q != bigger)]
                break
            if not last.fallback:
                raise _final(last, first, current, attempts, moved)
            retry += 1
            pause = wait_s(last, retry, rel.config.retries) if retry < _tries(rel) else None
            if pause is None or loop.time() + pause >= deadline:
                break
            rel.metrics.retries.labels(name, last.reason).inc()
            await asyncio.sleep(pause)
    if last is None:  # every upstream's breaker is open: nothing was tried
        wait = min(_retry_in(rel, n) for n in tried or [first.target.name])
        error: ProxyError = UpstreamUnavailable(
            f"No upstream can take this request now: '{first.target.name}' and its fallbacks "
            f"are failing (circuit open). Retry in {max(1, round(wait))} s.",
            headers={"retry-after": str(max(1, round(wait)))},
        )
        last = Failure(error, "circuit_open", False, False)
    raise _final(last, first, current, attempts, moved)


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
        async with asyncio.timeout_at(deadline):
            resp = await services.upstream.send(
                "POST", p.target.url(p.call.path), orjson.dumps(p.call.body), headers
            )
            try:
                if stream:
                    await check_stream(resp, provider)
                    return Served(p, resp, None)
                return Served(p, resp, await read_answer(resp, provider))
            except BaseException:
                resp.close()
                raise
    except TimeoutError:
        raise DeadlineExceeded(
            f"No upstream answered within {services.reliability.deadline_s:g} s (retries and "
            "fallbacks included)."
        ) from None


async def read_answer(resp: UpstreamResponse, provider: str) -> Answer:
    async with resp:
        data = await resp.read()
    if resp.status >= 400:
        raise status_error(resp.status, data, resp.headers, provider)
    parsed = check_json_body(data, provider)
    if isinstance(parsed, ProxyError):
        raise parsed
    return Answer(data, parsed)


async def check_stream(resp: UpstreamResponse, provider: str) -> None:
    """A stream is relayed only once it has begun well: an event-stream whose first event is
    neither malformed nor an error (an error status or a JSON body raises its error). What
    comes after the first event is the relay's to judge, once the client has it."""
    if resp.status >= 400 or "event-stream" not in resp.content_type:
        await read_answer(resp, provider)
        raise UpstreamProtocolError(
            f"The upstream provider '{provider}' answered a streaming request with a "
            "JSON body instead of an event stream."
        )
    first = await resp.first_chunk()
    if not first:
        raise UpstreamProtocolError(
            f"The upstream provider '{provider}' ended the stream before sending anything."
        )
    for raw in SSESplitter().feed(first)[:1]:  # the first event; the rest is the relay's
        try:
            event = parse_event(raw)
        except MalformedEvent as exc:
            raise UpstreamProtocolError(
                f"The upstream provider '{provider}' sent malformed SSE: {exc}"
            ) from None
        if isinstance(event.json, dict) and "error" in event.json:
            err = event.json["error"]
            message = err.get("message") if isinstance(err, dict) else str(err)
            raise UpstreamProtocolError(
                f"The upstream provider '{provider}' answered 200 with an error: {message}"
            )


def _served(served: Served, first: Prepared, attempts: int, moved: Reason | None) -> Served:
    headers = served.prepared.headers
    if served.prepared.target.name != first.target.name:
        headers["x-tokenwise-fallback"] = _fallback_header(first, moved, attempts)
    if attempts > 1:
        headers["x-tokenwise-attempts"] = str(attempts)
    return served


def _final(
    failure: Failure | None,
    first: Prepared,
    current: Prepared,
    attempts: int,
    moved: Reason | None,
) -> ProxyError:
    """The error the client gets when no upstream answered, with what was tried."""
    assert failure is not None
    error = failure.error
    headers = dict(current.headers)
    if current.target.name != first.target.name:
        headers["x-tokenwise-fallback"] = _fallback_header(first, moved, attempts)
    headers["x-tokenwise-attempts"] = str(attempts)
    error.headers = {**headers, **error.headers}
    return error


def _fallback_header(first: Prepared, reason: Reason | None, attempts: int) -> str:
    return f"from={first.target.name}; reason={reason or 'upstream_error'}; attempts={attempts}"


def _retry_in(rel: Any, name: str) -> float:
    breaker = rel.breakers.get(name)
    return breaker.retry_in(rel.clock()) if breaker is not None else 0.0


def _tries(rel: Any) -> int:
    attempts: int = rel.config.retries.attempts
    return attempts


def _models(services: Services) -> dict[str, Any]:
    return {name: t.model for name, t in services.targets.items()}
