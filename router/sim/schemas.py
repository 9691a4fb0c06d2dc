"""A small valid instance of a JSON Schema, for tool arguments and structured output.

Covers what tool and `response_format` schemas use in practice: `type` (also as a list),
`properties`/`required`, `items`/`prefixItems`/`minItems`, `enum`, `const`, `anyOf`/`oneOf`
(first usable branch), `allOf` (merged), local `$ref` (`#/$defs/...`, `#/definitions/...`),
numeric bounds, string lengths and common formats. Only required properties are filled in;
arrays get `minItems` items, at least one. Choices (enum member, numbers, words) come from the
caller's seeded random generator, so the same request gets the same instance.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from typing import Any

from router.sim.words import ANSWER_WORDS

_MAX_DEPTH = 16
_FORMATS = {
    "date": "2025-01-01",
    "date-time": "2025-01-01T00:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}


def instance(schema: Any, rng: random.Random) -> Any:
    """A value valid against `schema` (a JSON Schema as parsed JSON)."""
    root = schema if isinstance(schema, Mapping) else {}
    return _value(schema, root, rng, 0)


def _value(schema: Any, root: Mapping[str, Any], rng: random.Random, depth: int) -> Any:
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return _word(rng)
    if "$ref" in schema:
        return _value(_resolve(schema["$ref"], root), root, rng, depth + 1)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return rng.choice(enum)
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            return _value(_first_usable(branches, root), root, rng, depth + 1)
    if isinstance(schema.get("allOf"), list):
        return _value(_merge(schema), root, rng, depth + 1)
    kind = _kind(schema)
    if kind == "object":
        return _object(schema, root, rng, depth)
    if kind == "array":
        return _array(schema, root, rng, depth)
    if kind == "integer":
        low, high = _bounds(schema)
        return rng.randint(int(low), int(high))
    if kind == "number":
        low, high = _bounds(schema)
        return round(rng.uniform(low, high), 2) if high > low else low
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _string(schema, rng)


def _kind(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        usable = [t for t in declared if t != "null"]
        declared = usable[0] if usable else "null"
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def _resolve(ref: Any, root: Mapping[str, Any]) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        if not isinstance(node, Mapping):
            return {}
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
    return node


def _first_usable(branches: list[Any], root: Mapping[str, Any]) -> Any:
    for branch in branches:
        target = _resolve(branch["$ref"], root) if _is_ref(branch) else branch
        if not (isinstance(target, Mapping) and target.get("type") == "null"):
            return branch
    return branches[0]


def _is_ref(branch: Any) -> bool:
    return isinstance(branch, Mapping) and "$ref" in branch


def _merge(schema: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Any] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for part in schema["allOf"]:
        if not isinstance(part, Mapping):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, Mapping):
                properties.update(value)
            elif key == "required" and isinstance(value, list):
                required.extend(r for r in value if r not in required)
            else:
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _object(
    schema: Mapping[str, Any], root: Mapping[str, Any], rng: random.Random, depth: int
) -> dict[str, Any]:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = schema.get("required")
    names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
    return {name: _value(properties.get(name, {}), root, rng, depth + 1) for name in names}


def _array(
    schema: Mapping[str, Any], root: Mapping[str, Any], rng: random.Random, depth: int
) -> list[Any]:
    prefix = schema.get("prefixItems")
    items: list[Any] = []
    if isinstance(prefix, list):
        items = [_value(p, root, rng, depth + 1) for p in prefix]
    minimum = schema.get("minItems", 1)
    count = minimum if isinstance(minimum, int) and minimum > 0 else 1
    maximum = schema.get("maxItems")
    if isinstance(maximum, int):
        count = min(count, maximum)
    item_schema = schema.get("items", {})
    while len(items) < count:
        items.append(_value(item_schema, root, rng, depth + 1))
    return items


def _bounds(schema: Mapping[str, Any]) -> tuple[float, float]:
    low = _number(schema, "minimum", "exclusiveMinimum", 1)
    high = _number(schema, "maximum", "exclusiveMaximum", -1)
    if low is None:
        low = 0.0 if high is None or high >= 0 else high - 10
    if high is None:
        high = low + 10
    return low, max(low, high)


def _number(schema: Mapping[str, Any], inclusive: str, exclusive: str, step: int) -> float | None:
    value = schema.get(inclusive)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    value = schema.get(exclusive)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) + step
    return None


def _string(schema: Mapping[str, Any], rng: random.Random) -> str:
    fmt = schema.get("format")
    if fmt == "uuid":
        text = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    elif isinstance(fmt, str) and fmt in _FORMATS:
        text = _FORMATS[fmt]
    else:
        text = _word(rng)
    shortest = schema.get("minLength")
    if isinstance(shortest, int) and len(text) < shortest:
        text = text + "x" * (shortest - len(text))
    longest = schema.get("maxLength")
    if isinstance(longest, int):
        text = text[:longest]
    return text


def _word(rng: random.Random) -> str:
    return rng.choice(ANSWER_WORDS).strip()
