"""`/admin/`: teams, keys and budgets, for the master key only.

    GET    /admin/teams                      POST /admin/teams {name, policy}
    GET    /admin/teams/{name}               DELETE /admin/teams/{name}
    GET    /admin/teams/{name}/spend         budgets as they stand + ledger total (since, until)
    GET    /admin/keys[?team=T]              POST /admin/keys {team, name, models, rpm, tpm,
                                                  expires_at, budget_usd, window, tz}
    GET    /admin/keys/{id}                  POST /admin/keys/{id}/revoke (DELETE: the same)
    GET    /admin/budgets[?team=T]           PUT /admin/budgets/{scope} {limit_usd, window, tz,
    GET    /admin/budgets/{scope}                 hard, soft_threshold, soft_policy}
    DELETE /admin/budgets/{scope}

Every route wants `Authorization: Bearer <master key>` (`TOKENWISE_MASTER_KEY`, or the variable
`auth.master_key_env` names); anything else is a 401, and without a master key configured the
admin API answers 403 to everyone. A team's own key is not a master key: it cannot read or
change any team's keys, budgets or spend here. A key's secret is in the answer to its creation
only. Changes made here take effect in this process at once and in other replicas within
`auth.cache_seconds` (keys) or `budgets.refresh_seconds` (how budgets shape requests; the
enforcement in the store is immediate).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router.api.body import read_json_object
from router.api.json import json_response
from router.auth import bearer_token, hash_key
from router.budget import admin_ops as ops
from router.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    Overloaded,
    PermissionDenied,
)
from router.services import Services, services_of
from router.spend import SpendError, parse_bound
from router.store.base import StoreUnavailable

ADMIN_BODY_LIMIT = 64 * 1024
FLUSH_SECONDS = 1.0


def require_master(request: Request) -> Services:
    services = services_of(request)
    master = services.settings.master_key
    if not master:
        raise PermissionDenied(
            "The admin API is off: start the server with TOKENWISE_MASTER_KEY set "
            "(or name another variable in auth.master_key_env).",
            code="admin_disabled",
        )
    token = bearer_token(request.headers.get("authorization"))
    if not hmac.compare_digest(hash_key(token), hash_key(master)):
        raise AuthenticationFailed(
            "This is not the master key: the admin API takes only the key in "
            "TOKENWISE_MASTER_KEY (or the variable auth.master_key_env names), never a team's "
            "API key.",
            code="invalid_api_key",
        )
    return services


def _tz(f: Fields) -> str:
    """`tz`: UTC when absent; an empty string is a mistake, not UTC."""
    tz = f.text("tz")
    if tz == "":
        raise InvalidRequest(
            "'tz' is empty: name an IANA time zone such as 'Europe/Paris', or leave it out "
            "for UTC.",
            param="tz",
            code="invalid_value",
        )
    return tz or "UTC"


class Fields:
    """A JSON body's fields, checked one by one; leftovers are an error."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = dict(body)

    def _take(self, name: str, required: bool) -> Any:
        if name not in self.body or self.body[name] is None:
            if required:
                raise InvalidRequest(f"Missing required field '{name}'.", param=name)
            self.body.pop(name, None)
            return None
        return self.body.pop(name)

    def text(self, name: str, required: bool = False) -> str | None:
        value = self._take(name, required)
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"'{name}' must be a string.", param=name)
        return value

    def integer(self, name: str) -> int | None:
        value = self._take(name, False)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidRequest(f"'{name}' must be an integer.", param=name)
        return value

    def number(self, name: str) -> float | None:
        value = self._take(name, False)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidRequest(f"'{name}' must be a number.", param=name)
        return None if value is None else float(value)

    def money(self, name: str, required: bool = False) -> Decimal | None:
        value = self._take(name, required)
        if value is None:
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InvalidOperation
            amount = Decimal(str(value))
            if not amount.is_finite():
                raise InvalidOperation
            return amount
        except InvalidOperation:
            raise InvalidRequest(
                f"'{name}' must be a finite decimal number (USD), e.g. \"12.50\".",
                param=name,
                code="invalid_value",
            ) from None

    def flag(self, name: str, default: bool) -> bool:
        value = self._take(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InvalidRequest(f"'{name}' must be true or false.", param=name)
        return value

    def names(self, name: str) -> tuple[str, ...]:
        value = self._take(name, False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidRequest(f"'{name}' must be a list of strings.", param=name)
        return tuple(value)

    def done(self) -> None:
        if self.body:
            name = sorted(self.body)[0]
            raise InvalidRequest(f"Unknown field '{name}'.", param=name)


async def _fields(request: Request) -> Fields:
    timeout = services_of(request).settings.config.server.body_timeout_seconds
    return Fields(await read_json_object(request, ADMIN_BODY_LIMIT, timeout))


def _bound(request: Request, name: str) -> float | None:
    text = request.query_params.get(name)
    try:
        return parse_bound(text, until=name == "until") if text else None
    except SpendError as exc:
        raise InvalidRequest(str(exc), param=name) from None


async def teams(request: Request) -> Response:
    services = require_master(request)
    store = services.store
    if request.method == "GET":
        return json_response({"teams": await ops.list_teams(store)})
    f = await _fields(request)
    keep = "policy" not in f.body  # absent keeps an existing team's policy; null clears it
    name, policy = f.text("name", required=True) or "", f.text("policy")
    f.done()
    team = await ops.put_team(store, name, policy, services.router.policies, keep_policy=keep)
    return json_response(team, status=201 if team["created"] else 200)


async def team(request: Request) -> Response:
    services = require_master(request)
    name = request.path_params["name"]
    if request.method == "DELETE":
        keys = await services.store.list_keys(name)
        answer = await ops.delete_team(services.store, name)
        if services.budget is not None:
            services.budget.cache.forget()
            for gone in keys:  # the team's keys stop working here at once
                services.budget.directory.forget(gone.key_sha256)
        return json_response(answer)
    return json_response(await ops.show_team(services.store, name))


async def team_spend(request: Request) -> Response:
    services = require_master(request)
    await services.ledger.flush(FLUSH_SECONDS)
    since, until = _bound(request, "since"), _bound(request, "until")
    name = request.path_params["name"]
    return json_response(await ops.team_spend(services.store, name, since, until))


async def keys(request: Request) -> Response:
    services = require_master(request)
    if request.method == "GET":
        listed = await ops.list_keys(services.store, request.query_params.get("team"))
        return json_response({"keys": listed})
    f = await _fields(request)
    create = partial(
        ops.create_key,
        services.store,
        f.text("team", required=True) or "",
        name=f.text("name"),
        models=f.names("models"),
        rpm=f.integer("rpm"),
        tpm=f.integer("tpm"),
        expires_at=f.number("expires_at"),
        budget_usd=f.money("budget_usd"),
        window=f.text("window") or "month",
        tz=_tz(f),
        served=services.router.served(),
    )
    f.done()  # an unknown field refuses the request before anything is made
    created = await create()
    if services.budget is not None:
        services.budget.directory.forget(hash_key(created["key"]))
    return json_response(created, status=201)


async def key(request: Request) -> Response:
    services = require_master(request)
    key_id = request.path_params["key_id"]
    team_name = request.query_params.get("team")
    if request.method == "GET":
        return json_response(await ops.show_key(services.store, key_id, team_name))
    revoked = await ops.revoke_key(services.store, key_id, team_name)
    if services.budget is not None:
        services.budget.directory.forget(revoked.key_sha256)
    return json_response(ops.key_json(revoked))


async def budgets(request: Request) -> Response:
    services = require_master(request)
    team_name = request.query_params.get("team")
    return json_response({"budgets": await ops.list_budgets(services.store, team_name)})


async def budget(request: Request) -> Response:
    services = require_master(request)
    scope = request.path_params["scope"]
    store = services.store
    if request.method == "GET":
        found = (await store.get_budgets([scope])).get(scope)
        if found is None:
            raise NotFound(f"No budget on {scope!r}.", code="budget_not_found")
        view = await store.spend(scope, time.time())
        return json_response(ops.budget_json(found) | {"spend": view and ops.view_json(view)})
    if request.method == "DELETE":
        answer = await ops.delete_budget(store, scope)
    else:
        f = await _fields(request)
        put = partial(
            ops.set_budget,
            store,
            scope,
            f.money("limit_usd", required=True) or Decimal(0),
            window=f.text("window") or "month",
            tz=_tz(f),
            hard=f.flag("hard", True),
            soft_threshold=f.money("soft_threshold"),
            soft_policy=f.text("soft_policy"),
            policies=services.router.policies,
        )
        f.done()  # an unknown field refuses the request before the budget changes
        answer = await put()
    if services.budget is not None:
        services.budget.cache.forget(scope)
    return json_response(answer)


Handler = Callable[[Request], Awaitable[Response]]
ROUTES: tuple[tuple[str, Handler, list[str]], ...] = (
    ("/admin/teams", teams, ["GET", "POST"]),
    ("/admin/teams/{name}", team, ["GET", "DELETE"]),
    ("/admin/teams/{name}/spend", team_spend, ["GET"]),
    ("/admin/keys", keys, ["GET", "POST"]),
    ("/admin/keys/{key_id}", key, ["GET", "DELETE"]),
    ("/admin/keys/{key_id}/revoke", key, ["POST"]),
    ("/admin/budgets", budgets, ["GET"]),
    ("/admin/budgets/{scope}", budget, ["GET", "PUT", "DELETE"]),
)


def routes() -> list[Route]:
    return [Route(path, _store_guard(fn), methods=methods) for path, fn, methods in ROUTES]


def _store_guard(handler: Handler) -> Handler:
    """The store down or slow is a 503 `overloaded` to retry, as on the request path (it was a
    500 `internal_error`)."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except (StoreUnavailable, TimeoutError) as exc:
            raise Overloaded(
                f"The store cannot be reached ({exc}). Retry shortly.",
                headers={"retry-after": "1"},
            ) from None

    return guarded
