"""What the admin API and the command line do to teams, keys and budgets (over any store).

`/admin/...` (router.api.admin) and `tokenwise teams|keys|budgets` acting on the store directly
(router.admin_cli) call these same functions, so both paths behave alike. Each returns plain
JSON-ready data (amounts as exact decimal strings) and raises the proxy's own errors
(`InvalidRequest`, `NotFound`), which the API answers and the command line prints.

A key's secret exists only in the answer to `create_key`: the store keeps its SHA-256. A
`team` given to a key operation must be the key's own team: it guards scripts and people
against acting on another team's key by mistake.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Collection
from dataclasses import replace
from decimal import Decimal
from typing import Any

from router.auth import hash_key
from router.config.schema import TEAM_NAME_CHARS
from router.errors import InvalidRequest, NotFound
from router.metering.cost import format_usd
from router.store.base import BudgetRecord, KeyRecord, SpendView, Store, TeamRecord
from router.store.codec import to_dict
from router.store.rules import scope_owner
from router.store.windows import parse_window, zone

KEY_PREFIX = "tw-"


def team_json(team: TeamRecord) -> dict[str, Any]:
    return to_dict(team)


def key_json(key: KeyRecord) -> dict[str, Any]:
    data = to_dict(key)
    data.pop("key_sha256")
    if key.budget_usd is not None:
        data["budget_usd"] = format_usd(key.budget_usd)
    data["active"] = key.active(time.time())
    return data


def budget_json(budget: BudgetRecord) -> dict[str, Any]:
    data = to_dict(budget)
    data["limit_usd"] = format_usd(budget.limit_usd)
    return data


def view_json(view: SpendView) -> dict[str, Any]:
    return {
        "scope": view.scope,
        "limit_usd": format_usd(view.limit),
        "settled_usd": format_usd(view.settled),
        "in_flight_usd": format_usd(view.in_flight),
        "remaining_usd": format_usd(view.remaining),
        "window_start": view.window_start,
        "window_end": view.window_end,
    }


def _bad(exc: ValueError, param: str | None = None) -> InvalidRequest:
    return InvalidRequest(str(exc), param=param, code="invalid_value")


def _check_period(window: str, tz: str) -> None:
    """A budget's window and time zone, each refused under its own name."""
    for param, check, value in (("window", parse_window, window), ("tz", zone, tz)):
        try:
            check(value)
        except ValueError as exc:
            raise _bad(exc, param) from None


async def _team(store: Store, name: str) -> TeamRecord:
    team = await store.get_team(name)
    if team is None:
        raise NotFound(f"No team named {name!r}.", code="team_not_found")
    return team


async def _key(store: Store, key_id: str, team: str | None) -> KeyRecord:
    key = await store.get_key(key_id)
    if key is None or (team is not None and key.team != team):
        where = f" in team {team!r}" if team is not None else ""
        raise NotFound(f"No key {key_id!r}{where}.", code="key_not_found")
    return key


async def list_teams(store: Store) -> list[dict[str, Any]]:
    return [team_json(t) for t in await store.list_teams()]


VALID_TEAM = re.compile(TEAM_NAME_CHARS)
KEY_NAME_LIMIT = 200


def check_policy(name: str | None, policies: Collection[str], param: str) -> None:
    """A policy named by a team or a soft budget must be one the router has."""
    if name is not None and name not in policies:
        known = (
            f"known: {', '.join(sorted(policies))}"
            if policies
            else "this proxy routes no virtual model: map routing.roles to use policies"
        )
        raise InvalidRequest(
            f"No routing policy named {name!r} ({known}).", param=param, code="invalid_value"
        )


async def put_team(
    store: Store,
    name: str,
    policy: str | None,
    policies: Collection[str],
    *,
    keep_policy: bool = False,
) -> dict[str, Any]:
    """Create a team, or change its routing policy (one of `policies`; None: the default);
    `keep_policy`: the caller named no policy, so an existing team keeps its own."""
    if not VALID_TEAM.fullmatch(name):
        raise InvalidRequest(
            f"Invalid team name {name!r}: a name has no ':', '/' or whitespace (it is part "
            "of budget scopes and admin URLs).",
            param="name",
        )
    check_policy(policy, policies, "policy")
    old = await store.get_team(name)
    if old is not None and keep_policy:
        policy = old.policy
    team = replace(old, policy=policy) if old else TeamRecord(name, time.time(), policy)
    await store.put_team(team)
    return team_json(team) | {"created": old is None}


async def show_team(store: Store, name: str) -> dict[str, Any]:
    team = await _team(store, name)
    keys = await store.list_keys(name)
    scopes = [f"team:{name}", *(f"key:{k.key_id}" for k in keys)]
    budgets = await store.get_budgets(scopes)
    return team_json(team) | {
        "keys": [key_json(k) for k in keys],
        "budgets": [budget_json(budgets[s]) for s in scopes if s in budgets],
    }


async def delete_team(store: Store, name: str) -> dict[str, Any]:
    if not await store.delete_team(name):
        raise NotFound(f"No team named {name!r}.", code="team_not_found")
    return {"deleted": name}


async def list_keys(store: Store, team: str | None) -> list[dict[str, Any]]:
    if team is not None:
        await _team(store, team)
    return [key_json(k) for k in await store.list_keys(team)]


async def create_key(
    store: Store,
    team: str,
    *,
    name: str | None = None,
    models: tuple[str, ...] = (),
    rpm: int | None = None,
    tpm: int | None = None,
    expires_at: float | None = None,
    budget_usd: Decimal | None = None,
    window: str = "month",
    tz: str = "UTC",
    served: Collection[str] | None = None,
) -> dict[str, Any]:
    """A new key for `team`; the answer holds its secret, shown this once. `served`: the
    models this proxy serves, which an allow-list may name (None: not checked)."""
    await _team(store, team)
    unknown = [m for m in models if served is not None and m not in served]
    if unknown:
        raise InvalidRequest(
            f"No model named {unknown[0]!r} here: an allow-list names catalog or virtual "
            "models (GET /v1/models lists them).",
            param="models",
            code="invalid_value",
        )
    if name is not None:
        if not 0 < len(name) <= KEY_NAME_LIMIT:
            raise InvalidRequest(
                f"'name' must be 1 to {KEY_NAME_LIMIT} characters.",
                param="name",
                code="invalid_value",
            )
        if any(k.name == name and not k.revoked for k in await store.list_keys(team)):
            raise InvalidRequest(
                f"Team {team!r} already has a key named {name!r}: revoke it or choose another "
                "name.",
                param="name",
                code="invalid_value",
            )
    for value, param in ((rpm, "rpm"), (tpm, "tpm")):
        if value is not None and value < 1:
            raise InvalidRequest(f"'{param}' must be a positive integer.", param=param)
    if expires_at is not None and not time.time() < expires_at < math.inf:
        raise InvalidRequest(
            "'expires_at' must be a moment in the future (epoch seconds).",
            param="expires_at",
            code="invalid_value",
        )
    budget = None
    if budget_usd is not None:
        _check_period(window, tz)
        try:
            budget = BudgetRecord("key:<new key>", budget_usd, window, tz)
        except ValueError as exc:
            raise _bad(exc, "budget_usd") from None
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = KeyRecord(
        key_id="key_" + secrets.token_hex(8),
        team=team,
        key_sha256=hash_key(secret),
        name=name,
        created_at=time.time(),
        expires_at=expires_at,
        models=models,
        budget_usd=budget_usd,
        rpm=rpm,
        tpm=tpm,
    )
    await store.put_key(key)
    answer = key_json(key) | {"key": secret}
    if budget is not None:
        await store.put_budget(replace(budget, scope=f"key:{key.key_id}"))
        answer["budget"] = budget_json(replace(budget, scope=f"key:{key.key_id}"))
    return answer


async def show_key(store: Store, key_id: str, team: str | None = None) -> dict[str, Any]:
    key = await _key(store, key_id, team)
    budget = (await store.get_budgets([f"key:{key_id}"])).get(f"key:{key_id}")
    return key_json(key) | {"budget": budget_json(budget) if budget else None}


async def revoke_key(store: Store, key_id: str, team: str | None = None) -> KeyRecord:
    """Revoke a key; the revoked record (its digest lets this process forget it at once)."""
    key = await _key(store, key_id, team)
    await store.revoke_key(key_id)
    return replace(key, revoked=True)


async def list_budgets(store: Store, team: str | None = None) -> list[dict[str, Any]]:
    budgets = await store.list_budgets()
    if team is not None:
        await _team(store, team)  # an unknown team is a 404, as for its keys
        own = {f"team:{team}"} | {f"key:{k.key_id}" for k in await store.list_keys(team)}
        budgets = [b for b in budgets if b.scope in own]
    return [budget_json(b) for b in budgets]


async def set_budget(
    store: Store,
    scope: str,
    limit_usd: Decimal,
    *,
    window: str = "month",
    tz: str = "UTC",
    hard: bool = True,
    soft_threshold: Decimal | None = None,
    soft_policy: str | None = None,
    policies: Collection[str] = (),
) -> dict[str, Any]:
    check_policy(soft_policy, policies, "soft_policy")
    if scope_owner(scope) is None:
        raise InvalidRequest(
            f"Budget scope {scope!r} names no team or key: use team:<name> or key:<key id>.",
            param="scope",
            code="invalid_value",
        )
    _check_period(window, tz)
    try:
        budget = BudgetRecord(scope, limit_usd, window, tz, hard, soft_threshold, soft_policy)
        await store.put_budget(budget)
    except ValueError as exc:
        raise _bad(exc) from None
    return budget_json(budget)


async def delete_budget(store: Store, scope: str) -> dict[str, Any]:
    if not await store.delete_budget(scope):
        raise NotFound(f"No budget on {scope!r}.", code="budget_not_found")
    return {"deleted": scope}


async def team_spend(
    store: Store, name: str, since: float | None = None, until: float | None = None
) -> dict[str, Any]:
    """A team's budgets as they stand (settled, in flight, left) and its ledger total."""
    await _team(store, name)
    now = time.time()
    scopes = [f"team:{name}", *(f"key:{k.key_id}" for k in await store.list_keys(name))]
    views = []
    for scope in scopes:
        view = await store.spend(scope, now)
        if view is not None:
            views.append(view_json(view))
    totals = {t.key: t for t in await store.ledger_totals("team", since, until)}
    total = totals.get(name)
    return {
        "team": name,
        "budgets": views,
        "ledger": {
            "since": since,
            "until": until,
            "requests": total.requests if total else 0,
            "cost_usd": format_usd(total.cost_total) if total else "0",
        },
    }
