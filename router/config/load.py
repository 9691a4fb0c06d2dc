"""Resolve the configuration into `Settings`: providers, models with their prices and
reasoning, keys and secrets from the environment, the state folder.

The file is found and read by `router.config.read` (else the embedded default, the
simulator's catalog, see `router.config.default`). Every failure is a `ConfigError` whose
message starts with the file and the key path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from router.auth import Principal, dev_key, hash_key
from router.budget.validate import problems as budget_problems
from router.config.read import ConfigError as ConfigError  # where the load fails, for callers
from router.config.read import config_path, read_config
from router.config.schema import SIMULATOR_URL, Config, Reasoning
from router.metering.pricing import (
    ModelPrice,
    PriceNotFound,
    PriceTable,
    PricingError,
    load_pricing,
)
from router.policy.priors import ModelPriors
from router.providers.registry import default_usage
from router.reasoning.effort import DEFAULT_BUDGETS, Effort, validate_budgets
from router.reliability.plan import problems as reliability_problems

EMBEDDED = "<embedded default>"
NATIVE_APIS = {"openai": ("chat", "responses", "completions")}
MASTER_KEY_ENV = "TOKENWISE_MASTER_KEY"


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    base_url: str
    api_key: str | None = field(repr=False)  # never in a repr, a log line or a traceback
    dialect: str
    usage: str = "openai_chat"
    strict: bool = False
    apis: tuple[str, ...] = ("chat",)
    ca_bundle: str | None = None

    @property
    def simulated(self) -> bool:
        return self.base_url == SIMULATOR_URL


@dataclass(frozen=True)
class ReasoningSpec:
    """A reasoning model's `reasoning` block, resolved (see the README, "Reasoning")."""

    efforts: tuple[Effort, ...]
    can_disable: bool
    budgets: Mapping[Effort, int]  # the default table with the entry's overrides, validated
    output_field: str | None  # None: where the dialect usually puts it
    min_visible_tokens: int
    max_output_tokens: int | None
    adaptive_only: bool
    template_kwarg: str | None = None  # None: the dialect's (vLLM/SGLang: enable_thinking)
    think_opened_by_template: bool = False  # a thinking answer starts inside `<think>`


@dataclass(frozen=True)
class ModelSpec:
    name: str
    provider: ProviderSpec
    upstream_id: str
    context_window: int
    efforts: tuple[str, ...]
    can_disable: bool
    simulated: bool
    description: str
    price: ModelPrice
    priors: ModelPriors
    reasoning: ReasoningSpec | None = None  # None: not a reasoning model
    apis: tuple[str, ...] = ("chat",)  # the OpenAI APIs the upstream serves natively


@dataclass(frozen=True)
class Settings:
    config: Config
    source: str
    home: Path
    models: Mapping[str, ModelSpec]
    keys: Mapping[str, Principal]
    default_model: str
    prices: PriceTable
    # Secrets (and the environment that holds provider keys) stay out of every repr.
    dev_key: str | None = field(default=None, repr=False)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    master_key: str | None = field(default=None, repr=False)  # the admin API's key
    metrics_token: str | None = field(default=None, repr=False)  # server.metrics_token_env

    @property
    def uses_simulator(self) -> bool:
        return any(m.provider.simulated for m in self.models.values())


def load_settings(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    *,
    serving: bool = True,
) -> Settings:
    """The settings; `serving=False` (commands that serve nothing) makes no development key."""
    env = dict(os.environ if env is None else env)
    cwd = cwd or Path.cwd()
    path = config_path(explicit, env, cwd)
    if path is None:
        from router.config.default import embedded_config

        config, source = embedded_config(), EMBEDDED
    else:
        config, source = read_config(path), str(path)
    home = Path(env.get("TOKENWISE_HOME") or cwd / ".tokenwise")
    prices = load_prices(config, source, env)
    settings = resolve(config, source, env, home, prices)
    if serving:
        usable_home(home, "$TOKENWISE_HOME" if env.get("TOKENWISE_HOME") else "the state folder")
    if (
        serving
        and not settings.keys
        and (settings.master_key is None or env.get("TOKENWISE_DEV_KEY"))
    ):
        # No key declared and no admin to make some: one development key, fixed by
        # $TOKENWISE_DEV_KEY or kept under home.
        settings = replace(settings, dev_key=dev_key(home, env))
    return settings


def usable_home(home: Path, name: str) -> None:
    """The state folder (store, ledger spool, budget journals) exists, made if need be, and
    takes files; else a ConfigError that names it."""
    probe = home / f".write-test-{os.getpid()}"
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"{name} {home} cannot be used ({exc.strerror or exc}): point TOKENWISE_HOME at a "
            "folder this user can create and write"
        ) from None


def load_prices(config: Config, source: str, env: Mapping[str, str]) -> PriceTable:
    path = config.metering.pricing_file or env.get("TOKENWISE_PRICING") or None
    try:
        return load_pricing(path)
    except PricingError as exc:
        if config.metering.pricing_file:
            where = f"{source}: metering.pricing_file"
        elif env.get("TOKENWISE_PRICING"):
            where = "$TOKENWISE_PRICING"
        else:
            where = f"{source}: pricing"
        raise ConfigError(f"{where}: {exc}") from None


def resolve(
    config: Config, source: str, env: Mapping[str, str], home: Path, prices: PriceTable
) -> Settings:
    providers = {name: _provider(name, p, source, env) for name, p in config.providers.items()}
    models: dict[str, ModelSpec] = {}
    for name, m in config.models.items():
        if m.provider not in providers:
            known = ", ".join(sorted(providers)) or "none configured"
            raise ConfigError(
                f"{source}: models.{name}.provider: unknown provider {m.provider!r} "
                f"(known: {known})"
            )
        provider = providers[m.provider]
        reasoning = m.reasoning
        price_key = m.price or name
        try:
            price = prices.lookup(price_key, provider.name)
        except PriceNotFound as exc:
            raise ConfigError(
                f"{source}: models.{name}.price: {exc} (add it to the price file, or point "
                "`price` at an entry that has one)"
            ) from None
        models[name] = ModelSpec(
            name=name,
            provider=provider,
            upstream_id=m.upstream_id or name,
            context_window=m.context_window,
            efforts=reasoning.efforts if reasoning else (),
            can_disable=reasoning.can_disable if reasoning else True,
            simulated=m.simulated or provider.simulated,
            description=m.description,
            price=price,
            priors=ModelPriors(
                answer=dict(m.token_priors.answer) if m.token_priors else {},
                reasoning=dict(m.token_priors.reasoning) if m.token_priors else {},
                reasons=bool(reasoning and reasoning.efforts),
            ),
            reasoning=_reasoning(reasoning, f"{source}: models.{name}.reasoning"),
            apis=_apis(m.apis or provider.apis, f"{source}: models.{name}.apis"),
        )
    if not models:
        raise ConfigError(f"{source}: models: at least one model must be configured")
    default_model = config.routing.default_model or next(iter(models))
    if default_model not in models:
        raise ConfigError(f"{source}: routing.default_model: unknown model {default_model!r}")
    keys = _static_keys(config, source, env)
    for where, problem in budget_problems(config):
        raise ConfigError(f"{source}: {where}: {problem}")
    for where, problem in reliability_problems(config.reliability, models):
        raise ConfigError(f"{source}: {where}: {problem}")
    return Settings(
        config=config,
        source=source,
        home=home,
        models=models,
        keys=keys,
        default_model=default_model,
        prices=prices,
        env=env,
        master_key=_master_key(config, source, env),
        metrics_token=_metrics_token(config, source, env),
    )


def _provider(name: str, p: Any, source: str, env: Mapping[str, str]) -> ProviderSpec:
    api_key = None
    if p.api_key_env:
        api_key = env.get(p.api_key_env)
        if not api_key:
            raise ConfigError(
                f"{source}: providers.{name}.api_key_env: environment variable "
                f"{p.api_key_env} is not set (it holds the provider's API key)"
            )
    base_url = p.base_url.rstrip("/")
    if base_url != SIMULATOR_URL and not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{source}: providers.{name}.base_url: must start with http:// or https:// "
            f"(or be {SIMULATOR_URL})"
        )
    usage = p.usage if "usage" in p.model_fields_set else default_usage(p.dialect)
    if p.ca_bundle is not None and not Path(p.ca_bundle).is_file():
        raise ConfigError(
            f"{source}: providers.{name}.ca_bundle: {p.ca_bundle} is not a file "
            "(a PEM file of the certificate authorities to trust)"
        )
    return ProviderSpec(
        name=name,
        base_url=base_url,
        api_key=api_key,
        dialect=p.dialect,
        usage=usage,
        strict=p.strict,
        apis=_apis(
            p.apis or NATIVE_APIS.get(p.dialect, ("chat",)), f"{source}: providers.{name}.apis"
        ),
        ca_bundle=p.ca_bundle,
    )


def _apis(apis: tuple[str, ...], where: str) -> tuple[str, ...]:
    if "chat" not in apis:
        raise ConfigError(f"{where}: must include chat (every upstream serves chat completions)")
    return tuple(dict.fromkeys(apis))


def _reasoning(r: Reasoning | None, where: str) -> ReasoningSpec | None:
    if r is None:
        return None
    budgets = {**DEFAULT_BUDGETS, **r.budgets}
    try:
        validate_budgets(budgets)
    except ValueError as exc:
        raise ConfigError(f"{where}.budgets: {exc}") from None
    if r.max_output_tokens is not None and r.max_output_tokens <= r.min_visible_tokens:
        raise ConfigError(f"{where}.max_output_tokens: must be above min_visible_tokens")
    if r.think_opened_by_template and r.output_field != "think_tags":
        raise ConfigError(
            f"{where}.think_opened_by_template: only for reasoning inline in the content; "
            "set output_field: think_tags"
        )
    return ReasoningSpec(
        efforts=r.efforts,
        can_disable=r.can_disable,
        budgets=budgets,
        output_field=r.output_field,
        min_visible_tokens=r.min_visible_tokens,
        max_output_tokens=r.max_output_tokens,
        adaptive_only=r.adaptive_only,
        template_kwarg=r.template_kwarg,
        think_opened_by_template=r.think_opened_by_template,
    )


def _static_keys(config: Config, source: str, env: Mapping[str, str]) -> dict[str, Principal]:
    keys: dict[str, Principal] = {}
    policies = {t.name: t.policy for t in config.auth.teams}
    for i, k in enumerate(config.auth.keys):
        where = f"{source}: auth.keys.{i}"
        if (k.key_sha256 is None) == (k.key_env is None):
            raise ConfigError(f"{where}: give exactly one of key_sha256 or key_env")
        if k.key_env is not None:
            secret = env.get(k.key_env)
            if not secret:
                raise ConfigError(f"{where}.key_env: environment variable {k.key_env} is not set")
            digest = hash_key(secret)
        else:
            digest = k.key_sha256 or ""
        if digest in keys:
            first = next(j for j, d in enumerate(keys) if d == digest)
            raise ConfigError(f"{where}: the same key as auth.keys.{first}")
        key_id = k.name or f"static-{i}"
        if any(p.key_id == key_id for p in keys.values()):
            raise ConfigError(f"{where}.name: another key is already named {key_id!r}")
        keys[digest] = Principal(
            team=k.team,
            key_id=key_id,
            models=k.models,
            rpm=k.rpm,
            tpm=k.tpm,
            expires_at=k.expires_at,
            policy=policies.get(k.team),
        )
    return keys


def _master_key(config: Config, source: str, env: Mapping[str, str]) -> str | None:
    """The admin API's key: the variable `auth.master_key_env` names, else TOKENWISE_MASTER_KEY."""
    name = config.auth.master_key_env
    if name is None:
        return env.get(MASTER_KEY_ENV) or None
    value = env.get(name)
    if not value:
        raise ConfigError(
            f"{source}: auth.master_key_env: environment variable {name} is not set "
            "(it holds the admin API's master key)"
        )
    return value


def _metrics_token(config: Config, source: str, env: Mapping[str, str]) -> str | None:
    """The bearer token /metrics requires: the variable `server.metrics_token_env` names."""
    name = config.server.metrics_token_env
    if name is None:
        return None
    value = env.get(name)
    if not value:
        raise ConfigError(
            f"{source}: server.metrics_token_env: environment variable {name} is not set "
            "(it holds the token /metrics requires)"
        )
    return value
