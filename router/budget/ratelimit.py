"""Requests and tokens per minute: the rules a request is counted against, and the headers.

Rules come from the key (its own `rpm`/`tpm`, else `rate_limits.default_key`) and from the team
(`rate_limits.teams.<name>`, else `rate_limits.default_team`). The store enforces them in the
same atomic step as the budget reservation, in fixed minutes aligned on the epoch.

Headers follow OpenAI: `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`,
`x-ratelimit-reset-requests` and the same three for tokens, for the tightest rule. On a refusal
the figures are the store's. On success the store says only that the request fitted, so the
remaining counts are this process's own count for the minute: exact with one replica, an
overestimate of what is left when several share the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from router.auth import Principal
from router.config.schema import RateLimit, RateLimits
from router.store.base import RateRefusal, RateRule
from router.store.rules import RATE_WINDOW, minute_of

MAX_TRACKED = 10_000  # scopes remembered for the headers (the oldest minute is dropped first)


def rules_for(principal: Principal, limits: RateLimits) -> tuple[RateRule, ...]:
    """The key's rule, then the team's (per request: plain values, no model is built)."""
    key_rpm = principal.rpm or limits.default_key.rpm
    key_tpm = principal.tpm or limits.default_key.tpm
    team: RateLimit = limits.teams.get(principal.team, limits.default_team)
    rules = []
    if key_rpm is not None or key_tpm is not None:
        rules.append(RateRule(f"key:{principal.key_id}", rpm=key_rpm, tpm=key_tpm))
    if team.rpm is not None or team.tpm is not None:
        rules.append(RateRule(f"team:{principal.team}", rpm=team.rpm, tpm=team.tpm))
    return tuple(rules)


def reset_text(seconds: float) -> str:
    """A duration as OpenAI writes it: `20ms`, `1s`, `17.5s`, `6m0s`."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        text = format(Decimal(str(round(seconds, 3))).normalize(), "f")
        return f"{text}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


def refusal_headers(refusal: RateRefusal, now: float) -> dict[str, str]:
    kind = "requests" if refusal.rule == "rpm" else "tokens"
    return {
        f"x-ratelimit-limit-{kind}": str(refusal.limit),
        f"x-ratelimit-remaining-{kind}": str(max(0, refusal.limit - refusal.used)),
        f"x-ratelimit-reset-{kind}": reset_text(refusal.resets_at - now),
    }


class LocalMinutes:
    """This process's requests and tokens per scope in the current minute (for headers)."""

    def __init__(self) -> None:
        self._minute = 0
        self._counts: dict[str, tuple[int, int]] = {}

    def add(self, rules: Sequence[RateRule], tokens: int, now: float) -> dict[str, str]:
        """Count one request of `tokens`; the headers for the tightest rules."""
        minute = minute_of(now)
        if minute != self._minute or len(self._counts) > MAX_TRACKED:
            self._minute, self._counts = minute, {}
        reset = reset_text(minute + RATE_WINDOW - now)
        best: dict[str, tuple[int, int]] = {}
        for rule in rules:
            requests, used = self._counts.get(rule.scope, (0, 0))
            requests, used = requests + 1, used + tokens
            self._counts[rule.scope] = (requests, used)
            pairs = (("requests", rule.rpm, requests), ("tokens", rule.tpm, used))
            for kind, limit, count in pairs:
                if limit is None:
                    continue
                left = max(0, limit - count)
                if kind not in best or left < best[kind][1]:
                    best[kind] = (limit, left)
        headers = {}
        for kind, (limit, left) in best.items():
            headers[f"x-ratelimit-limit-{kind}"] = str(limit)
            headers[f"x-ratelimit-remaining-{kind}"] = str(left)
            headers[f"x-ratelimit-reset-{kind}"] = reset
        return headers
