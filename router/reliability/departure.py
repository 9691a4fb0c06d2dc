"""A client that leaves before its answer starts cancels the upstream call at once.

While `forward` waits for an upstream's first byte (retries, fallbacks and the breaker
included), a watcher task waits on the ASGI `receive` for `http.disconnect`. When it comes, the
watcher cancels the request's task: the upstream request is abandoned (its connection closed),
the budget reservation is released and the ledger records the request as `cancelled`, instead
of the proxy waiting out the upstream and billing an answer nobody reads. The cancellation
surfaces in the handler as `ClientLeft`, answered (to nobody) like any `ProxyError`. Once the
answer has started, the stream relay watches for the disconnect itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.types import Receive

from router.errors import ClientLeft


@asynccontextmanager
async def cancelled_on_departure(receive: Receive) -> AsyncIterator[None]:
    """Run the block; raise `ClientLeft` in it as soon as the client disconnects."""
    task = asyncio.current_task()
    assert task is not None
    watcher = asyncio.get_running_loop().create_task(_watch(receive, task))
    try:
        yield
    except asyncio.CancelledError:
        if watcher.done() and not watcher.cancelled() and watcher.result():
            task.uncancel()
            raise ClientLeft("The client disconnected before the answer started.") from None
        raise
    finally:
        watcher.cancel()


async def _watch(receive: Receive, task: asyncio.Task[object]) -> bool:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            task.cancel("the client disconnected")
            return True
