"""Running the simulator for `tokenwise sim` (tests and the demo use router.localserver)."""

from __future__ import annotations

import importlib.util
import logging
import socket

import uvicorn

from router.sim.app import create_sim_app
from router.sim.config import load_sim_config

logger = logging.getLogger("uvicorn.error")


def _loop() -> str:
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def _http() -> str:
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def _bound_port(server: uvicorn.Server) -> int:
    for listener in server.servers:
        for sock in listener.sockets:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                port: int = sock.getsockname()[1]
                return port
    raise RuntimeError("the simulator is not listening")


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that says, once bound, that it is a simulation and where it is."""

    def __init__(self, config: uvicorn.Config, models: int) -> None:
        super().__init__(config)
        self.models = models

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            url = f"http://{self.config.host}:{_bound_port(self)}/v1"
            logger.info(
                "SIMULATED upstream (tokenwise sim, %d simulated models, no real LLM) at %s",
                self.models,
                url,
            )


def serve(config_path: str | None, host: str, port: int) -> None:
    """Serve the simulator until interrupted (blocking)."""
    config = load_sim_config(config_path)
    settings = uvicorn.Config(
        create_sim_app(config),
        host=host,
        port=port,
        loop=_loop(),
        http=_http(),
        access_log=False,
        log_level="info",
    )
    _AnnouncingServer(settings, len(config.models)).run()
