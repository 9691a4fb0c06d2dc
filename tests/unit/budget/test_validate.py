"""The auth, budgets and rate_limits sections: checked at start-up, naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.budget.seed import SeedError, seed
from router.config.load import ConfigError, load_settings
from router.store.memory import MemoryStore
from tests.unit.budget.conftest import CONFIG


def settings_from(tmp_path: Path, extra: str, **env: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "tokenwise.yaml"
    path.write_text(CONFIG + extra, encoding="utf-8")
    return load_settings(str(path), env={"TOKENWISE_HOME": str(tmp_path / "h"), **env})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("budgets: {lease_seconds: 30}\n", "budgets.lease_seconds: must be longer"),
        ("budgets: {webhook_url: ftp://x}\n", "budgets.webhook_url: must start with"),
        ("budgets: {limits: [{scope: 'team:a', limit_usd: 1, window: fortnight}]}\n", "window"),
        ("budgets: {limits: [{scope: 'team:a', limit_usd: 1, tz: Nowhere}]}\n", "time zone"),
        ("budgets: {limits: [{scope: 'org:a', limit_usd: 1}]}\n", "budgets.limits.0.scope"),
        ("budgets: {on_store_error: ignore}\n", "budgets.on_store_error"),
        ("auth: {master_key_env: ADMIN_KEY}\n", "environment variable ADMIN_KEY is not set"),
        ("rate_limits: {default_key: {rpm: 0}}\n", "rate_limits.default_key.rpm"),
    ],
)
def test_bad_sections_do_not_boot(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from(tmp_path, "server: {timeouts: {total: 60}}\n" + extra)


def test_master_key_and_development_key(tmp_path: Path) -> None:
    named = settings_from(tmp_path, "auth: {master_key_env: ADMIN_KEY}\n", ADMIN_KEY="m1")
    assert named.master_key == "m1" and named.dev_key is None
    default = settings_from(tmp_path, "", TOKENWISE_MASTER_KEY="m2")
    assert default.master_key == "m2" and default.dev_key is None
    both = settings_from(tmp_path, "", TOKENWISE_MASTER_KEY="m2", TOKENWISE_DEV_KEY="d")
    assert both.dev_key == "d"
    neither = settings_from(tmp_path, "")
    assert neither.master_key is None and neither.dev_key


async def test_config_principals_are_upserted_and_a_revocation_survives(tmp_path: Path) -> None:
    extra = """
auth:
  teams: [{name: research, policy: economy}]
  keys:
    - {team: research, key_env: RESEARCH_KEY, name: ci, models: [sim-small], rpm: 5}
    - {team: ops, key_env: OPS_KEY, name: ops-bot}
budgets:
  limits:
    - {scope: "team:research", limit_usd: 10, window: day}
    - {scope: "key:ops-bot", limit_usd: "2.50", hard: false, soft_threshold: 0.8}
"""
    settings = settings_from(tmp_path, extra, RESEARCH_KEY="sk-r", OPS_KEY="sk-o")
    store = await MemoryStore().open()
    await seed(store, settings)
    teams = {t.name: t.policy for t in await store.list_teams()}
    assert teams == {"research": "economy", "ops": None}
    ci = await store.get_key("ci")
    assert ci is not None and ci.models == ("sim-small",) and ci.rpm == 5
    budgets = await store.get_budgets(["team:research", "key:ops-bot"])
    assert str(budgets["key:ops-bot"].limit_usd) == "2.50" and not budgets["key:ops-bot"].hard
    await store.revoke_key("ci")
    await seed(store, settings)
    again = await store.get_key("ci")
    assert again is not None and again.revoked


async def test_a_budget_for_an_unknown_team_stops_start_up(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "budgets: {limits: [{scope: 'team:ghost', limit_usd: 1}]}\n")
    with pytest.raises(SeedError, match=r"budgets\.limits\.0: .*unknown team"):
        await seed(await MemoryStore().open(), settings)
