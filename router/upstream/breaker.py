"""Circuit breakers, one per upstream (catalog model), so a failing upstream is skipped at once.

    closed ──(in the last window_s: >= min_requests tries, >= error_rate of them failed)──> open
    open ──(open_s later, the next request is let through as a probe)──> half_open
    half_open ──(probe answered)──> closed        half_open ──(probe failed)──> open

While open, routing leaves the upstream out and the attempt loop moves to the next fallback.
Half-open lets at most `probes` requests through at once; the others skip it as if it were open.
An attempt's outcome is `ok`, `failed` (counts against the upstream: connection, timeout, 429,
5xx, garbled answer) or `neutral` (the request's own fault, a 4xx, or the client left: it only
frees the probe slot).

Counts are kept per second in a ring of `window_s` buckets, so recording is O(1). The clock is
passed in (monotonic seconds), which keeps the state machine pure and testable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal

from router.config.schema import Breaker as BreakerConfig

State = Literal["closed", "open", "half_open"]
Outcome = Literal["ok", "failed", "neutral"]
STATE_VALUE: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}


class Breaker:
    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self.state: State = "closed"
        self.opened_at = 0.0
        self.probing = 0
        size = max(1, math.ceil(config.window_s))
        self._seconds = [-1] * size  # which second each bucket counts
        self._tries = [0] * size
        self._fails = [0] * size

    def allow(self, now: float) -> bool:
        """May a request go to this upstream now? (Half-open: takes a probe slot.)"""
        if self.state == "open":
            if now - self.opened_at < self.config.open_s:
                return False
            self.state = "half_open"
            self.probing = 0
        if self.state == "half_open":
            if self.probing >= self.config.probes:
                return False
            self.probing += 1
        return True

    def available(self, now: float) -> bool:
        """Would `allow` let a request through (without taking a probe slot)?"""
        if self.state == "open":
            return now - self.opened_at >= self.config.open_s
        if self.state == "half_open":
            return self.probing < self.config.probes
        return True

    def record(self, outcome: Outcome, now: float) -> None:
        if self.state == "half_open":
            self.probing = max(0, self.probing - 1)
            if outcome == "ok":
                self._close()
            elif outcome == "failed":
                self._open(now)
            return
        if outcome == "neutral" or self.state == "open":
            return
        second = int(now)
        i = second % len(self._seconds)
        if self._seconds[i] != second:
            self._seconds[i], self._tries[i], self._fails[i] = second, 0, 0
        self._tries[i] += 1
        if outcome == "failed":
            self._fails[i] += 1
            tries, fails = self._counts(second)
            if tries >= self.config.min_requests and fails >= self.config.error_rate * tries:
                self._open(now)

    def retry_in(self, now: float) -> float:
        """Seconds until an open breaker lets a probe through."""
        return max(0.0, self.opened_at + self.config.open_s - now)

    def _counts(self, second: int) -> tuple[int, int]:
        oldest = second - len(self._seconds) + 1
        tries = fails = 0
        for s, t, f in zip(self._seconds, self._tries, self._fails, strict=True):
            if s >= oldest:
                tries += t
                fails += f
        return tries, fails

    def _open(self, now: float) -> None:
        self.state = "open"
        self.opened_at = now
        self.probing = 0

    def _close(self) -> None:
        self.state = "closed"
        self._seconds = [-1] * len(self._seconds)
        self._tries = [0] * len(self._tries)
        self._fails = [0] * len(self._fails)


class Breakers:
    """The breakers of every upstream, and a hook told of every change of state."""

    def __init__(
        self,
        config: BreakerConfig,
        names: Iterable[str],
        on_change: Callable[[str, State], None] | None = None,
    ) -> None:
        self._breakers = {name: Breaker(config) for name in names}
        self._on_change = on_change
        self._not_closed: set[str] = set()  # most of the time empty: routing's fast path
        for name in self._breakers:
            self._changed(name, "closed")

    def get(self, name: str) -> Breaker | None:
        return self._breakers.get(name)

    def allow(self, name: str, now: float) -> bool:
        breaker = self._breakers.get(name)
        if breaker is None:
            return True
        before = breaker.state
        allowed = breaker.allow(now)
        if breaker.state != before:
            self._changed(name, breaker.state)
        return allowed

    def available(self, name: str, now: float) -> bool:
        breaker = self._breakers.get(name)
        return breaker is None or breaker.available(now)

    def record(self, name: str, outcome: Outcome, now: float) -> None:
        breaker = self._breakers.get(name)
        if breaker is None:
            return
        before = breaker.state
        breaker.record(outcome, now)
        if breaker.state != before:
            self._changed(name, breaker.state)

    def unavailable(self, now: float) -> frozenset[str]:
        """Upstreams routing should leave out now."""
        if not self._not_closed:
            return frozenset()
        return frozenset(n for n in self._not_closed if not self._breakers[n].available(now))

    def snapshot(self, now: float) -> dict[str, dict[str, object]]:
        """State per upstream, for `/readyz`."""
        out: dict[str, dict[str, object]] = {}
        for name, b in self._breakers.items():
            entry: dict[str, object] = {"state": b.state}
            if b.state == "open":
                entry["retry_in_s"] = round(b.retry_in(now), 3)
            out[name] = entry
        return out

    def _changed(self, name: str, state: State) -> None:
        if state == "closed":
            self._not_closed.discard(name)
        else:
            self._not_closed.add(name)
        if self._on_change is not None:
            self._on_change(name, state)
