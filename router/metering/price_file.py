"""Validation of a price file's JSON into a `PriceTable` (schema in `router.metering.pricing`).

Every problem is collected with its key path (`models.gpt-5.batch.output: missing price`) and
raised together as one `PricingError` naming the file, so a bad file is fixed in one pass.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from router.metering.pricing import (
    ContextTier,
    Fees,
    ModelEntry,
    ModelPrice,
    PriceTable,
    PricingError,
    Rates,
)

_TOP_KEYS = frozenset({"version", "currency", "unit", "models"})
_RATE_KEYS = frozenset({"input", "cached_input", "cache_write", "output"})
_PRICE_KEYS = _RATE_KEYS | {"batch", "long_context", "fees", "source", "date", "note"}
_MODEL_KEYS = _PRICE_KEYS | {"imitates", "imitates_provider", "providers"}
_TIER_KEYS = _RATE_KEYS | {"above_input_tokens", "batch"}
_CACHE_WRITE_KEYS = frozenset({"5m", "1h"})
_FEE_KEYS = frozenset({"per_request", "per_web_search"})
_VERSION = 1


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")


def parse_price_file(text: str, path: str) -> PriceTable:
    try:
        raw = json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise PricingError(path, [f"line {exc.lineno} column {exc.colno}: {exc.msg}"]) from exc
    except ValueError as exc:
        raise PricingError(path, [str(exc)]) from exc
    problems = _Problems()
    entries = _parse_top(raw, problems)
    if problems.items:
        raise PricingError(path, problems.items)
    return PriceTable(entries, path=path, version=_VERSION)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse_top(raw: Any, problems: _Problems) -> dict[str, ModelEntry]:
    if not isinstance(raw, dict):
        problems.add("(top level)", "must be a JSON object")
        return {}
    _unknown(raw, _TOP_KEYS, "", problems)
    expected: dict[str, object] = {"currency": "USD", "unit": "per_million_tokens"}
    for key, want in expected.items():
        if raw.get(key) != want:
            problems.add(key, f"must be {want!r} (got {raw.get(key)!r})")
    if raw.get("version") != _VERSION or isinstance(raw.get("version"), bool):
        problems.add("version", f"must be {_VERSION} (got {raw.get('version')!r})")
    models = raw.get("models")
    if not isinstance(models, dict) or not models:
        problems.add("models", "must be a non-empty object of price entries")
        return {}
    entries = {key: _parse_model(key, value, problems) for key, value in models.items()}
    _check_imitations(entries, problems)
    return entries


def _parse_model(key: str, raw: Any, problems: _Problems) -> ModelEntry:
    where = f"models.{key}"
    if not isinstance(raw, dict):
        problems.add(where, "must be an object")
        return ModelEntry(key, None, {})
    _unknown(raw, _MODEL_KEYS, where, problems)
    inherited = {name: raw[name] for name in ("source", "date", "note", "fees") if name in raw}
    providers: dict[str, ModelPrice] = {}
    raw_providers = raw.get("providers", {})
    if not isinstance(raw_providers, dict):
        problems.add(f"{where}.providers", "must be an object of provider blocks")
        raw_providers = {}
    for name, block in raw_providers.items():
        block_where = f"{where}.providers.{name}"
        if not isinstance(block, dict):
            problems.add(block_where, "must be an object")
            continue
        _unknown(block, _PRICE_KEYS, block_where, problems)
        providers[name] = _parse_price(key, name, inherited | block, block_where, problems)
    has_rates = any(name in raw for name in _RATE_KEYS | {"batch", "long_context"})
    default = None
    if has_rates or not providers:
        default = _parse_price(key, None, raw, where, problems)
    elif "imitates" in raw:
        problems.add(f"{where}.imitates", "needs the entry's own input and output prices")
    return ModelEntry(key, default, providers)


def _parse_price(
    key: str, provider: str | None, raw: Mapping[str, Any], where: str, problems: _Problems
) -> ModelPrice:
    rates = _parse_rates(raw, where, problems)
    batch = _parse_rate_block(raw.get("batch"), f"{where}.batch", problems)
    return ModelPrice(
        key=key,
        provider=provider,
        rates=rates,
        source=_text(raw, "source", where, problems, required=True) or "",
        date=_date(raw.get("date"), f"{where}.date", problems),
        batch=batch,
        long_context=_parse_tiers(raw.get("long_context"), f"{where}.long_context", problems),
        fees=_parse_fees(raw.get("fees"), f"{where}.fees", problems),
        note=_text(raw, "note", where, problems, required=False),
        imitates=_text(raw, "imitates", where, problems, required=False),
        imitates_provider=_text(raw, "imitates_provider", where, problems, required=False),
    )


def _parse_rate_block(raw: Any, where: str, problems: _Problems) -> Rates | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.add(where, "must be an object")
        return None
    _unknown(raw, _RATE_KEYS, where, problems)
    return _parse_rates(raw, where, problems)


def _parse_rates(raw: Mapping[str, Any], where: str, problems: _Problems) -> Rates:
    write_5m = write_1h = None
    writes = raw.get("cache_write")
    if writes is not None:
        if isinstance(writes, dict):
            _unknown(writes, _CACHE_WRITE_KEYS, f"{where}.cache_write", problems)
            write_5m = _price(writes, "5m", f"{where}.cache_write", problems, required=False)
            write_1h = _price(writes, "1h", f"{where}.cache_write", problems, required=False)
        else:
            problems.add(f"{where}.cache_write", 'must be an object like {"5m": 3.75}')
    return Rates(
        input=_price(raw, "input", where, problems, required=True) or Decimal(0),
        output=_price(raw, "output", where, problems, required=True) or Decimal(0),
        cached_input=_price(raw, "cached_input", where, problems, required=False),
        cache_write_5m=write_5m,
        cache_write_1h=write_1h,
    )


def _parse_tiers(raw: Any, where: str, problems: _Problems) -> tuple[ContextTier, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(where, "must be a list of tiers")
        return ()
    tiers: list[ContextTier] = []
    for index, item in enumerate(raw):
        item_where = f"{where}[{index}]"
        if not isinstance(item, dict):
            problems.add(item_where, "must be an object")
            continue
        _unknown(item, _TIER_KEYS, item_where, problems)
        bound = item.get("above_input_tokens")
        if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
            problems.add(f"{item_where}.above_input_tokens", "must be a whole number >= 0")
            bound = 0
        rates = _parse_rates(item, item_where, problems)
        batch = _parse_rate_block(item.get("batch"), f"{item_where}.batch", problems)
        tiers.append(ContextTier(bound, rates, batch))
    bounds = [tier.above_input_tokens for tier in tiers]
    if len(set(bounds)) != len(bounds):
        problems.add(where, "two tiers share one above_input_tokens bound")
    return tuple(sorted(tiers, key=lambda tier: tier.above_input_tokens))


def _parse_fees(raw: Any, where: str, problems: _Problems) -> Fees:
    if raw is None:
        return Fees()
    if not isinstance(raw, dict):
        problems.add(where, "must be an object")
        return Fees()
    _unknown(raw, _FEE_KEYS, where, problems)
    zero = Decimal(0)
    return Fees(
        per_request=_price(raw, "per_request", where, problems, required=False) or zero,
        per_web_search=_price(raw, "per_web_search", where, problems, required=False) or zero,
    )


def _price(
    raw: Mapping[str, Any], key: str, where: str, problems: _Problems, *, required: bool
) -> Decimal | None:
    value = raw.get(key)
    if value is None:
        if required or key in raw:
            problems.add(f"{where}.{key}", "missing price")
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        problems.add(f"{where}.{key}", f"price must be a number (got {value!r})")
        return None
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        problems.add(f"{where}.{key}", f"price must be >= 0 (got {value})")
        return None
    return number


def _text(
    raw: Mapping[str, Any], key: str, where: str, problems: _Problems, *, required: bool
) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{where}.{key}", "missing" if value is None else "must be non-empty text")
        return None
    return value


def _date(value: Any, where: str, problems: _Problems) -> datetime.date:
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(where, "missing" if value is None else f"must be a YYYY-MM-DD date ({value!r})")
    return datetime.date.min


def _unknown(
    raw: Mapping[str, Any], allowed: frozenset[str], where: str, problems: _Problems
) -> None:
    for key in raw:
        if key not in allowed:
            path = f"{where}.{key}" if where else key
            problems.add(path, f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _check_imitations(entries: Mapping[str, ModelEntry], problems: _Problems) -> None:
    for key, entry in entries.items():
        price = entry.default
        if price is None:
            continue
        where = f"models.{key}.imitates"
        if price.imitates is None:
            if price.imitates_provider is not None:
                problems.add(f"{where}_provider", "given without imitates")
            continue
        target = entries.get(price.imitates) if price.imitates != key else None
        if target is None:
            problems.add(where, f"names no other price entry ({price.imitates!r})")
            continue
        wanted = price.imitates_provider
        if wanted is not None and wanted not in target.providers:
            problems.add(f"{where}_provider", f"{price.imitates!r} has no block for {wanted!r}")
        elif wanted is None and target.default is None:
            problems.add(f"{where}_provider", f"{price.imitates!r} is priced per provider only")
