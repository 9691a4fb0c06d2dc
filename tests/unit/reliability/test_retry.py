"""Retry rules and backoff (router/upstream/retry.py): pure, so every case is a table row."""

from __future__ import annotations

import pytest

from router.config.schema import Retries
from router.errors import (
    InvalidRequest,
    ProxyError,
    UpstreamProtocolError,
    UpstreamStatus,
    UpstreamTimeout,
)
from router.upstream.retry import backoff_s, classify, retry_after, wait_s

NOW = 1_800_000_000.0
CONFIG = Retries(attempts=4, base_ms=100, max_ms=1000, max_retry_after_s=10)


def status(code: int, headers: dict[str, str] | None = None, err: str = "x") -> UpstreamStatus:
    return UpstreamStatus(code, "m", code=err, headers=headers)


@pytest.mark.parametrize(
    ("error", "reason", "retry", "fallback", "blames_upstream"),
    [
        (UpstreamTimeout("t"), "timeout", True, True, True),
        (UpstreamProtocolError("reset"), "upstream_error", True, True, True),
        (status(500), "upstream_error", True, True, True),
        (status(503), "upstream_error", True, True, True),
        (status(429), "rate_limited", True, True, True),
        (status(401), "upstream_error", False, True, True),
        (status(404), "upstream_error", False, True, True),
        (status(400, err="context_length_exceeded"), "context_window", False, True, False),
        (status(400), "upstream_error", False, False, False),
        (status(422), "upstream_error", False, False, False),
        (InvalidRequest("bad"), "upstream_error", False, False, False),
    ],
)
def test_classify(
    error: ProxyError, reason: str, retry: bool, fallback: bool, blames_upstream: bool
) -> None:
    failure = classify(error, NOW)
    assert failure.reason == reason
    assert failure.retryable is retry
    assert failure.fallback is fallback
    assert failure.upstream_fault is blames_upstream


@pytest.mark.parametrize(
    ("retry", "ceiling"), [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]
)
def test_backoff_doubles_up_to_the_cap_with_full_jitter(retry: int, ceiling: float) -> None:
    assert backoff_s(retry, CONFIG, lambda: 1.0) == pytest.approx(ceiling)
    assert backoff_s(retry, CONFIG, lambda: 0.0) == 0.0
    assert backoff_s(retry, CONFIG, lambda: 0.5) == pytest.approx(ceiling / 2)


def test_retry_after_wins_over_backoff_unless_too_long() -> None:
    asked = classify(status(429, {"retry-after": "3"}), NOW)
    assert asked.retry_after == 3.0
    assert wait_s(asked, 1, CONFIG, lambda: 1.0) == 3.0
    too_long = classify(status(503, {"retry-after": "60"}), NOW)
    assert wait_s(too_long, 1, CONFIG) is None  # move on to a fallback instead


def test_a_request_the_upstream_refused_is_not_retried() -> None:
    assert wait_s(classify(status(400), NOW), 1, CONFIG) is None
    assert wait_s(classify(status(401), NOW), 1, CONFIG) is None


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Fri, 15 Jan 2027 08:00:05 GMT"}, 5.0),
        ({"retry-after": "Fri, 15 Jan 2027 07:00:00 GMT"}, 0.0),  # in the past
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "x"}, None),
        ({}, None),
    ],
)
def test_retry_after_header(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers, NOW) == seconds  # NOW is 2027-01-15 08:00:00 UTC
