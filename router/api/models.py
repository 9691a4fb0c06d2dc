"""GET /v1/models: the catalog plus the virtual models, in OpenAI's list shape."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from router.api.json import json_response
from router.services import services_of

CREATED = 1_700_000_000


async def list_models(request: Request) -> Response:
    services = services_of(request)
    services.auth.authenticate(request.headers.get("authorization"))
    data = [
        {
            "id": name,
            "object": "model",
            "created": CREATED,
            "owned_by": "tokenwise",
            "description": f"Virtual model: routed by the {policy} policy.",
        }
        for name, policy in services.router.virtual_models().items()
    ]
    for target in services.targets.values():
        model = target.model
        data.append(
            {
                "id": model.name,
                "object": "model",
                "created": CREATED,
                "owned_by": "tokenwise-simulator" if model.simulated else model.provider.name,
                "description": model.description,
                "context_window": model.context_window,
                "reasoning_efforts": list(model.efforts),
            }
        )
    return json_response({"object": "list", "data": data})
