"""What a request handler needs, built once by the app's lifespan and reached through the app.

`Target` is a catalog model with everything the request path would otherwise recompute: the
upstream URLs and the headers that carry the provider's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request

from router.auth import Authenticator
from router.config.load import ModelSpec, Settings
from router.errors import NotFound
from router.ledger.writer import LedgerWriter
from router.metering.tokens import TokenCounter
from router.observability.metrics import Metrics
from router.store.base import Store
from router.upstream.client import Upstream

VIRTUAL_MODELS = {
    "auto": "default",
    "auto-economy": "economy",
    "auto-quality": "quality",
}


@dataclass(frozen=True)
class Target:
    model: ModelSpec
    base_url: str
    headers: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def provider(self) -> str:
        return self.model.provider.name

    def url(self, path: str) -> str:
        return self.base_url + path


@dataclass(frozen=True)
class Route:
    """Where one request goes and why (rendered into `x-tokenwise-route`)."""

    target: Target
    requested: str
    reason: str

    @property
    def virtual(self) -> bool:
        return self.requested in VIRTUAL_MODELS


@dataclass
class Services:
    settings: Settings
    upstream: Upstream
    auth: Authenticator
    metrics: Metrics
    targets: Mapping[str, Target]
    body_limit: int
    store: Store
    ledger: LedgerWriter
    counter: TokenCounter

    def route(self, requested: str) -> Route:
        target = self.targets.get(requested)
        if target is not None:
            return Route(target, requested, "explicit")
        policy = VIRTUAL_MODELS.get(requested)
        if policy is not None:
            default = self.targets[self.settings.default_model]
            return Route(default, requested, f"policy={policy} default-model (no classifier)")
        raise NotFound(
            f"The model '{requested}' does not exist here. GET /v1/models lists the models "
            f"this proxy serves.",
            param="model",
            code="model_not_found",
        )


def build_targets(settings: Settings, base_urls: Mapping[str, str]) -> dict[str, Target]:
    """One `Target` per catalog model; `base_urls` maps each provider to its resolved URL."""
    targets = {}
    for name, model in settings.models.items():
        headers = {"content-type": "application/json"}
        if model.provider.api_key:
            headers["authorization"] = f"Bearer {model.provider.api_key}"
        targets[name] = Target(model, base_urls[model.provider.name], headers)
    return targets


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
