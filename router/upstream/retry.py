"""When to try an upstream again, and how long to wait first (pure).

A failure is retried only before the first byte of the answer reaches the client, and only when
trying again can help: a connection that failed or broke, a timeout, a garbled answer, 429 and
5xx. A refused key or an unknown model id (401, 403, 404) is this provider's problem: no retry,
but a fallback may answer. A prompt too long goes to a model with a larger window. Any other
4xx is the request's own fault and is answered at once.

The wait before retry `n` (1-based) is "full jitter" exponential backoff, as the AWS
architecture note recommends: a uniform draw in `[0, min(max_ms, base_ms * 2**(n-1))]`, so
clients that failed together do not come back together. An upstream's `retry-after` (seconds
or an HTTP date) or `retry-after-ms` replaces the draw; one longer than `max_retry_after_s`
means this upstream is not worth waiting for, and the request moves on to its next fallback.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

from router.config.schema import Retries
from router.errors import ProxyError, UpstreamStatus, UpstreamTimeout

# Why an attempt failed, as counted in metrics and said in `x-tokenwise-fallback`.
Reason = Literal[
    "upstream_error", "timeout", "rate_limited", "circuit_open", "context_window", "budget"
]


@dataclass(frozen=True)
class Failure:
    """One failed attempt, classified."""

    error: ProxyError
    reason: Reason
    retryable: bool  # the same upstream may answer if asked again
    upstream_fault: bool  # counts against the upstream's breaker
    retry_after: float | None = None  # seconds the upstream asked for
    fallback: bool = True  # another upstream may answer (False: the request itself is at fault)


def classify(error: ProxyError, now: float) -> Failure:
    """What a failure before the first byte means for retries, fallbacks and the breaker."""
    if isinstance(error, UpstreamTimeout):
        return Failure(error, "timeout", True, True)
    if isinstance(error, UpstreamStatus):
        after = retry_after(error.headers, now)
        if error.status == 429:
            return Failure(error, "rate_limited", True, True, after)
        if error.status >= 500:
            return Failure(error, "upstream_error", True, True, after)
        if error.code == "context_length_exceeded":
            return Failure(error, "context_window", False, False)
        if error.status in (401, 403, 404):  # this provider's key or model id is wrong
            return Failure(error, "upstream_error", False, True)
        return Failure(error, "upstream_error", False, False, fallback=False)
    if error.status == 502:  # broken connection, malformed answer, error in a 200
        return Failure(error, "upstream_error", True, True)
    return Failure(error, "upstream_error", False, False, fallback=False)


def backoff_s(retry: int, config: Retries, draw: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `retry` (1 for the first retry)."""
    ceiling: float = min(config.max_ms, config.base_ms * 2.0 ** (retry - 1))
    return draw() * ceiling / 1000


def wait_s(
    failure: Failure, retry: int, config: Retries, draw: Callable[[], float] = random.random
) -> float | None:
    """Seconds to wait before retrying after `failure`; None when it should not be retried here
    (not retryable, or the upstream asked for a longer pause than is worth waiting)."""
    if not failure.retryable:
        return None
    if failure.retry_after is not None:
        if failure.retry_after > config.max_retry_after_s:
            return None
        return failure.retry_after
    return backoff_s(retry, config, draw)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds from `now` (epoch) the upstream asked to wait: `retry-after-ms`, else
    `retry-after` as seconds or an HTTP date; None when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
