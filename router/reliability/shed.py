"""Load shedding: past `reliability.max_in_flight` requests at once, answer 503 at once.

A proxy that queues without bound turns an upstream slowdown into a pile of waiting requests,
each holding memory, a connection and a budget reservation, all of which time out together.
Shedding answers the excess at once with `503 overloaded` and a `retry-after`, which the
OpenAI SDKs honour with their own backoff. Only the model endpoints (`/v1/...` POSTs) count;
health, metrics and admin calls always get through. A request counts until its last byte is
sent (a stream counts for as long as it streams).
"""

from __future__ import annotations

from router.config.schema import Reliability
from router.errors import Overloaded


def overloaded(config: Reliability) -> Overloaded:
    """The answer to a request past `max_in_flight` (router/api/edge.py counts requests)."""
    after = config.shed_retry_after_s
    return Overloaded(
        f"The proxy is serving its limit of {config.max_in_flight} requests at once; retry in "
        f"{after} s.",
        headers={"retry-after": str(after)},
    )
