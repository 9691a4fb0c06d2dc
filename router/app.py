"""Assemble the ASGI app: `create_app(settings)`. Nothing here runs at import time.

The lifespan owns everything with a life of its own: the upstream connection pool, the
in-process simulator (embedded default), the metrics registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Scope

from router import __version__
from router.api import (
    admin,
    admin_spend,
    chat,
    completions,
    embeddings,
    errors,
    models,
    ops,
    responses,
    stored_responses,
)
from router.auth import DEV_TEAM, Authenticator, Principal, ResolvePrincipal, hash_key
from router.budget.seed import seed
from router.budget.service import BudgetService
from router.classify.model import load_classifier
from router.config.load import Settings
from router.config.schema import SIMULATOR_URL
from router.errors import ProxyError
from router.ledger.writer import LedgerWriter
from router.metering.reload import install_reload_signal
from router.metering.tokens import default_counter
from router.observability import redact
from router.observability.metrics import Metrics
from router.observability.multiproc import forget_process, multiprocess_dir
from router.policy.priors import NAMESPACE as PRIORS
from router.policy.router import Router
from router.reliability.service import Reliability
from router.reliability.shed import LoadShedder
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
        app = ResolvePrincipal(app, authenticator_of)  # store lookups of /v1/ keys
        app = LoadShedder(app, reliability_of)  # past max_in_flight: 503 at once
        app = errors.RequestIdMiddleware(app)
        return ServerErrorMiddleware(app, handler=self.exception_handlers.get(Exception))


def authenticator_of(scope: Scope) -> Authenticator | None:
    services = getattr(scope["app"].state, "services", None)
    return None if services is None else services.auth


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the process holds: provider keys, the master key, the metrics token."""
    found = [m.provider.api_key for m in settings.models.values()]
    found += [settings.master_key, settings.metrics_token]
    return [s for s in found if s]


def reliability_of(scope: Scope) -> Reliability | None:
    services = getattr(scope["app"].state, "services", None)
    return None if services is None else services.reliability


NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything opened is closed again in reverse order, also when start-up fails midway.
        async with AsyncExitStack() as stack:
            stack.callback(redact.install(secrets_of(settings)))  # no secret in any log line
            router = Router.from_settings(settings, load_classifier())
            base_urls = {m.provider.name: m.provider.base_url for m in settings.models.values()}
            if settings.uses_simulator:
                simulator = InProcessSimulator()
                sim_url = await simulator.start()
                stack.push_async_callback(simulator.stop)
                base_urls = {k: sim_url if v == SIMULATOR_URL else v for k, v in base_urls.items()}
            store = await open_store(settings.config.store.url, settings.home)
            stack.push_async_callback(store.close)
            ledger = LedgerWriter(store, settings.home / "spool")
            await ledger.start()
            stack.push_async_callback(ledger.close)
            router.priors.load(await store.get_state(PRIORS))
            stack.push_async_callback(lambda: store.put_state(PRIORS, router.priors.dump()))
            counter = default_counter()
            # Load the usual encoding off the event loop now, not on the first unmetered stream.
            warming = asyncio.get_running_loop().run_in_executor(None, counter.warm, "o200k_base")
            stack.push_async_callback(lambda: warming)
            server = settings.config.server
            upstream = Upstream(server.timeouts, server.response_limit_bytes)
            await upstream.start()
            stack.push_async_callback(upstream.close)
            metrics_dir = multiprocess_dir(settings.env)
            if metrics_dir is not None:
                stack.callback(forget_process, metrics_dir)
            keys = dict(settings.keys)
            if settings.dev_key:
                keys[hash_key(settings.dev_key)] = Principal(team=DEV_TEAM, key_id="dev")
            metrics = Metrics(metrics_dir)
            await seed(store, settings)  # teams, keys and budgets declared in the config
            budget = BudgetService(store, settings, counter, ledger, metrics.registry)
            await budget.start()
            stack.push_async_callback(budget.close)
            reliability = Reliability(
                settings.config.reliability,
                settings.models,
                metrics.registry,
                first_byte_s=settings.config.server.timeouts.first_byte,
            )
            app.state.services = Services(
                settings=settings,
                upstream=upstream,
                auth=Authenticator(keys, budget.directory),
                metrics=metrics,
                targets=build_targets(settings, base_urls),
                body_limit=settings.config.server.body_limit_bytes,
                store=store,
                ledger=ledger,
                counter=counter,
                router=router,
                reliability=reliability,
                budget=budget,
            )
            stack.callback(install_reload_signal(app.state.services))  # SIGHUP: reload prices
            yield

    app = TokenwiseAPI(
        title="Tokenwise",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the routes are Starlette's; router.api.openapi describes them
        telemetry=NO_TELEMETRY,  # type: ignore[arg-type]
    )
    for route in (
        Route("/v1/chat/completions", chat.chat_completions, methods=["POST"]),
        Route("/v1/responses", responses.create_response, methods=["POST"]),
        Route(
            "/v1/responses/{response_id}",
            stored_responses.stored_response,
            methods=["GET", "DELETE"],
        ),
        Route(
            "/v1/responses/{response_id}/input_items",
            stored_responses.stored_response,
            methods=["GET"],
        ),
        Route("/v1/completions", completions.completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings.embeddings, methods=["POST"]),
        Route("/v1/models", models.list_models, methods=["GET"]),
        Route("/healthz", ops.healthz, methods=["GET"]),
        Route("/readyz", ops.readyz, methods=["GET"]),
        Route("/metrics", ops.metrics, methods=["GET"]),
        Route("/openapi.json", ops.openapi, methods=["GET"]),
        Route("/admin/spend", admin_spend.admin_spend, methods=["GET"]),
        Route("/admin/pricing/reload", ops.reload_prices, methods=["POST"]),
        *admin.routes(),
    ):
        app.router.routes.append(route)
    app.add_exception_handler(ProxyError, errors.on_proxy_error)
    app.add_exception_handler(HTTPException, errors.on_http_error)
    app.add_exception_handler(Exception, errors.on_unexpected)
    return app
