"""The store contract for teams, keys and budget records, on every backend (see conftest.py)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from router.store.base import BudgetRecord, KeyRecord, Store, TeamRecord
from tests.unit.store.conftest import Opener

T0 = 1_710_000_000.0


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key(key_id: str, team: str, secret: str | None = None, **kw: object) -> KeyRecord:
    return KeyRecord(key_id, team, digest(secret or key_id), f"{key_id} name", T0, **kw)  # type: ignore[arg-type]


async def test_teams_are_created_listed_replaced_and_deleted(store: Store) -> None:
    await store.put_team(TeamRecord("zeta", T0))
    await store.put_team(TeamRecord("alpha", T0 + 1, policy="economy"))
    assert [t.name for t in await store.list_teams()] == ["alpha", "zeta"]
    assert await store.get_team("alpha") == TeamRecord("alpha", T0 + 1, "economy")
    await store.put_team(TeamRecord("alpha", T0 + 1, policy=None))
    assert await store.get_team("alpha") == TeamRecord("alpha", T0 + 1, None)
    assert await store.delete_team("alpha")
    assert not await store.delete_team("alpha")
    assert await store.get_team("alpha") is None
    assert [t.name for t in await store.list_teams()] == ["zeta"]


async def test_a_key_round_trips_every_field(store: Store) -> None:
    await store.put_team(TeamRecord("research", T0))
    full = key(
        "k1",
        "research",
        expires_at=T0 + 86400.5,
        models=("sim-small", "sim-r1"),
        budget_usd=Decimal("12.345678901"),
        rpm=60,
        tpm=100_000,
    )
    await store.put_key(full)
    assert await store.get_key("k1") == full
    assert await store.key_by_hash(digest("k1")) == full
    assert await store.key_by_hash(digest("unknown")) is None
    assert await store.get_key("nope") is None


async def test_keys_are_listed_by_team(store: Store) -> None:
    for team in ("b-team", "a-team"):
        await store.put_team(TeamRecord(team, T0))
    for key_id, team in (("k3", "a-team"), ("k1", "b-team"), ("k2", "a-team")):
        await store.put_key(key(key_id, team))
    assert [(k.team, k.key_id) for k in await store.list_keys()] == [
        ("a-team", "k2"),
        ("a-team", "k3"),
        ("b-team", "k1"),
    ]
    assert [k.key_id for k in await store.list_keys("b-team")] == ["k1"]
    assert await store.list_keys("nobody") == []


async def test_a_revoked_key_is_found_but_not_active(store: Store) -> None:
    await store.put_team(TeamRecord("research", T0))
    await store.put_key(key("k1", "research", expires_at=T0 + 100))
    found = await store.key_by_hash(digest("k1"))
    assert found is not None and found.active(T0 + 99) and not found.active(T0 + 100)
    assert await store.revoke_key("k1")
    assert not await store.revoke_key("missing")
    revoked = await store.key_by_hash(digest("k1"))
    assert revoked is not None and revoked.revoked and not revoked.active(T0)


async def test_key_integrity_rules(store: Store) -> None:
    await store.put_team(TeamRecord("research", T0))
    await store.put_team(TeamRecord("sales", T0))
    with pytest.raises(ValueError, match="unknown team"):
        await store.put_key(key("k0", "nobody"))
    await store.put_key(key("k1", "research", secret="s1"))
    with pytest.raises(ValueError, match="digest"):
        await store.put_key(key("k2", "research", secret="s1"))
    with pytest.raises(ValueError, match="cannot move"):
        await store.put_key(key("k1", "sales", secret="s1"))
    with pytest.raises(ValueError, match="SHA-256"):
        await store.put_key(KeyRecord("k3", "research", "abc", None, T0))
    await store.put_key(key("k1", "research", secret="rotated"))  # a new secret for k1
    assert await store.key_by_hash(digest("s1")) is None
    rotated = await store.key_by_hash(digest("rotated"))
    assert rotated is not None and rotated.key_id == "k1"
    assert [k.key_id for k in await store.list_keys()] == ["k1"]


async def test_deleting_a_team_deletes_its_keys_and_budgets(store: Store) -> None:
    for team in ("research", "sales"):
        await store.put_team(TeamRecord(team, T0))
    await store.put_key(key("k1", "research"))
    await store.put_key(key("k2", "sales"))
    for scope in ("team:research", "key:k1", "team:sales", "key:k2", "global"):
        await store.put_budget(BudgetRecord(scope, Decimal(10)))
    assert await store.delete_team("research")
    assert await store.key_by_hash(digest("k1")) is None
    assert await store.get_key("k1") is None
    assert [b.scope for b in await store.list_budgets()] == ["global", "key:k2", "team:sales"]
    assert [k.key_id for k in await store.list_keys()] == ["k2"]


async def test_budgets_are_stored_by_scope(opener: Opener) -> None:
    store = await opener()
    await store.put_team(TeamRecord("research", T0))
    monthly = BudgetRecord(
        "team:research",
        Decimal("100.50"),
        "month",
        "Europe/Paris",
        hard=False,
        soft_threshold=Decimal("0.8"),
        soft_policy="economy",
    )
    await store.put_budget(monthly)
    await store.put_budget(BudgetRecord("global", Decimal(1000), "rolling:86400"))
    other = await opener()
    assert await other.get_budgets(["team:research", "global", "team:none"]) == {
        "team:research": monthly,
        "global": BudgetRecord("global", Decimal(1000), "rolling:86400"),
    }
    assert await other.get_budgets([]) == {}
    assert [b.scope for b in await other.list_budgets()] == ["global", "team:research"]
    assert await other.delete_budget("global")
    assert not await other.delete_budget("global")
    assert await store.get_budgets(["global"]) == {}


async def test_a_budget_for_an_unknown_team_or_key_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown team"):
        await store.put_budget(BudgetRecord("team:ghost", Decimal(1)))
    with pytest.raises(ValueError, match="unknown key"):
        await store.put_budget(BudgetRecord("key:ghost", Decimal(1)))
    assert await store.list_budgets() == []
