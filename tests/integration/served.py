"""A proxy served in this process (a `ServerThread`): its services, and work on its own loop.

The store, the ledger writer and the upstream client belong to the server's event loop, so a
test reaches them through `on_loop`, never from its own loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from router.localserver import ServerThread
from router.services import Services


def services_of(server: ServerThread) -> Services:
    services: Services = server.server.config.app.state.services
    return services


def on_loop(server: ServerThread, work: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on the server's own loop and return its result (30 s at the most)."""
    assert server.loop is not None
    return asyncio.run_coroutine_threadsafe(work, server.loop).result(timeout=30)
