"""The integrity rules every backend enforces, and the money units of budget counters (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from router.store.base import KeyRecord, RateRefusal, RateRule

RATE_WINDOW = 60


def micros_up(amount: Decimal) -> int:
    """USD to integer micro-dollars, rounded up (what a request costs never shrinks)."""
    return int(amount.scaleb(6).to_integral_value(rounding=ROUND_CEILING))


def micros_down(amount: Decimal) -> int:
    """USD to integer micro-dollars, rounded down (what a limit allows never grows)."""
    return int(amount.scaleb(6).to_integral_value(rounding=ROUND_FLOOR))


def settle_micros(actual: Decimal) -> int:
    if actual < 0:
        raise ValueError("settle: the actual cost must be >= 0")
    return micros_up(actual)


def usd(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-6)


def scope_owner(scope: str) -> tuple[str, str] | None:
    """`("team", name)` or `("key", key_id)` for scopes that name a principal, else None."""
    kind, sep, name = scope.partition(":")
    if sep and name and kind in ("team", "key"):
        return kind, name
    return None


def unique(scopes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(scopes))


def check_key(key: KeyRecord, team_exists: bool, old: KeyRecord | None, holder: str | None) -> None:
    """Refuse a key whose team is unknown, whose digest another key holds, or that moves team.

    `old` is the stored record with the same id; `holder` the id of the key holding the digest.
    """
    if not team_exists:
        raise ValueError(f"key {key.key_id}: unknown team {key.team!r}")
    if holder is not None and holder != key.key_id:
        raise ValueError(f"key {key.key_id}: another key already has this digest")
    if old is not None and old.team != key.team:
        raise ValueError(f"key {key.key_id} belongs to team {old.team!r}; it cannot move")
    if len(key.key_sha256) != 64:
        raise ValueError(f"key {key.key_id}: key_sha256 must be a hex SHA-256 digest")


def check_budget_owner(scope: str, team_exists: bool, key_exists: bool) -> None:
    owner = scope_owner(scope)
    if owner is None:
        return
    kind, name = owner
    if kind == "team" and not team_exists:
        raise ValueError(f"budget {scope}: unknown team {name!r}")
    if kind == "key" and not key_exists:
        raise ValueError(f"budget {scope}: unknown key {name!r}")


def check_reserve(
    amount: Decimal, minimum: Decimal | None, lease_seconds: float, tokens: int
) -> None:
    if amount < 0 or (minimum is not None and not 0 <= minimum <= amount):
        raise ValueError("reserve: need 0 <= minimum <= amount")
    if lease_seconds <= 0:
        raise ValueError("reserve: lease_seconds must be positive")
    if tokens < 0:
        raise ValueError("reserve: tokens must be >= 0")


def minute_of(now: float) -> int:
    return int(now // RATE_WINDOW) * RATE_WINDOW


def rate_refusal(
    rule: RateRule, used_requests: int, used_tokens: int, tokens: int, minute: int
) -> RateRefusal | None:
    """The refusal for one rule, or None when one more request of `tokens` fits."""
    resets = float(minute + RATE_WINDOW)
    if rule.rpm is not None and used_requests + 1 > rule.rpm:
        return RateRefusal(rule.scope, "rpm", rule.rpm, used_requests, 1, resets)
    if rule.tpm is not None and used_tokens + tokens > rule.tpm:
        return RateRefusal(rule.scope, "tpm", rule.tpm, used_tokens, tokens, resets)
    return None


def rate_limits(rules: Sequence[RateRule]) -> list[tuple[int, int]]:
    """Each rule's limits with -1 for none, as the Redis script takes them."""
    return [(-1 if r.rpm is None else r.rpm, -1 if r.tpm is None else r.tpm) for r in rules]
