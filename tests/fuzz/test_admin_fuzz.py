"""The admin API under the master key, fuzzed: any JSON in any field is a 4xx or a success,
never a 5xx (the admin body is checked field by field, router/api/admin.py `Fields`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ, MASTER_KEY, SENT

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.sampled_from(["NaN", "Infinity", "-1", "1e999999", "0.000000001", "12.50", "sNaN"])
    | st.sampled_from(["day", "week", "month", "total", "rolling:60", "rolling:-1", "rolling:x"])
    | st.sampled_from(["UTC", "Europe/Paris", "Mars/Olympus", "", "team:a", "key:k"])
    | st.text(max_size=20)
)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
BUDGET = ["limit_usd", "window", "tz", "hard", "soft_threshold", "soft_policy"]
KEY = ["team", "name", "models", "rpm", "tpm", "expires_at", "budget_usd", "window", "tz"]
TEAM = ["name", "policy"]
SCOPES = st.sampled_from(["team:fuzz", "key:fuzz", "team:", "nope", "team:%00", "key:a/b"])


@pytest.fixture(scope="module")
def admin(base_url: str) -> Any:
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        client.post("/admin/teams", json={"name": "fuzz"})
        yield client


def check(response: httpx.Response, what: str) -> None:
    SENT.update([f"admin {response.status_code}"])
    assert response.status_code < 500, (what, response.text[:300])
    if response.status_code >= 400:
        assert isinstance(response.json()["error"]["message"], str)


@settings(FUZZ, max_examples=150)
@given(scope=SCOPES, body=st.fixed_dictionaries({}, optional=dict.fromkeys(BUDGET, values)))
def test_budget_bodies(admin: httpx.Client, scope: str, body: dict[str, Any]) -> None:
    check(admin.put(f"/admin/budgets/{scope}", json=body), f"PUT {scope} {body}")
    check(admin.get(f"/admin/budgets/{scope}"), f"GET {scope}")
    check(admin.get("/admin/teams/fuzz/spend"), "spend")


@settings(FUZZ, max_examples=150)
@given(body=st.fixed_dictionaries({}, optional=dict.fromkeys(KEY, values)))
def test_key_bodies(admin: httpx.Client, body: dict[str, Any]) -> None:
    check(admin.post("/admin/keys", json=body), f"POST keys {body}")


@settings(FUZZ, max_examples=80)
@given(body=st.fixed_dictionaries({}, optional=dict.fromkeys(TEAM, values)))
def test_team_bodies(admin: httpx.Client, body: dict[str, Any]) -> None:
    check(admin.post("/admin/teams", json=body), f"POST teams {body}")


@settings(FUZZ, max_examples=80)
@given(
    since=st.text(max_size=12) | st.sampled_from(["2026-01-01", "-1", "1e999", "nan"]),
    until=st.text(max_size=12) | st.sampled_from(["2026-13-01", "now", "9" * 30]),
)
def test_spend_bounds(admin: httpx.Client, since: str, until: str) -> None:
    params = {"since": since, "until": until}
    check(admin.get("/admin/spend", params=params), f"spend {params}")
    check(admin.get("/admin/teams/fuzz/spend", params=params), f"team spend {params}")
