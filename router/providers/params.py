"""Apply an adapter's parameter table to a request body (pure).

Canonical fields are processed in `CANONICAL_FIELDS` order (so `max_completion_tokens`, which
comes after `max_tokens`, wins when both map to one key), then unknown fields in body order.
JSON ``null`` is "absent" and removed. An unknown field is forwarded by adapters that speak
OpenAI's wire format (upstream extensions such as vLLM's `top_k` must reach it) and dropped,
reported, by adapters that translate into another format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.errors import UnsupportedParameter
from router.providers.base import CANONICAL_FIELDS, ParamReport, Rule, dropped, mapped

FORWARD_UNKNOWN = mapped()
DROP_UNKNOWN = dropped("not a parameter this provider's API has")
_CANONICAL = frozenset(CANONICAL_FIELDS)


def apply_rules(
    body: Mapping[str, Any],
    rules: Mapping[str, Rule],
    report: ParamReport,
    *,
    strict: bool,
    unknown: Rule = FORWARD_UNKNOWN,
) -> dict[str, Any]:
    """The body after every rule: MAPped keys renamed and converted, the rest removed."""
    canonical = [key for key in CANONICAL_FIELDS if key in body]
    others = [key for key in body if key not in _CANONICAL]
    out: dict[str, Any] = {}
    for key in (*canonical, *others):
        value = body[key]
        if value is None:
            continue
        rule = rules.get(key, unknown)
        if rule.kind == "MAP":
            out[rule.target or key] = rule.convert(value) if rule.convert else value
        elif rule.is_default(value):
            continue
        elif rule.kind == "DROP":
            report.drop(key, strict, rule.why)
        else:
            raise UnsupportedParameter(
                f"'{key}' is not supported by the provider '{report.provider}' ({rule.why}).",
                param=key,
            )
    return out
