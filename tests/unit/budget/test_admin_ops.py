"""Admin operations over a store: what the admin API and the command line both do."""

from __future__ import annotations

from decimal import Decimal

import pytest

from router.auth import hash_key
from router.budget import admin_ops as ops
from router.errors import InvalidRequest, NotFound
from router.store.memory import MemoryStore

D = Decimal
POLICIES = ("default", "economy", "quality")


@pytest.fixture
async def store() -> MemoryStore:
    return await MemoryStore().open()


async def test_a_key_is_shown_once_and_stored_only_as_its_digest(store: MemoryStore) -> None:
    await ops.put_team(store, "research", "economy", POLICIES)
    made = await ops.create_key(store, "research", name="ci", models=("sim-small",), rpm=5)
    secret = made["key"]
    assert secret.startswith("tw-") and len(secret) > 40
    stored = await store.key_by_hash(hash_key(secret))
    assert stored is not None and stored.key_id == made["key_id"]
    assert secret not in repr(stored)
    shown = await ops.show_key(store, made["key_id"])
    assert "key" not in shown and "key_sha256" not in shown
    assert shown["models"] == ["sim-small"] and shown["rpm"] == 5
    listed = await ops.list_keys(store, "research")
    assert all("key" not in k and "key_sha256" not in k for k in listed)


async def test_a_key_budget_is_a_budget_on_its_scope(store: MemoryStore) -> None:
    await ops.put_team(store, "research", None, POLICIES)
    made = await ops.create_key(store, "research", budget_usd=D("2.5"), window="day")
    scope = f"key:{made['key_id']}"
    assert made["budget"]["scope"] == scope
    assert (await store.get_budgets([scope]))[scope].limit_usd == D("2.5")
    with pytest.raises(InvalidRequest):
        await ops.create_key(store, "research", budget_usd=D(1), window="fortnight")


async def test_key_operations_refuse_another_teams_key(store: MemoryStore) -> None:
    for team in ("a", "b"):
        await ops.put_team(store, team, None, POLICIES)
    made = await ops.create_key(store, "b")
    with pytest.raises(NotFound, match="in team 'a'"):
        await ops.revoke_key(store, made["key_id"], "a")
    with pytest.raises(NotFound):
        await ops.show_key(store, made["key_id"], "a")
    assert (await store.get_key(made["key_id"])) is not None
    revoked = await ops.revoke_key(store, made["key_id"], "b")
    assert revoked.revoked


async def test_budgets_and_team_spend(store: MemoryStore) -> None:
    await ops.put_team(store, "research", None, POLICIES)
    made = await ops.set_budget(store, "team:research", D(10), window="week", tz="Europe/Paris")
    assert made["limit_usd"] == "10" and made["tz"] == "Europe/Paris"
    with pytest.raises(InvalidRequest, match="unknown team"):
        await ops.set_budget(store, "team:nobody", D(1))
    with pytest.raises(InvalidRequest, match="time zone"):
        await ops.set_budget(store, "team:research", D(1), tz="Mars/Olympus")
    with pytest.raises(InvalidRequest, match="names no team or key") as nowhere:
        await ops.set_budget(store, "research", D(1))
    assert nowhere.value.param == "scope"
    with pytest.raises(InvalidRequest, match="No routing policy named 'lavish'") as lavish:
        await ops.set_budget(
            store, "team:research", D(1), hard=False, soft_policy="lavish", policies=POLICIES
        )
    assert lavish.value.param == "soft_policy"
    spend = await ops.team_spend(store, "research")
    assert spend["budgets"][0]["remaining_usd"] == "10"
    assert spend["ledger"] == {"since": None, "until": None, "requests": 0, "cost_usd": "0"}
    assert [b["scope"] for b in await ops.list_budgets(store, "research")] == ["team:research"]
    await ops.delete_budget(store, "team:research")
    with pytest.raises(NotFound):
        await ops.delete_budget(store, "team:research")


async def test_teams(store: MemoryStore) -> None:
    created = await ops.put_team(store, "research", "economy", POLICIES)
    assert created["created"] and created["policy"] == "economy"
    changed = await ops.put_team(store, "research", "quality", POLICIES)
    assert not changed["created"] and changed["policy"] == "quality"
    for bad in ("a:b", "a/b", "a b", "a\n", ""):
        with pytest.raises(InvalidRequest, match="Invalid team name"):
            await ops.put_team(store, bad, None, POLICIES)
    with pytest.raises(InvalidRequest, match="known: default, economy, quality") as unknown:
        await ops.put_team(store, "research", "lavish", POLICIES)
    assert unknown.value.param == "policy"
    assert (await ops.show_team(store, "research"))["policy"] == "quality"
    assert [t["name"] for t in await ops.list_teams(store)] == ["research"]
    await ops.delete_team(store, "research")
    with pytest.raises(NotFound):
        await ops.show_team(store, "research")
