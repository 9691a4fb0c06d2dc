"""Load every policy file and dry-run it against the catalog: a bad policy does not boot.

Files come from `routing.policies_dir` (or `$TOKENWISE_POLICIES`), else the policies shipped in
the package. Every candidate must name a catalog model or a role the config maps
(`routing.roles`), and that model must support the effort named (`none` needs a model that
can answer without reasoning); every tier needs an `any` list with at least one candidate at or
above its floor. Each failure names the file and the key path.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from router.config.load import ConfigError, ModelSpec
from router.config.yamltext import parse_yaml, read_text
from router.policy.schema import ANY, CATEGORIES, TIERS, PolicyFile, Tier


@dataclass(frozen=True)
class Candidate:
    model: str
    effort: str
    quality: float
    fallbacks: tuple[str, ...] = ()  # catalog models, in order


@dataclass(frozen=True)
class Policy:
    name: str
    virtual_model: str
    reference: str
    floors: Mapping[Tier, float]
    tiers: Mapping[Tier, Mapping[str, tuple[Candidate, ...]]]
    source: str

    def candidates(self, tier: Tier, category: str) -> tuple[Candidate, ...]:
        by_category = self.tiers[tier]
        return by_category.get(category) or by_category[ANY]


def policy_files(directory: Path | None) -> dict[str, tuple[str, str]]:
    """name -> (source label, YAML text), from a directory or from the package."""
    found: dict[str, tuple[str, str]] = {}
    if directory is not None:
        if not directory.is_dir():
            raise ConfigError(f"{directory}: policies directory not found")
        for path in sorted(directory.glob("*.yaml")):
            try:
                found[path.stem] = (str(path), read_text(path))
            except ValueError as exc:  # not UTF-8
                raise ConfigError(str(exc)) from None
        return found
    root = importlib.resources.files("router") / "data" / "policies"
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            found[entry.name[:-5]] = (f"policies/{entry.name}", entry.read_text("utf-8"))
    return found


def load_policies(
    directory: Path | None, models: Mapping[str, ModelSpec], roles: Mapping[str, str]
) -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    for name, (source, text) in policy_files(directory).items():
        policies[name] = parse_policy(name, source, text, models, roles)
    if not policies:
        raise ConfigError(f"{directory or 'policies/'}: no policy files (*.yaml) found")
    seen: dict[str, str] = {}
    for policy in policies.values():
        if policy.virtual_model in seen:
            raise ConfigError(
                f"{policy.source}: virtual_model: {policy.virtual_model!r} is also the virtual "
                f"model of {seen[policy.virtual_model]}"
            )
        if policy.virtual_model in models:
            raise ConfigError(
                f"{policy.source}: virtual_model: {policy.virtual_model!r} is a catalog model"
            )
        seen[policy.virtual_model] = policy.source
    return policies


def parse_policy(
    name: str, source: str, text: str, models: Mapping[str, ModelSpec], roles: Mapping[str, str]
) -> Policy:
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    try:
        parsed = PolicyFile.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"{source}: {where}: {message}") from None

    def resolve(label: str, where: str) -> ModelSpec:
        model_name = roles.get(label, label)
        model = models.get(model_name)
        if model is None:
            known = ", ".join(sorted(roles)) or "none"
            raise ConfigError(
                f"{source}: {where}: {label!r} is neither a catalog model nor a role "
                f"(roles in routing.roles: {known})"
            )
        return model

    floors = {tier: parsed.floors.get(tier, parsed.floor) for tier in TIERS}
    tiers: dict[Tier, dict[str, tuple[Candidate, ...]]] = {}
    for tier in TIERS:
        by_category = parsed.tiers.get(tier)
        if not by_category or not by_category.get(ANY):
            raise ConfigError(f"{source}: tiers.{tier}.any: every tier needs an 'any' list")
        resolved: dict[str, tuple[Candidate, ...]] = {}
        for category, candidates in by_category.items():
            if category != ANY and category not in CATEGORIES:
                raise ConfigError(
                    f"{source}: tiers.{tier}.{category}: unknown category "
                    f"(use any, {', '.join(CATEGORIES)})"
                )
            out = []
            for i, c in enumerate(candidates):
                where = f"tiers.{tier}.{category}.{i}"
                model = resolve(c.model, f"{where}.model")
                check_effort(model, c.effort, source, f"{where}.effort")
                # Roles may name one model twice (reasoner = large): a fallback that is the
                # candidate itself, or a repeat, is left out.
                named = (
                    resolve(f, f"{where}.fallbacks.{j}").name for j, f in enumerate(c.fallbacks)
                )
                fallbacks = tuple(n for n in dict.fromkeys(named) if n != model.name)
                out.append(Candidate(model.name, c.effort, c.quality, fallbacks))
            if not any(c.quality >= floors[tier] for c in out):
                raise ConfigError(
                    f"{source}: tiers.{tier}.{category}: no candidate reaches the floor "
                    f"{floors[tier]:g}"
                )
            resolved[category] = tuple(out)
        tiers[tier] = resolved
    reference = resolve(parsed.reference, "reference").name
    return Policy(name, parsed.virtual_model, reference, floors, tiers, source)


def check_effort(model: ModelSpec, effort: str, source: str, where: str) -> None:
    if effort == "none":
        if model.efforts and not model.can_disable:
            raise ConfigError(
                f"{source}: {where}: {model.name} cannot answer without reasoning "
                f"(supported: {', '.join(model.efforts)})"
            )
        return
    if effort not in model.efforts:
        supported = ", ".join(model.efforts) or "none (not a reasoning model)"
        raise ConfigError(
            f"{source}: {where}: {model.name} does not support effort {effort!r} "
            f"(supported: {supported})"
        )
