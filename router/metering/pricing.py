"""The price table: dated, sourced USD prices per model (and per provider where hosts differ).

The file (`pricing.json` at the repository top level, shipped as `router/data/pricing.json`):

    {
      "version": 1,
      "currency": "USD",
      "unit": "per_million_tokens",
      "models": {
        "<price key>": {                  # the catalog's `price` key (defaults to the model name)
          "source": "https://...",        # where the figures were taken (required)
          "date": "2026-11-22",           # when they were taken, ISO date (required)
          "note": "...",                  # optional free text (how the figure was derived)
          "imitates": "o4-mini",          # simulated models: the price key they copy ...
          "imitates_provider": "groq",    # ... and the provider block, when it has one
          "input": 1.10,                  # uncached input, USD per 1M tokens
          "cached_input": 0.275,          # cache reads (absent: billed at the input rate)
          "cache_write": {"5m": 3.75, "1h": 6.00},   # cache writes by TTL tier (absent: input
                                          # rate; "5m" also prices writes whose TTL is unknown)
          "output": 4.40,                 # visible output and reasoning, USD per 1M tokens
          "batch": {"input": 0.55, "output": 2.20, "cached_input": ..., "cache_write": {...}},
          "long_context": [               # whole request at these rates once the prompt
            {"above_input_tokens": 200000,  # (uncached + cached + written) exceeds the bound
             "input": 2.50, "cached_input": 0.25, "output": 15.00, "batch": {...}}
          ],
          "fees": {"per_request": 0, "per_web_search": 0.01},   # USD per unit, not per 1M
          "providers": {                  # per-host prices; same keys as above except
            "groq": {"input": 0.15, ...}  # providers/imitates; source/date/note/fees inherited
          }
        }
      }
    }

A model entry holds its own rates, or `providers` blocks, or both (its own rates then price any
provider without a block). `input` and `output` are required wherever rates are given (batch
blocks and long-context tiers too); every price is a number >= 0. Unknown keys, missing or
negative prices and bad dates are rejected at load with the file and the key path named
(`PricingError`).

Lookup is `PriceTable.lookup(price_key, provider)`; costing lives in `router.metering.cost`.
"""

from __future__ import annotations

import datetime
import importlib.resources
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

SHIPPED_RESOURCE = ("data", "pricing.json")


class PricingError(ValueError):
    """The price file is unreadable or invalid; the message names the file and every bad key."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        lines = "\n".join(f"  {path}: {problem}" for problem in problems)
        super().__init__(f"invalid price file {path}:\n{lines}")


class PriceNotFound(KeyError):
    """No price for this model (or for this provider of it)."""

    def __init__(self, message: str, *, price_key: str, provider: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.price_key = price_key
        self.provider = provider

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per 1M tokens. `None` means the price list gives no figure for that kind."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write_5m: Decimal | None = None
    cache_write_1h: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ContextTier:
    """Rates for the whole request once the prompt exceeds `above_input_tokens`."""

    above_input_tokens: int
    rates: Rates
    batch: Rates | None = None


@dataclass(frozen=True, slots=True)
class Fees:
    """USD per unit (not per 1M tokens)."""

    per_request: Decimal = Decimal(0)
    per_web_search: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Everything needed to price one request on one model at one provider."""

    key: str
    provider: str | None  # the provider block used; None for the model's own prices
    rates: Rates
    source: str
    date: datetime.date
    batch: Rates | None = None
    long_context: tuple[ContextTier, ...] = ()
    fees: Fees = field(default_factory=Fees)
    note: str | None = None
    imitates: str | None = None
    imitates_provider: str | None = None


@dataclass(frozen=True, slots=True)
class ModelEntry:
    key: str
    default: ModelPrice | None
    providers: Mapping[str, ModelPrice]


class PriceTable:
    """A validated price file, read-only."""

    def __init__(self, entries: Mapping[str, ModelEntry], *, path: str, version: int) -> None:
        self._entries = dict(entries)
        self.path = path
        self.version = version

    def lookup(self, price_key: str, provider: str | None = None) -> ModelPrice:
        entry = self._entries.get(price_key)
        if entry is None:
            raise PriceNotFound(
                f"no price for model {price_key!r} in {self.path}",
                price_key=price_key,
                provider=provider,
            )
        if provider is not None and provider in entry.providers:
            return entry.providers[provider]
        if entry.default is not None:
            return entry.default
        hosts = ", ".join(sorted(entry.providers))
        wanted = "without a provider" if provider is None else f"at provider {provider!r}"
        raise PriceNotFound(
            f"no price for model {price_key!r} {wanted} in {self.path} (priced at: {hosts})",
            price_key=price_key,
            provider=provider,
        )

    def has(self, price_key: str, provider: str | None = None) -> bool:
        try:
            self.lookup(price_key, provider)
        except PriceNotFound:
            return False
        return True

    def entry(self, price_key: str) -> ModelEntry:
        return self._entries[price_key]

    def __contains__(self, price_key: object) -> bool:
        return price_key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def load_pricing(path: str | os.PathLike[str] | None = None) -> PriceTable:
    """Read and validate a price file; `None` reads the shipped one."""
    from router.metering.price_file import parse_price_file

    if path is not None:
        name = os.fspath(path)
        return parse_price_file(_read(Path(name), name), name)
    name, text = _read_shipped()
    return parse_price_file(text, name)


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PricingError(name, [f"cannot read: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise PricingError(name, [f"not UTF-8 text: {exc.reason}"]) from exc


def _read_shipped() -> tuple[str, str]:
    """The packaged `router/data/pricing.json`, else the repository's top-level file."""
    resource = importlib.resources.files("router").joinpath(*SHIPPED_RESOURCE)
    if resource.is_file():
        return str(resource), resource.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "pricing.json"
    return str(checkout), _read(checkout, str(checkout))
