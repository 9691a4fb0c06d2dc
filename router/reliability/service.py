"""`Reliability`: what the request path needs for retries, fallbacks, breakers and shedding.

Built once by the app's lifespan from the `reliability` config section and the catalog; one per
process (several workers each keep their own breakers and in-flight count).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry

from router.config.schema import Reliability as ReliabilityConfig
from router.reliability.metrics import ReliabilityMetrics
from router.upstream.breaker import Breakers


class Reliability:
    def __init__(
        self,
        config: ReliabilityConfig,
        upstreams: Iterable[str],
        registry: CollectorRegistry,
        *,
        first_byte_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.metrics = ReliabilityMetrics(registry)
        self.breakers = Breakers(config.breaker, upstreams, self.metrics.state)
        self.clock = clock
        # All tries of a request end by this many seconds after the first (before the client
        # has a byte): the config's deadline, else the first-byte timeout.
        self.deadline_s = config.retries.deadline_s or first_byte_s
        self.in_flight = 0

    def unavailable(self) -> frozenset[str]:
        """Upstreams routing leaves out now (open breakers)."""
        return self.breakers.unavailable(self.clock())

    def enter(self) -> bool:
        """Count one more request in flight; False (and not counted) when over the limit."""
        limit = self.config.max_in_flight
        if limit is not None and self.in_flight >= limit:
            self.metrics.shed.inc()
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1
