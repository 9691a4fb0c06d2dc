"""Records to JSON and back, exactly: decimals travel as strings, tuples as lists (pure).

Decoding ignores fields it does not know and lets missing ones take their defaults, so a record
written by a newer or older version still reads.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from decimal import Decimal
from typing import Any, TypeVar

import orjson

from router.store.base import BudgetRecord, KeyRecord, LedgerRecord, TeamRecord

T = TypeVar("T", TeamRecord, KeyRecord, BudgetRecord, LedgerRecord)


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def to_dict(record: object) -> dict[str, object]:
    return {f.name: _plain(getattr(record, f.name)) for f in dataclasses.fields(record)}  # type: ignore[arg-type]


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps_bytes(record: object) -> bytes:
    """Compact JSON with sorted keys (orjson encodes the dataclass itself, tuples as lists)."""
    return orjson.dumps(record, default=_default, option=orjson.OPT_SORT_KEYS)


def dumps(record: object) -> str:
    return dumps_bytes(record).decode("utf-8")


_HINTS: dict[str, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls.__qualname__)
    if hints is None:
        hints = _HINTS[cls.__qualname__] = typing.get_type_hints(cls)
    return hints


def _members(hint: Any) -> tuple[Any, ...]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return (hint,)


def _typed(hint: Any, value: object) -> Any:
    if value is None:
        return None
    members = _members(hint)
    if Decimal in members:
        return Decimal(str(value))
    if isinstance(value, list) and any(typing.get_origin(m) is tuple for m in members):
        return tuple(value)
    if float in members and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    hints = _hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: _typed(hints[k], v) for k, v in data.items() if k in known})


def loads(cls: type[T], text: str | bytes) -> T:
    return from_dict(cls, orjson.loads(text))
