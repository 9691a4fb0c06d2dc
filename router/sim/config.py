"""The simulator's own config file (YAML), checked strictly: an unknown key does not boot.

    seed: 0                         # same seed + same request -> byte-identical response
    include_default_catalog: true   # start from the embedded catalog (false: only `models`)
    models:
      sim-small:                    # an existing name: change only what is listed
        ttft_ms: 5
      sim-flaky:                    # a new name: copy of `base` (default sim-small), changed
        base: sim-large-reasoner
        fault: {status: 503, fail_first: 1}
        profiles:
          math: {reasoning_mean: 900}

Model keys are SimModel's fields (profiles and fault as nested mappings) plus `base`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from router.config.yamltext import parse_yaml, read_text
from router.sim.catalog import APIS, CATEGORIES, DIALECTS, EFFORTS, SimModel, default_catalog
from router.sim.faults import apply_faults, parse_faults
from router.sim.fields import (
    FieldError,
    join,
    reject_unknown,
    want_bool,
    want_int,
    want_mapping,
    want_str,
    want_str_tuple,
)

_TOP = frozenset({"seed", "include_default_catalog", "models"})
_PROFILE = frozenset({"answer_mean", "answer_spread", "reasoning_mean", "reasoning_spread"})
_INTS = {"context_window": 1, "ttft_ms": 0, "inter_chunk_ms": 0, "tokens_per_chunk": 1}
_BOOLS = frozenset({"reasoning", "ignores_effort", "can_disable"})
_STRS = frozenset({"imitates", "description"})
_MODEL = (
    frozenset({"base", "dialect", "efforts", "profiles", "fault", "apis"})
    | _BOOLS
    | _STRS
    | set(_INTS)
)
_DEFAULT_BASE = "sim-small"


@dataclass(frozen=True)
class SimConfig:
    models: tuple[SimModel, ...]
    seed: int = 0


def load_sim_config(path: str | None) -> SimConfig:
    """The embedded catalog when `path` is None, else the file checked against it.

    Raises ValueError naming the file and the key path of the first problem.
    """
    if path is None:
        return SimConfig(models=default_catalog())
    try:
        text = read_text(path)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the simulator config: {error.strerror}") from None
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from None
    try:
        return build_sim_config({} if raw is None else raw)
    except FieldError as error:
        raise ValueError(f"{path}: {error}") from None


def build_sim_config(raw: Any) -> SimConfig:
    """A SimConfig from parsed YAML/JSON. Raises FieldError with the key path."""
    if not isinstance(raw, Mapping):
        raise FieldError("(document)", "expected a mapping at the top level")
    top = want_mapping(raw, "(document)")
    reject_unknown(top, _TOP, "")
    seed = want_int(top.get("seed", 0), "seed", maximum=2**63 - 1)
    defaults = {model.name: model for model in default_catalog()}
    include = want_bool(top.get("include_default_catalog", True), "include_default_catalog")
    models = dict(defaults) if include else {}
    entries = want_mapping(top.get("models") or {}, "models")
    for name, entry in entries.items():
        models[name] = _model(name, {} if entry is None else entry, defaults, models)
    if not models:
        raise FieldError("models", "no models: list some or include the default catalog")
    return SimConfig(models=tuple(models.values()), seed=seed)


def _model(
    name: str,
    raw: Any,
    defaults: Mapping[str, SimModel],
    known: Mapping[str, SimModel],
) -> SimModel:
    path = join("models", name)
    entry = want_mapping(raw, path)
    reject_unknown(entry, _MODEL, path)
    base_name = want_str(
        entry.get("base", name if name in known else _DEFAULT_BASE), f"{path}.base"
    )
    base = known.get(base_name) or defaults.get(base_name)
    if base is None:
        raise FieldError(join(path, "base"), f"no model named {base_name}")
    changes: dict[str, Any] = {"name": name}
    for key, value in entry.items():
        where = join(path, key)
        if key in _INTS:
            changes[key] = want_int(value, where, minimum=_INTS[key])
        elif key in _BOOLS:
            changes[key] = want_bool(value, where)
        elif key in _STRS:
            changes[key] = want_str(value, where)
        elif key == "dialect":
            changes[key] = want_str(value, where, choices=DIALECTS)
        elif key == "efforts":
            changes[key] = want_str_tuple(value, where, choices=EFFORTS)
        elif key == "apis":
            changes[key] = want_str_tuple(value, where, choices=APIS)
        elif key == "profiles":
            changes[key] = _profiles(base, value, where)
        elif key == "fault":
            changes[key] = apply_faults(base.fault, parse_faults(value, where))
    try:
        return dataclasses.replace(base, **changes)
    except FieldError as error:
        raise FieldError(join(path, error.path), error.problem) from error


def _profiles(base: SimModel, raw: Any, path: str) -> Any:
    entry = want_mapping(raw, path)
    reject_unknown(entry, frozenset(CATEGORIES), path)
    changes: dict[str, Any] = {}
    for category, value in entry.items():
        where = join(path, category)
        numbers = want_mapping(value, where)
        reject_unknown(numbers, _PROFILE, where)
        fields = {key: want_int(number, join(where, key)) for key, number in numbers.items()}
        changes[category] = dataclasses.replace(base.profiles.for_category(category), **fields)
    return dataclasses.replace(base.profiles, **changes)
