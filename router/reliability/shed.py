"""Load shedding: past `reliability.max_in_flight` requests at once, answer 503 at once.

A proxy that queues without bound turns an upstream slowdown into a pile of waiting requests,
each holding memory, a connection and a budget reservation, all of which time out together.
Shedding answers the excess at once with `503 overloaded` and a `retry-after`, which the
OpenAI SDKs honour with their own backoff. Only the model endpoints (`/v1/...` POSTs) count;
health, metrics and admin calls always get through. A request counts until its last byte is
sent (a stream counts for as long as it streams).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from router.api.errors import proxy_error_response
from router.errors import Overloaded
from router.reliability.service import Reliability


class LoadShedder:
    def __init__(self, app: ASGIApp, reliability_of: Callable[[Scope], Reliability | None]) -> None:
        self.app = app
        self.reliability_of = reliability_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rel = None
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"][:4] == "/v1/":
            rel = self.reliability_of(scope)
        if rel is None:
            await self.app(scope, receive, send)
            return
        if not rel.enter():
            after = rel.config.shed_retry_after_s
            error = Overloaded(
                f"The proxy is serving its limit of {rel.config.max_in_flight} requests at "
                f"once; retry in {after} s.",
                headers={"retry-after": str(after)},
            )
            await proxy_error_response(error)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            rel.leave()
