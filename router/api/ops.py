"""Operations endpoints: liveness, readiness, Prometheus exposition, price reload."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from router.api.admin import require_master
from router.api.json import json_response
from router.errors import InvalidRequest
from router.metering.reload import ReloadError, reload_pricing
from router.observability.metrics import CONTENT_TYPE
from router.observability.scrape import refresh_gauges
from router.services import services_of


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready once started; the detail says each upstream's circuit breaker state."""
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
        }
    )


async def metrics(request: Request) -> Response:
    services = services_of(request)
    await refresh_gauges(services.metrics, services.store, services.ledger.backlog)
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
