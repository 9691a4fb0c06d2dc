"""Serve an ASGI app on a free loopback port from a background thread (demo and tests)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


class ServerThread:
    def __init__(self, app: Any, **options: Any) -> None:
        """`options`: more uvicorn.Config settings (e.g. ssl_certfile, ssl_keyfile)."""
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
            loop="asyncio",
            http="h11",
            lifespan="on",
            **options,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve())
        finally:
            self.loop.close()

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("server thread died during start-up")
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 20 s")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)

    def tasks(self) -> set[asyncio.Task[Any]]:
        """The tasks alive in the server's loop (read from another thread: a snapshot)."""
        assert self.loop is not None
        return asyncio.all_tasks(self.loop)


@contextmanager
def serving(app: Any, **options: Any) -> Iterator[ServerThread]:
    server = ServerThread(app, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
