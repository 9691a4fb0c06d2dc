"""What a request handler needs, built once by the app's lifespan and reached through the app.

`Target` is a catalog model with everything the request path would otherwise recompute: the
upstream URLs and the headers that carry the provider's key.
"""

from __future__ import annotations

import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from router.auth import Authenticator
from router.budget.service import BudgetService
from router.config.load import ModelSpec, Settings
from router.errors import NotFound
from router.ledger.writer import LedgerWriter
from router.metering.tokens import TokenCounter
from router.observability.metrics import Metrics
from router.policy.decide import Decision
from router.policy.router import VIRTUAL_NAMES, Router
from router.providers.base import bearer_headers
from router.reliability.service import Reliability
from router.store.base import Store
from router.upstream.client import Upstream, tls_context


@dataclass(frozen=True)
class Target:
    model: ModelSpec
    base_url: str
    headers: Mapping[str, str] = field(repr=False)  # they carry the provider's key
    tls: ssl.SSLContext | None = None  # the provider's ca_bundle; None: the system's CAs

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
    decision: Decision | None = None


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
    router: Router
    reliability: Reliability  # retries, fallbacks, breakers, shedding (router.reliability)
    budget: BudgetService | None = None  # reservations and rate limits (router.budget)

    def route(
        self,
        requested: str,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        team: str = "",
        *,
        policy_override: str | None = None,
        max_effort: str | None = None,
        allowed: Collection[str] | None = None,
        reasoning: bool = False,
        team_policy: str | None = None,
    ) -> Route:
        """An explicit catalog model goes where it says; a virtual model is decided by policy,
        among the `allowed` models when the caller's key has an allow-list, and among models
        that reason when the client asked for `reasoning`; `team_policy` (the caller's team's
        policy) stands in for the default policy."""
        target = self.targets.get(requested)
        if target is not None:
            return Route(target, requested, "explicit")
        if requested in self.router.by_virtual and body is not None:
            messages = body.get("messages")
            decision, _ = self.router.route_virtual(
                requested,
                body,
                messages if isinstance(messages, list) else [],
                headers or {},
                team,
                policy_override=policy_override,
                max_effort=max_effort,
                allowed=allowed,
                unavailable=self.reliability.unavailable(),
                reasoning=reasoning,
                team_policy=team_policy,
            )
            self.metrics.decision(
                decision.policy, decision.category, decision.tier, decision.model, decision.effort
            )
            return Route(self.targets[decision.model], requested, decision.reason, decision)
        if requested in VIRTUAL_NAMES and not self.router.policies:
            raise NotFound(
                f"The virtual model '{requested}' is off in this configuration: map the roles "
                "its policy names (small, reasoner, large) to catalog models in routing.roles.",
                param="model",
                code="model_not_found",
            )
        raise model_not_found(requested)

    def continued(
        self, requested: str, body: Mapping[str, Any], model: str, effort: str | None
    ) -> Route:
        """A turn that stays on `model`, which holds its conversation (`previous_response_id`).
        Asked for by a virtual model, it is still classified, so `x-tokenwise-route` and the
        learned token figures say what it was; model and effort are the earlier turn's."""
        target = self.targets[model]
        if requested not in self.router.by_virtual:
            return Route(target, requested, "previous_response_id")
        decision = self.router.continuation(requested, body, model, effort or "none")
        self.metrics.decision(
            decision.policy, decision.category, decision.tier, decision.model, decision.effort
        )
        return Route(target, requested, decision.reason, decision)


def build_targets(settings: Settings, base_urls: Mapping[str, str]) -> dict[str, Target]:
    """One `Target` per catalog model; `base_urls` maps each provider to its resolved URL."""
    targets = {}
    for name, model in settings.models.items():
        headers = bearer_headers(model.provider.api_key)
        tls = tls_context(model.provider.ca_bundle)
        targets[name] = Target(model, base_urls[model.provider.name], headers, tls)
    return targets


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


NAME_SHOWN = 200  # characters of an unknown model's name the error repeats


def model_not_found(name: str) -> NotFound:
    shown = name if len(name) <= NAME_SHOWN else name[:NAME_SHOWN] + "..."
    return NotFound(
        f"The model '{shown}' does not exist here. GET /v1/models lists the models this proxy "
        "serves.",
        param="model",
        code="model_not_found",
    )
