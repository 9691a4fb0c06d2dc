"""Operations endpoints: liveness, readiness and Prometheus exposition."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from router.api.json import json_response
from router.observability.metrics import CONTENT_TYPE
from router.services import services_of


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    services = getattr(request.app.state, "services", None)
    if services is None:
        return json_response({"status": "starting"}, status=503)
    return json_response(
        {
            "status": "ready",
            "config": services.settings.source,
            "models": len(services.targets),
            "simulated": services.settings.uses_simulator,
        }
    )


async def metrics(request: Request) -> Response:
    return Response(services_of(request).metrics.exposition(), media_type=CONTENT_TYPE)
