"""Policy validation: every mistake fails start-up with the file and the key path named."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.config.load import ConfigError, load_settings
from router.policy.load import load_policies, parse_policy
from tests.unit.policy.catalog import MODELS, ROLES

BASE = """
virtual_model: auto
reference: large
floor: 0.7
tiers:
  trivial: {any: [{model: small}]}
  simple: {any: [{model: small}]}
  moderate: {any: [{model: reasoner, effort: medium}]}
  hard: {any: [{model: large, effort: high}]}
"""


def parse(text: str) -> object:
    return parse_policy("p", "policies/p.yaml", text, MODELS, ROLES)


def test_base_policy_is_valid() -> None:
    policy = parse(BASE)
    assert policy.candidates("hard", "math")[0].model == "big"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("model: small}]}\n  simple", "model: tiny}]}\n  simple"),
            "policies/p.yaml: tiers.trivial.any.0.model: 'tiny' is neither a catalog model",
        ),
        (
            ("effort: high", "effort: xhigh"),
            "policies/p.yaml: tiers.hard.any.0.effort: big does not support effort 'xhigh' "
            "(supported: low, medium, high)",
        ),
        (
            ("model: reasoner, effort: medium", "model: reasoner"),
            "policies/p.yaml: tiers.moderate.any.0.effort: mini cannot answer without reasoning",
        ),
        (
            ("model: small}]}\n  simple", "model: small, effort: low}]}\n  simple"),
            "policies/p.yaml: tiers.trivial.any.0.effort: small does not support effort 'low' "
            "(supported: none (not a reasoning model))",
        ),
        (("reference: large", "reference: huge"), "policies/p.yaml: reference: 'huge'"),
        (("reference: large", "reference: large\nflor: 0.5"), "policies/p.yaml: flor: unknown key"),
        (("hard: {any:", "hard: {math:"), "policies/p.yaml: tiers.hard.any: every tier needs"),
        (
            ("trivial: {any", "trivial: {any: [{model: small}], poetry"),
            "policies/p.yaml: tiers.trivial.poetry: unknown category",
        ),
        (
            ("any: [{model: small}]}\n  simple", "any: [{model: small, quality: 0.5}]}\n  simple"),
            "policies/p.yaml: tiers.trivial.any: no candidate reaches the floor 0.7",
        ),
    ],
)
def test_policy_mistakes_are_named(change: tuple[str, str], message: str) -> None:
    text = BASE.replace(*change)
    assert text != BASE
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert str(err.value).startswith(message)


def test_duplicate_virtual_model(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE)
    (tmp_path / "b.yaml").write_text(BASE)
    with pytest.raises(ConfigError, match=r"b.yaml: virtual_model: 'auto' is also"):
        load_policies(tmp_path, MODELS, ROLES)


def test_shipped_policies_pass_the_dry_run_on_the_embedded_catalog(tmp_path: Path) -> None:
    settings = load_settings(None, env={"TOKENWISE_HOME": str(tmp_path)}, cwd=tmp_path)
    policies = load_policies(None, settings.models, settings.config.routing.roles)
    assert {p.virtual_model for p in policies.values()} == {"auto", "auto-economy", "auto-quality"}


def test_shipped_policies_fail_on_a_catalog_without_the_roles(tmp_path: Path) -> None:
    settings = load_settings(None, env={"TOKENWISE_HOME": str(tmp_path)}, cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"policies/\w+.yaml: .*'small' is neither"):
        load_policies(None, settings.models, {})
