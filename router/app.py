"""Assemble the ASGI app: `create_app(settings)`. Nothing here runs at import time.

The lifespan owns everything with a life of its own: the upstream connection pool, the
in-process simulator (embedded default), the metrics registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp

from router import __version__
from router.api import chat, embeddings, errors, models, ops
from router.auth import DEV_TEAM, Authenticator, Principal, hash_key
from router.config.load import Settings
from router.config.schema import SIMULATOR_URL
from router.errors import ProxyError
from router.ledger.writer import LedgerWriter
from router.metering.tokens import default_counter
from router.observability.metrics import Metrics
from router.services import Services, build_targets
from router.simhost import InProcessSimulator
from router.store.open import open_store
from router.upstream.client import Upstream


class TokenwiseAPI(FastAPI):
    """FastAPI with only the middleware the proxy uses.

    The proxy has no dependencies with `yield`, no uploaded files and its own body limit, so
    FastAPI's extra layers (telemetry, body limit, exit stack) would only cost time on every
    request: the stack is errors -> request id -> exception handlers -> routes.
    """

    def build_middleware_stack(self) -> ASGIApp:
        handlers = {k: v for k, v in self.exception_handlers.items() if k not in (500, Exception)}
        app: ASGIApp = ExceptionMiddleware(self.router, handlers=handlers)
        app = errors.RequestIdMiddleware(app)
        return ServerErrorMiddleware(app, handler=self.exception_handlers.get(Exception))


NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        simulator = InProcessSimulator() if settings.uses_simulator else None
        base_urls = {}
        for model in settings.models.values():
            base_urls[model.provider.name] = model.provider.base_url
        if simulator is not None:
            sim_url = await simulator.start()
            base_urls = {k: sim_url if v == SIMULATOR_URL else v for k, v in base_urls.items()}
        store = await open_store(settings.config.store.url, settings.home)
        ledger = LedgerWriter(store, settings.home / "spool")
        await ledger.start()
        counter = default_counter()
        # Load the usual encoding off the event loop now, not on the first unmetered stream.
        warming = asyncio.get_running_loop().run_in_executor(None, counter.warm, "o200k_base")
        upstream = Upstream(settings.config.server.timeouts)
        await upstream.start()
        keys = dict(settings.keys)
        if settings.dev_key:
            keys[hash_key(settings.dev_key)] = Principal(team=DEV_TEAM, key_id="dev")
        app.state.services = Services(
            settings=settings,
            upstream=upstream,
            auth=Authenticator(keys),
            metrics=Metrics(),
            targets=build_targets(settings, base_urls),
            body_limit=settings.config.server.body_limit_bytes,
            store=store,
            ledger=ledger,
            counter=counter,
        )
        try:
            yield
        finally:
            await upstream.close()
            await ledger.close()
            await store.close()
            await warming
            if simulator is not None:
                await simulator.stop()

    app = TokenwiseAPI(
        title="Tokenwise",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry=NO_TELEMETRY,  # type: ignore[arg-type]
    )
    for route in (
        Route("/v1/chat/completions", chat.chat_completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings.embeddings, methods=["POST"]),
        Route("/v1/models", models.list_models, methods=["GET"]),
        Route("/healthz", ops.healthz, methods=["GET"]),
        Route("/readyz", ops.readyz, methods=["GET"]),
        Route("/metrics", ops.metrics, methods=["GET"]),
    ):
        app.router.routes.append(route)
    app.add_exception_handler(ProxyError, errors.on_proxy_error)
    app.add_exception_handler(HTTPException, errors.on_http_error)
    app.add_exception_handler(Exception, errors.on_unexpected)
    return app
