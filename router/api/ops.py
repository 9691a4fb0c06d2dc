"""Operations endpoints: liveness, readiness, Prometheus exposition, price reload, the
OpenAPI document."""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from router.api.admin import require_master
from router.api.json import json_response
from router.api.openapi import document
from router.auth import bearer_token, hash_key
from router.errors import AuthenticationFailed, InvalidRequest, ProxyError
from router.metering.reload import ReloadError, reload_pricing
from router.observability.metrics import CONTENT_TYPE
from router.observability.scrape import STORE_TIMEOUT, refresh_gauges
from router.services import Services, services_of
from router.store.base import Store


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready once started; the detail says each upstream's circuit breaker state and whether the
    store answers. A store that does not answer leaves the proxy ready: requests that need no
    budget are still served, the ledger waits in its spool, and taking every replica out of a
    balancer would stop all traffic."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        return json_response({"status": "starting"}, status=503)
    return json_response(
        {
            "status": "ready",
            "config": services.settings.source,
            "models": len(services.targets),
            "simulated": services.settings.uses_simulator,
            "in_flight": services.reliability.in_flight,
            "upstreams": services.reliability.breakers.snapshot(services.reliability.clock()),
            "store": await store_health(services.store),
            "backlog": backlog(services),
            "disk": disk(services),
        }
    )


async def store_health(store: Store) -> dict[str, Any]:
    """One read of the store: whether it answered within STORE_TIMEOUT (what a scrape waits for
    it too), and how fast."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(store.get_state("tokenwise:readyz"), STORE_TIMEOUT)
    except Exception as exc:  # down, slow (TimeoutError) or refusing: said, never raised
        return {"reachable": False, "error": type(exc).__name__}
    return {"reachable": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


def backlog(services: Services) -> dict[str, int]:
    """What waits for the store: ledger records not yet written, settlements to retry."""
    budget = services.budget
    pending = budget.settler.pending if budget is not None else 0
    return {"ledger_records": services.ledger.backlog, "pending_settles": pending}


def disk(services: Services) -> dict[str, int]:
    """Lines the disk refused since start: ledger records then wait in memory only, budget
    reservations are not recovered after a crash (router.owned_file)."""
    budget = services.budget
    return {
        "ledger_spool_write_errors": services.ledger.spool.write_errors,
        "budget_journal_write_errors": budget.journal.write_errors if budget is not None else 0,
    }


async def metrics(request: Request) -> Response:
    """GET /metrics: the Prometheus exposition; behind a bearer token when
    `server.metrics_token_env` names one."""
    services = services_of(request)
    token = services.settings.metrics_token
    if token is not None:
        given = bearer_token(request.headers.get("authorization"))
        if not hmac.compare_digest(hash_key(given), hash_key(token)):
            raise AuthenticationFailed(
                "/metrics needs the metrics token (server.metrics_token_env).",
                code="invalid_api_key",
            )
    await refresh_gauges(services.metrics, services.store, services.ledger.backlog)
    services.metrics.learned(services.router.priors.learned())
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE)


async def reload_prices(request: Request) -> Response:
    """POST /admin/pricing/reload (master key): read the price file again, or keep the old."""
    services = require_master(request)
    try:
        done = reload_pricing(services)
    except ReloadError as exc:
        raise InvalidRequest(
            f"The price file was not loaded; the previous prices stay in force. {exc}",
            code="invalid_pricing_file",
        ) from None
    return json_response(
        {"status": "reloaded", "path": done.path, "models": done.models, "changed": done.changed}
    )


async def openapi(request: Request) -> Response:
    """GET /openapi.json: the public API; with a valid API key, also the models served (the
    catalog is not shown to anyone without a key, as in /v1/models)."""
    services = services_of(request)
    try:
        await services.auth.resolve(request.headers.get("authorization"))
    except ProxyError:
        return json_response(document())
    return json_response(document([*services.router.virtual_models(), *services.targets]))
