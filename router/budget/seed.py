"""Teams, keys and budgets declared in the config, written into the store at start-up.

Infrastructure as code: `auth.teams`, `auth.keys` and `budgets.limits` are upserted each time
a server starts, so the config wins over what the admin API changed for the same names, with
two exceptions that keep an operator's decision: a key revoked in the store stays revoked
(give the key a new name and secret to bring it back), and a team created implicitly by a key
keeps the routing policy set for it through the admin API. Nothing the config does not name is
touched. Records already equal to the config are not rewritten, so several replicas starting
together do not fight.
"""

from __future__ import annotations

import time
from dataclasses import replace

from router.auth import DEV_TEAM
from router.budget.validate import budget_record
from router.config.load import Settings
from router.store.base import KeyRecord, Store, TeamRecord


class SeedError(ValueError):
    """The config names something the store refuses (the message names the config key)."""


async def seed(store: Store, settings: Settings) -> None:
    config = settings.config
    now = time.time()
    declared = {t.name: t.policy for t in config.auth.teams}
    implicit = {p.team for p in settings.keys.values()}
    if settings.dev_key:
        implicit.add(DEV_TEAM)
    for name in sorted(set(declared) | implicit):
        existing = await store.get_team(name)
        if existing is None:
            await store.put_team(TeamRecord(name, now, declared.get(name)))
        elif name in declared and existing.policy != declared[name]:
            await store.put_team(replace(existing, policy=declared[name]))
    for i, (digest, principal) in enumerate(settings.keys.items()):
        old = await store.get_key(principal.key_id)
        record = KeyRecord(
            key_id=principal.key_id,
            team=principal.team,
            key_sha256=digest,
            name=principal.key_id,
            created_at=old.created_at if old else now,
            expires_at=principal.expires_at,
            models=principal.models,
            revoked=old.revoked if old else False,
            budget_usd=old.budget_usd if old else None,
            rpm=principal.rpm,
            tpm=principal.tpm,
        )
        if record != old:
            try:
                await store.put_key(record)
            except ValueError as exc:
                raise SeedError(f"{settings.source}: auth.keys.{i}: {exc}") from None
    for name in config.rate_limits.teams:
        if await store.get_team(name) is None:
            raise SeedError(
                f"{settings.source}: rate_limits.teams.{name}: no team named {name!r} "
                "(declare it in auth.teams, or create it with `tokenwise teams create`)"
            )
    for i, spec in enumerate(config.budgets.limits):
        budget = budget_record(spec.scope, config, i)
        current = (await store.get_budgets([spec.scope])).get(spec.scope)
        if current != budget:
            try:
                await store.put_budget(budget)
            except ValueError as exc:
                raise SeedError(f"{settings.source}: budgets.limits.{i}: {exc}") from None
