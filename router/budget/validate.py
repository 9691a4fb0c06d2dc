"""Start-up checks of the `auth`, `budgets` and `rate_limits` sections beyond their types (pure).

Each problem is `(key path, message)`; `router.config.load` turns the first into a ConfigError
naming the file.
"""

from __future__ import annotations

from router.config.schema import Config
from router.store.base import BudgetRecord

LEASE_MARGIN = 60.0  # seconds a lease outlives the longest upstream exchange by default


def lease_seconds(config: Config) -> float:
    """The reservation lease: `budgets.lease_seconds`, else the total upstream timeout + 60 s."""
    chosen = config.budgets.lease_seconds
    return chosen if chosen is not None else config.server.timeouts.total + LEASE_MARGIN


def budget_record(spec_scope: str, config: Config, index: int) -> BudgetRecord:
    spec = config.budgets.limits[index]
    return BudgetRecord(
        scope=spec_scope,
        limit_usd=spec.limit_usd,
        window=spec.window,
        tz=spec.tz,
        hard=spec.hard,
        soft_threshold=spec.soft_threshold,
        soft_policy=spec.soft_policy,
    )


def problems(config: Config) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    budgets = config.budgets
    total = config.server.timeouts.total
    if budgets.lease_seconds is not None and budgets.lease_seconds <= total:
        found.append(
            (
                "budgets.lease_seconds",
                f"must be longer than server.timeouts.total ({total:g} s): a lease that ends "
                "while its request runs would count the request at its reservation",
            )
        )
    if budgets.webhook_url is not None and not budgets.webhook_url.startswith(
        ("http://", "https://")
    ):
        found.append(("budgets.webhook_url", "must start with http:// or https://"))
    seen: set[str] = set()
    for i, spec in enumerate(budgets.limits):
        where = f"budgets.limits.{i}"
        if spec.scope in seen:
            found.append((f"{where}.scope", f"{spec.scope} has two budgets"))
        seen.add(spec.scope)
        try:
            budget_record(spec.scope, config, i)
        except ValueError as exc:
            found.append((where, str(exc)))
    names = [k.name for k in config.auth.keys if k.name is not None]
    for name in {n for n in names if names.count(n) > 1}:
        found.append(("auth.keys", f"two keys are named {name!r}"))
    teams = [t.name for t in config.auth.teams]
    for name in {n for n in teams if teams.count(n) > 1}:
        found.append(("auth.teams", f"team {name!r} is declared twice"))
    return found
