"""The router: classifier + policies + learned token figures + sessions, for one process.

`route_virtual` turns a request for a virtual model (`auto`, `auto-economy`, `auto-quality`,
or any policy's virtual model) into a `Decision`. A request header `x-tokenwise-route` may
force a tier (`tier=hard`) or a policy (`policy=economy`); anything else in it is a 400.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from router.classify.labels import Classification
from router.classify.model import Classifier
from router.config.load import ModelSpec, Settings
from router.errors import InvalidRequest
from router.policy.decide import Decision, decide, expected_cost
from router.policy.load import Policy, load_policies
from router.policy.priors import TokenPriors
from router.policy.schema import TIERS, Tier
from router.policy.session import Sessions, continues, conversation_key

ROUTE_HEADER = "x-tokenwise-route"
VIRTUAL_NAMES = ("auto", "auto-economy", "auto-quality")  # the shipped policies' models
ROLES = frozenset({"small", "reasoner", "large"})
log = logging.getLogger("tokenwise")


def virtual_models_on(
    policies_dir: str | None, roles: Mapping[str, str], model_names: Collection[str]
) -> bool:
    """Whether a server routes virtual models: it has a policies directory of its own, or the
    shipped policies' roles (small, reasoner, large) are mapped or named in its catalog."""
    return policies_dir is not None or bool(roles) or bool(ROLES.intersection(model_names))


class Router:
    def __init__(
        self,
        classifier: Classifier,
        policies: Mapping[str, Policy],
        default_policy: str,
        models: Mapping[str, ModelSpec],
        sessions: Sessions | None,
    ) -> None:
        self.classifier = classifier
        self.policies = dict(policies)
        self.by_virtual = {p.virtual_model: p for p in policies.values()}
        self.default_policy = default_policy
        self.models = models
        self.priors = TokenPriors({name: m.priors for name, m in models.items()})
        self.sessions = sessions

    @classmethod
    def from_settings(cls, settings: Settings, classifier: Classifier) -> Router:
        from router.config.load import ConfigError

        routing = settings.config.routing
        check_roles(settings)
        directory = routing.policies_dir or settings.env.get("TOKENWISE_POLICIES") or None
        sessions = (
            Sessions(routing.session_capacity, routing.session_ttl_s)
            if routing.session_pinning
            else None
        )
        if not virtual_models_on(directory, routing.roles, settings.models):
            # A plain catalog with no roles mapped: the proxy serves catalog models only.
            log.warning(
                "virtual models are off: the shipped policies name roles (%s); map them to "
                "catalog models with routing.roles to route `auto`",
                ", ".join(sorted(ROLES)),
            )
            plain = cls(classifier, {}, routing.default_policy, settings.models, sessions)
            check_policy_names(settings, {}, default=False)
            check_key_models(settings, plain.served())
            return plain
        if directory and not Path(directory).is_dir():
            where = (
                f"{settings.source}: routing.policies_dir"
                if routing.policies_dir
                else "$TOKENWISE_POLICIES"
            )
            raise ConfigError(f"{where}: {directory}: no such directory")
        virtual = [name for name in settings.models if name in VIRTUAL_NAMES]
        if virtual and not directory:  # the shipped policies' virtual models
            raise ConfigError(
                f"{settings.source}: models.{virtual[0]}: the name of a virtual model "
                f"({', '.join(VIRTUAL_NAMES)}); give the catalog model another name"
            )
        policies = load_policies(
            Path(directory) if directory else None, settings.models, routing.roles
        )
        check_policy_names(settings, policies, default=True)
        router = cls(classifier, policies, routing.default_policy, settings.models, sessions)
        check_key_models(settings, router.served())
        return router

    def served(self) -> frozenset[str]:
        """Every model name a request may give: the catalog and the virtual models."""
        return frozenset(self.models) | frozenset(self.by_virtual)

    def virtual_models(self) -> dict[str, str]:
        return {p.virtual_model: p.name for p in self.policies.values()}

    def continuation(
        self, requested: str, body: Mapping[str, Any], model: str, effort: str
    ) -> Decision:
        """The decision for a turn that cannot leave `model` (the upstream, or the proxy, holds
        its conversation there): the classification of this turn, the earlier turn's effort."""
        policy = self.by_virtual[requested]
        c = self.classifier.classify(body, explain=False)
        messages = body.get("messages")
        prompt = prompt_estimate(messages if isinstance(messages, list) else [])
        tokens = self.priors.expected(model, c.category, effort)
        cost = expected_cost(self.models[model], prompt, tokens)
        reason = f"continues previous_response_id on {model}"
        return Decision(
            policy.name, c.category, c.tier, c.difficulty, model, effort, tokens, cost, reason
        )

    def route_virtual(
        self,
        requested: str,
        body: Mapping[str, Any],
        messages: Sequence[Mapping[str, Any]],
        headers: Mapping[str, str],
        team: str = "",
        *,
        policy_override: str | None = None,
        max_effort: str | None = None,
        allowed: Collection[str] | None = None,
        unavailable: frozenset[str] = frozenset(),
        reasoning: bool = False,
        team_policy: str | None = None,
    ) -> tuple[Decision, Classification]:
        """Decide for a virtual model. The team's policy stands in for the default one (`auto`);
        a soft budget may swap the policy and cap the effort; a route header forces either;
        `reasoning`: the client asked for thinking itself, so a model that reasons answers."""
        policy = self.by_virtual[requested]
        if (
            team_policy is not None
            and policy.name == self.default_policy
            and team_policy in self.policies
        ):
            policy = by_team = self.policies[team_policy]
        else:
            by_team = None
        if policy_override is not None and policy_override in self.policies:
            policy = self.policies[policy_override]
        forced_tier, forced_policy = parse_route_header(headers.get(ROUTE_HEADER))
        if forced_policy is not None:
            policy = (
                self.policies[forced_policy]
                if forced_policy in self.policies
                else _no_policy(forced_policy, self.policies)
            )
        c = self.classifier.classify(body, explain=False)
        key = None
        pin = None
        if self.sessions is not None:
            header = headers.get("x-tokenwise-session")
            key = conversation_key(header, messages, body.get("user"), team)
            if key is not None:  # a pin holds within the policy that made it
                key = f"{policy.name}:{key}"
            if key is not None and continues(header, messages):
                pin = self.sessions.get(key)
        decision = decide(
            policy,
            c,
            prompt_estimate(messages),
            self.models,
            self.priors,
            forced_tier=forced_tier,
            pin=pin,
            max_effort=max_effort,
            allowed=allowed,
            unavailable=unavailable,
            reasoning=reasoning,
        )
        if forced_policy is not None:
            forced = f"{decision.reason}, policy forced to {policy.name}"
            decision = replace(decision, reason=forced)
        elif by_team is not None and policy is by_team and by_team.name != self.default_policy:
            decision = replace(decision, reason=f"{decision.reason}, team policy {by_team.name}")
        if key is not None and self.sessions is not None:
            self.sessions.put(key, decision.pin())
        return decision, c


def check_roles(settings: Settings) -> None:
    """Every role in `routing.roles` maps to a catalog model."""
    from router.config.load import ConfigError

    for role, model in settings.config.routing.roles.items():
        if model not in settings.models:
            raise ConfigError(
                f"{settings.source}: routing.roles.{role}: no catalog model named {model!r} "
                f"(models: {', '.join(sorted(settings.models))})"
            )


def check_policy_names(
    settings: Settings, policies: Mapping[str, Policy], *, default: bool
) -> None:
    """Every policy the config names (`default`: the default policy too) is one the router
    has; with virtual models off it has none, so a team or soft-budget policy is an error."""
    from router.config.load import ConfigError

    config = settings.config
    named: list[tuple[str, str | None]] = []
    if default:
        named.append(("routing.default_policy", config.routing.default_policy))
    named += [(f"auth.teams.{i}.policy", t.policy) for i, t in enumerate(config.auth.teams)]
    named += [
        (f"budgets.limits.{i}.soft_policy", b.soft_policy)
        for i, b in enumerate(config.budgets.limits)
    ]
    for where, name in named:
        if name is not None and name not in policies:
            found = (
                f"found: {', '.join(sorted(policies))}"
                if policies
                else "virtual models are off: map routing.roles to use policies"
            )
            raise ConfigError(f"{settings.source}: {where}: no policy named {name!r} ({found})")


def check_key_models(settings: Settings, known: Collection[str]) -> None:
    """Every model a config key's allow-list names is served here (a catalog or virtual one)."""
    from router.config.load import ConfigError

    for i, key in enumerate(settings.config.auth.keys):
        for j, name in enumerate(key.models):
            if name not in known:
                raise ConfigError(
                    f"{settings.source}: auth.keys.{i}.models.{j}: no model named {name!r} "
                    f"(known: {', '.join(sorted(known))})"
                )


def prompt_estimate(messages: Sequence[Mapping[str, Any]]) -> int:
    """Prompt tokens for the cost comparison: characters / 4 (cheap; the same for every model)."""
    chars = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    chars += len(part["text"])
    return chars // 4 + 4 * len(messages)


def parse_route_header(value: str | None) -> tuple[Tier | None, str | None]:
    if not value:
        return None, None
    tier: Tier | None = None
    policy: str | None = None
    for item in value.split(";"):
        name, sep, val = (p.strip() for p in item.partition("="))
        if not name:
            continue
        if name == "tier" and val in TIERS:
            tier = val
        elif name == "policy" and sep and val:
            policy = val
        else:
            raise InvalidRequest(
                f"Invalid {ROUTE_HEADER} header item {item.strip()!r}: use "
                f"'tier=<{'|'.join(TIERS)}>' and/or 'policy=<name>'.",
                param=ROUTE_HEADER,
                code="invalid_route",
            )
    return tier, policy


def _no_policy(name: str, policies: Mapping[str, Policy]) -> Policy:
    raise InvalidRequest(
        f"Unknown policy {name!r} in {ROUTE_HEADER}: known policies are "
        f"{', '.join(sorted(policies))}.",
        param=ROUTE_HEADER,
        code="invalid_route",
    )
