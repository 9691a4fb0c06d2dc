"""The work behind `tokenwise teams|keys|budgets` (router.admin_cli parses the arguments).

Each command is planned twice, as a call to the admin API (`--url`) and as the same operation on
the store (`router.budget.admin_ops`), and one of the two runs.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from router.budget import admin_ops as ops
from router.errors import ProxyError
from router.store.base import Store
from router.store.open import STORE_ERRORS, store_problem

MASTER_KEY_ENV = "TOKENWISE_MASTER_KEY"
Local = Callable[[Store], Awaitable[Any]]


class CliError(Exception):
    """What to print on stderr before exiting with status 2."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)


def _money(text: str | None, what: str) -> Decimal | None:
    if text is None:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise CliError(f"{what} must be a finite decimal number, e.g. 12.50")
    return amount


def _seg(text: str) -> str:
    return quote(text, safe="")


def _since_until(args: argparse.Namespace) -> tuple[float | None, float | None]:
    from router.spend import SpendError, parse_bound

    try:
        since = parse_bound(args.since) if args.since else None
        until = parse_bound(args.until, until=True) if args.until else None
    except SpendError as exc:
        raise CliError(str(exc)) from None
    return since, until


async def _listed(name: str, rows: Awaitable[list[dict[str, Any]]]) -> dict[str, Any]:
    """A list as the admin API answers it (`{"teams": [...]}`), so that the command prints
    the same document on the store directly and with `--url`."""
    return {name: await rows}


def team_command(args: argparse.Namespace) -> tuple[Call, Local]:
    name = getattr(args, "name", "")
    if args.action == "list":
        return Call("GET", "/admin/teams"), lambda s: _listed("teams", ops.list_teams(s))
    if args.action == "create":
        body = {"name": name} | ({} if args.policy is None else {"policy": args.policy})
        return Call("POST", "/admin/teams", body), lambda s: ops.put_team(
            s,
            name,
            args.policy,
            configured_policies(args.config),
            keep_policy=args.policy is None,
        )
    if args.action == "show":
        return Call("GET", f"/admin/teams/{_seg(name)}"), lambda s: ops.show_team(s, name)
    if args.action == "delete":
        return Call("DELETE", f"/admin/teams/{_seg(name)}"), lambda s: ops.delete_team(s, name)
    since, until = _since_until(args)
    params = {k: repr(v) for k, v in (("since", since), ("until", until)) if v is not None}
    call = Call("GET", f"/admin/teams/{_seg(name)}/spend", params=params)
    return call, lambda s: ops.team_spend(s, name, since, until)


def key_command(args: argparse.Namespace) -> tuple[Call, Local]:
    team = args.team
    params = {"team": team} if team else {}
    if args.action == "list":
        listing = Call("GET", "/admin/keys", params=params)
        return listing, lambda s: _listed("keys", ops.list_keys(s, team))
    if args.action == "show":
        path = f"/admin/keys/{_seg(args.key_id)}"
        return Call("GET", path, params=params), lambda s: ops.show_key(s, args.key_id, team)
    if args.action == "revoke":
        path = f"/admin/keys/{_seg(args.key_id)}/revoke"

        async def revoke(store: Store) -> dict[str, Any]:
            return ops.key_json(await ops.revoke_key(store, args.key_id, team))

        return Call("POST", path, params=params), revoke
    models = tuple(m.strip() for m in (args.models or "").split(",") if m.strip())
    if args.expires_in is not None and not 0 < args.expires_in < math.inf:
        raise CliError("--expires-in must be a positive number of seconds")
    expires = time.time() + args.expires_in if args.expires_in is not None else None
    budget = _money(args.budget, "--budget")
    body: dict[str, Any] = {
        "team": team,
        "name": args.name,
        "models": list(models),
        "rpm": args.rpm,
        "tpm": args.tpm,
        "expires_at": expires,
        "budget_usd": None if budget is None else str(budget),
        "window": args.window,
        "tz": args.tz,
    }

    async def create(store: Store) -> dict[str, Any]:
        return await ops.create_key(
            store,
            team,
            name=args.name,
            models=models,
            rpm=args.rpm,
            tpm=args.tpm,
            expires_at=expires,
            budget_usd=budget,
            window=args.window,
            tz=args.tz,
            served=configured_models(args.config),
        )

    return Call("POST", "/admin/keys", body), create


def budget_command(args: argparse.Namespace) -> tuple[Call, Local]:
    if args.action == "list":
        team = args.team
        params = {"team": team} if team else {}
        listing = Call("GET", "/admin/budgets", params=params)
        return listing, lambda s: _listed("budgets", ops.list_budgets(s, team))
    path = f"/admin/budgets/{_seg(args.scope)}"
    if args.action == "show":
        return Call("GET", path), lambda s: _show_budget(s, args.scope)
    if args.action == "delete":
        return Call("DELETE", path), lambda s: ops.delete_budget(s, args.scope)
    limit = _money(args.limit, "--limit") or Decimal(0)
    threshold = _money(args.threshold, "--threshold")
    body = {
        "limit_usd": str(limit),
        "window": args.window,
        "tz": args.tz,
        "hard": not args.soft,
        "soft_threshold": None if threshold is None else str(threshold),
        "soft_policy": args.policy,
    }

    async def put(store: Store) -> dict[str, Any]:
        return await ops.set_budget(
            store,
            args.scope,
            limit,
            window=args.window,
            tz=args.tz,
            hard=not args.soft,
            soft_threshold=threshold,
            soft_policy=args.policy,
            policies=configured_policies(args.config),
        )

    return Call("PUT", path, body), put


async def _show_budget(store: Store, scope: str) -> dict[str, Any]:
    found = (await store.get_budgets([scope])).get(scope)
    if found is None:
        raise CliError(f"no budget on {scope!r}")
    view = await store.spend(scope, time.time())
    return ops.budget_json(found) | {"spend": view and ops.view_json(view)}


def _policy_texts(config: str | None) -> dict[str, tuple[str, str]]:
    """The policy files a server with this config would load, by policy name (none when it
    routes no virtual model)."""
    from router.config.default import embedded_config
    from router.config.read import config_path, read_config
    from router.policy.load import policy_files
    from router.policy.router import virtual_models_on

    env = os.environ
    path = config_path(config, env, Path.cwd())
    parsed = read_config(path) if path is not None else embedded_config()
    directory = parsed.routing.policies_dir or env.get("TOKENWISE_POLICIES") or None
    if not virtual_models_on(directory, parsed.routing.roles, parsed.models):
        return {}
    return policy_files(Path(directory) if directory else None)


def configured_policies(config: str | None) -> frozenset[str]:
    """The names of the policies a server with this config would load."""
    return frozenset(_policy_texts(config))


def configured_models(config: str | None) -> frozenset[str]:
    """The models a server with this config would serve: its catalog and virtual models."""
    import yaml

    from router.config.default import embedded_config
    from router.config.read import config_path, read_config
    from router.policy.schema import PolicyFile

    path = config_path(config, os.environ, Path.cwd())
    catalog = (read_config(path) if path is not None else embedded_config()).models
    virtual = [
        PolicyFile.model_validate(yaml.safe_load(text)).virtual_model
        for _, text in _policy_texts(config).values()
    ]
    return frozenset(catalog) | frozenset(virtual)


async def run_local(config: str | None, work: Local, *, reads: bool = False) -> Any:
    """`work` on the configured store (`reads`: it changes nothing, so a SQLite store that
    does not exist yet is read as empty instead of being created)."""
    from router.config.read import config_path, read_config
    from router.store.memory import MemoryStore
    from router.store.open import open_store, sqlite_file

    env = os.environ
    path = config_path(config, env, Path.cwd())
    url = read_config(path).store.url if path is not None else None
    if url == "memory://":
        raise CliError("the memory store lives inside the server: use --url")
    home = Path(env.get("TOKENWISE_HOME") or Path.cwd() / ".tokenwise")
    file = sqlite_file(url, home)
    if reads and file is not None and not file.exists() and not file.parent.is_file():
        store: Store = await MemoryStore().open()  # nothing was ever written there
    else:
        store = await open_store(url, home)
    try:
        return await work(store)
    finally:
        await store.close()


def run_remote(url: str, call: Call) -> Any:
    import httpx

    key = os.environ.get(MASTER_KEY_ENV)
    if not key:
        raise CliError(f"--url needs the master key in ${MASTER_KEY_ENV}")
    endpoint = url.rstrip("/").removesuffix("/v1") + call.path
    try:
        resp = httpx.request(
            call.method,
            endpoint,
            params=call.params,
            json=call.body,
            headers={"authorization": f"Bearer {key}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach {endpoint}: {exc}") from None
    if resp.status_code >= 400:
        try:
            message = resp.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = resp.text[:500]
        raise CliError(f"{endpoint} answered {resp.status_code}: {message}")
    return resp.json()


COMMANDS = {"teams": team_command, "keys": key_command, "budgets": budget_command}


def run(args: argparse.Namespace) -> int:
    prog = f"tokenwise {args.command} {args.action}"
    try:
        call, local = COMMANDS[args.command](args)
        if args.url:
            answer = run_remote(args.url, call)
        else:
            answer = asyncio.run(run_local(args.config, local, reads=call.method == "GET"))
    except (CliError, ProxyError, ValueError, *STORE_ERRORS) as exc:
        message = exc.message if isinstance(exc, ProxyError) else store_problem(exc)
        print(f"{prog}: {message}", file=sys.stderr)
        return 2
    sys.stdout.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0
