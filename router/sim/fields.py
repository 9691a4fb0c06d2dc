"""Typed reads of untrusted JSON/YAML values, with the key path kept for the error message.

The simulator reads two kinds of untrusted input: its YAML config and the `sim` field of a
request. Both report a bad value the same way, as a `FieldError` naming the dotted key path;
the config loader prefixes the file name, the request parser turns it into a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class FieldError(ValueError):
    """A value at `path` is wrong; `problem` says how."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def want_mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise FieldError(path, "expected a mapping with string keys")
    return value


def reject_unknown(value: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
    for key in value:
        if key not in allowed:
            raise FieldError(join(path, key), "unknown key")


def want_int(value: Any, path: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(path, "expected an integer")
    if value < minimum:
        raise FieldError(path, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise FieldError(path, f"must be <= {maximum}")
    return value


def want_number(value: Any, path: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(path, "expected a number")
    if value < minimum:
        raise FieldError(path, f"must be >= {minimum}")
    return float(value)


def want_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise FieldError(path, "expected true or false")
    return value


def want_str(value: Any, path: str, *, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str):
        raise FieldError(path, "expected a string")
    if choices is not None and value not in choices:
        raise FieldError(path, f"must be one of {', '.join(choices)}")
    return value


def want_str_tuple(value: Any, path: str, *, choices: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise FieldError(path, "expected a list")
    return tuple(want_str(item, f"{path}[{i}]", choices=choices) for i, item in enumerate(value))
