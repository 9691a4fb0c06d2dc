"""YAML as the config files are read: safe, UTF-8, and a key given twice in one mapping is an
error (PyYAML keeps the last one silently, so a second `models:` section or a model entry
repeated further down would quietly replace the first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

MERGE = "tag:yaml.org,2002:merge"


class DuplicateKey(yaml.YAMLError):
    """A mapping names one key twice."""


class _UniqueKeys(yaml.SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE:
                continue  # `<<: *anchor`: its keys may be overridden here, as YAML allows
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable: the base class reports it
            line = key_node.start_mark.line + 1
            if key in seen:
                raise DuplicateKey(
                    f"line {line}: the key {key!r} is given twice (first on line {seen[key]})"
                )
            seen[key] = line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def parse_yaml(text: str) -> Any:
    """The document in `text`; raises `yaml.YAMLError` (a key given twice included)."""
    return yaml.load(text, Loader=_UniqueKeys)  # a SafeLoader: no arbitrary objects


def read_text(path: Path | str) -> str:
    """A config file's text; raises `ValueError` naming the file when it is not UTF-8."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            "save the file as UTF-8"
        ) from None
