"""Run the simulator inside the proxy's own event loop, on a free loopback port.

This is what the embedded default does: no config, no keys, no other process. The simulator is
a real HTTP server (uvicorn) so the proxy reaches it exactly as it reaches a provider.
"""

from __future__ import annotations

import logging

import uvicorn

log = logging.getLogger("tokenwise")


class InProcessSimulator:
    def __init__(self, config_path: str | None = None) -> None:
        self.config_path = config_path
        self._server: uvicorn.Server | None = None
        self.url = ""

    async def start(self) -> str:
        from router.sim.app import create_sim_app
        from router.sim.config import load_sim_config

        app = create_sim_app(load_sim_config(self.config_path))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, lifespan="off", log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        config.load()
        server.lifespan = config.lifespan_class(config)
        await server.startup()
        sockets = server.servers[0].sockets
        port = sockets[0].getsockname()[1]
        self._server = server
        self.url = f"http://127.0.0.1:{port}/v1"
        log.warning("SIMULATED upstream (tokenwise simulator) serving at %s", self.url)
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
