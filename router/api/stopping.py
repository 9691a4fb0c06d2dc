"""Requests still running when the shutdown grace period ends.

On SIGTERM uvicorn stops accepting, lets requests in flight finish for
`server.shutdown_grace_seconds`, then cancels the tasks of those still running, with a message
of its own. Left alone, a waiting request got uvicorn's plain-text 500 and a stream was cut
without its end. The edge and the event stream tell that cancellation apart from any other and
answer it as every other failure: a 503 `overloaded` to retry, or the stream's error event and
`data: [DONE]`. The request is still metered and recorded `cancelled`, its reservation settled.
"""

from __future__ import annotations

import asyncio

from router.errors import Overloaded

_UVICORN_MESSAGE = "timeout graceful shutdown exceeded"


def stopped_by_shutdown(exc: asyncio.CancelledError) -> bool:
    """The server's grace period ended while this request ran (uvicorn's cancellation)."""
    return any(isinstance(arg, str) and _UVICORN_MESSAGE in arg for arg in exc.args)


def shutdown_error() -> Overloaded:
    return Overloaded(
        "The server is shutting down and this request was still running when its grace period "
        "(server.shutdown_grace_seconds) ended. Retry it: another replica, or this one once it "
        "is back, will answer.",
        headers={"retry-after": "1"},
    )
