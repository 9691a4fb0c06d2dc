"""A proxy served in this process (a `ServerThread`): its services, and work on its own loop.

The store, the ledger writer and the upstream client belong to the server's event loop, so a
test reaches them through `on_loop`, never from its own loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from router.services import Services
from tests.integration.configs import write_config


def serve_config(
    home: Path, text: str, env: Mapping[str, str]
) -> AbstractContextManager[ServerThread]:
    """A proxy configured by `text` (written as `home`/tokenwise.yaml), TOKENWISE_HOME `home`
    and `env` its environment; it runs inside `with`."""
    path = write_config(home, text)
    settings = load_settings(str(path), env={"TOKENWISE_HOME": str(home), **env})
    return serving(create_app(settings))


def services_of(server: ServerThread) -> Services:
    services: Services = server.server.config.app.state.services
    return services


def on_loop(server: ServerThread, work: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on the server's own loop and return its result (30 s at the most)."""
    assert server.loop is not None
    return asyncio.run_coroutine_threadsafe(work, server.loop).result(timeout=30)


def leave_mid_stream(
    url: str, body: dict[str, Any], headers: dict[str, str], marker: str, after: int = 20
) -> str:
    """POST a streamed request and read it until `after` lines starting with `marker` came,
    then close the connection: a client that leaves mid-answer. The request's id."""
    seen = 0
    with (
        httpx.Client(timeout=30) as http,
        http.stream("POST", url, json=body, headers=headers) as resp,
    ):
        request_id = resp.headers["x-request-id"]
        for line in resp.iter_lines():
            if line.startswith(marker):
                seen += 1
            if seen == after:
                break  # leave: closing the response drops the connection
    return request_id
