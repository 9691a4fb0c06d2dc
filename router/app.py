"""Assemble the ASGI app: `create_app(settings)`. Nothing here runs at import time.

The lifespan owns everything with a life of its own: the upstream connection pool, the
in-process simulator (embedded default), the metrics registry.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial

from fastapi import FastAPI
from starlette.routing import Route
from starlette.types import ASGIApp

from router import __version__, heap
from router.api import (
    admin,
    admin_spend,
    chat,
    completions,
    embeddings,
    models,
    ops,
    responses,
    stored_responses,
)
from router.api.edge import Edge, Endpoint
from router.auth import DEV_TEAM, Authenticator, Principal, hash_key
from router.budget.seed import SeedError, seed
from router.budget.service import BudgetService
from router.classify.model import load_classifier
from router.config.load import ConfigError, Settings
from router.config.schema import SIMULATOR_URL
from router.ledger.writer import LedgerWriter
from router.metering.reload import install_reload_signal
from router.metering.tokens import default_counter
from router.observability import redact
from router.observability.metrics import Metrics
from router.observability.multiproc import forget_process, multiprocess_dir
from router.policy.priors import NAMESPACE as PRIORS
from router.policy.priors_sync import PriorsSync
from router.policy.router import Router
from router.reliability.service import Reliability
from router.services import Services, build_targets
from router.simhost import InProcessSimulator
from router.store.base import StoreUnavailable
from router.store.open import open_store
from router.upstream.client import Upstream


class TokenwiseAPI(FastAPI):
    """FastAPI with one layer in front of its routes: the edge (router/api/edge.py).

    The proxy has no dependencies with `yield`, no uploaded files and its own body limit, so
    FastAPI's and Starlette's layers (error and exception middlewares, telemetry, body limit,
    exit stack, per-route wrappers) would only cost time on every request: the edge calls the
    fixed-path endpoints itself and hands the rest to the router.
    """

    endpoints: dict[tuple[str, str], Endpoint]

    def build_middleware_stack(self) -> ASGIApp:
        return Edge(self.router, self.endpoints)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the process holds: provider keys, the master key, the metrics token."""
    found = [m.provider.api_key for m in settings.models.values()]
    found += [settings.master_key, settings.metrics_token]
    return [s for s in found if s]


NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


# The endpoints with a fixed path, called by the edge directly (also in the router, so that a
# wrong method gets Starlette's 405).
FIXED: tuple[tuple[str, tuple[str, ...], Endpoint], ...] = (
    ("/v1/chat/completions", ("POST",), chat.chat_completions),
    ("/v1/responses", ("POST",), responses.create_response),
    ("/v1/completions", ("POST",), completions.completions),
    ("/v1/embeddings", ("POST",), embeddings.embeddings),
    ("/v1/models", ("GET",), models.list_models),
    ("/healthz", ("GET",), ops.healthz),
    ("/readyz", ("GET",), ops.readyz),
    ("/metrics", ("GET",), ops.metrics),
    ("/openapi.json", ("GET",), ops.openapi),
    ("/admin/spend", ("GET",), admin_spend.admin_spend),
    ("/admin/pricing/reload", ("POST",), ops.reload_prices),
)


# What makes start-up fail with a message that says what to fix (file and key): no traceback.
STARTUP_ERRORS = (ConfigError, SeedError, StoreUnavailable)


async def start(app: FastAPI, settings: Settings, stack: AsyncExitStack) -> None:
    """Open everything the app serves with, each closed by `stack`; the services go to
    `app.state.services`."""
    stack.callback(redact.install(secrets_of(settings)))  # no secret in any log line
    stack.callback(heap.thaw)
    router = Router.from_settings(settings, load_classifier())
    base_urls = {m.provider.name: m.provider.base_url for m in settings.models.values()}
    if settings.uses_simulator:
        simulator = InProcessSimulator()
        sim_url = await simulator.start()
        stack.push_async_callback(simulator.stop)
        base_urls = {k: sim_url if v == SIMULATOR_URL else v for k, v in base_urls.items()}
    try:
        store = await open_store(settings.config.store.url, settings.home)
    except (ValueError, StoreUnavailable, sqlite3.DatabaseError) as exc:
        where = "store.url" if settings.config.store.url else "the default store ($TOKENWISE_HOME)"
        raise ConfigError(f"{settings.source}: {where}: {exc}") from exc
    stack.push_async_callback(store.close)
    ledger = LedgerWriter(store, settings.home / "spool")
    await ledger.start()
    stack.push_async_callback(ledger.close)
    router.priors.load(await store.get_state(PRIORS))
    stack.push_async_callback(PriorsSync(router.priors, store).stop)
    counter = default_counter()
    # Load the usual encoding off the event loop now, not on the first unmetered stream.
    warming = asyncio.get_running_loop().run_in_executor(None, counter.warm, "o200k_base")
    warming.add_done_callback(lambda _: heap.freeze())  # the vocabulary, once loaded
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
    ledger.spool.on_refused = partial(metrics.disk_refused, "ledger_spool")
    await seed(store, settings)  # teams, keys and budgets declared in the config
    budget = BudgetService(store, settings, counter, ledger, metrics.registry)
    budget.journal.on_refused = partial(metrics.disk_refused, "budget_journal")
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
    heap.freeze()  # the start-up heap lives as long as the process (router/heap.py)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything opened is closed again in reverse order, also when start-up fails midway.
        async with AsyncExitStack() as stack:
            try:
                await start(app, settings, stack)
            except STARTUP_ERRORS as exc:
                app.state.startup_error = str(exc)
                raise
            app.state.serving = True
            yield
        app.state.stopped_cleanly = True  # settled, flushed, closed

    app = TokenwiseAPI(
        title="Tokenwise",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the routes are Starlette's; router.api.openapi describes them
        telemetry=NO_TELEMETRY,  # type: ignore[arg-type]
    )
    # A path with a trailing slash is one the proxy does not serve (404 `unknown_url`), not a
    # redirect built from the client's Host header.
    app.router.redirect_slashes = False
    app.endpoints = {}
    for path, methods, endpoint in FIXED:
        app.router.routes.append(Route(path, endpoint, methods=list(methods)))
        for method in methods:
            app.endpoints[(method, path)] = endpoint
    for route in (
        Route(
            "/v1/responses/{response_id}",
            stored_responses.stored_response,
            methods=["GET", "DELETE"],
        ),
        Route("/v1/models/{model:path}", models.retrieve_model, methods=["GET"]),
        Route(
            "/v1/responses/{response_id}/input_items",
            stored_responses.stored_response,
            methods=["GET"],
        ),
        *admin.routes(),
    ):
        app.router.routes.append(route)
    return app
