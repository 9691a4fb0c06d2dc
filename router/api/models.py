"""GET /v1/models: the catalog plus the virtual models, in OpenAI's list shape; GET
/v1/models/{model}: one of them (what `client.models.retrieve` asks for)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from router.api.json import json_response
from router.services import Services, model_not_found, services_of

CREATED = 1_700_000_000


def model_objects(services: Services) -> dict[str, dict[str, Any]]:
    """Every model this proxy serves, by name: virtual models first, then the catalog."""
    objects: dict[str, dict[str, Any]] = {
        name: {
            "id": name,
            "object": "model",
            "created": CREATED,
            "owned_by": "tokenwise",
            "description": f"Virtual model: routed by the {policy} policy.",
        }
        for name, policy in services.router.virtual_models().items()
    }
    for target in services.targets.values():
        model = target.model
        objects[model.name] = {
            "id": model.name,
            "object": "model",
            "created": CREATED,
            "owned_by": "tokenwise-simulator" if model.simulated else model.provider.name,
            "description": model.description,
            "context_window": model.context_window,
            "reasoning_efforts": list(model.efforts),
        }
    return objects


def visible(request: Request) -> dict[str, dict[str, Any]]:
    """The models the caller's key may use, as OpenAI lists them: a key with an allow-list sees
    the catalog models on it, and the virtual models (they route among those)."""
    services = services_of(request)
    principal = services.auth.authenticate(request.headers.get("authorization"))
    virtual = services.router.virtual_models()
    return {
        name: found
        for name, found in model_objects(services).items()
        if name in virtual or principal.allows(name)
    }


async def list_models(request: Request) -> Response:
    return json_response({"object": "list", "data": list(visible(request).values())})


async def retrieve_model(request: Request) -> Response:
    name = request.path_params["model"]
    found = visible(request).get(name)
    if found is None:
        raise model_not_found(name)
    return json_response(found)
