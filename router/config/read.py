"""Find and read the configuration file: `--config FILE`, else `$TOKENWISE_CONFIG`, else
`./tokenwise.yaml` if present (None: the embedded default). The YAML is validated against the
schema, and relative file paths in it are taken from the file's folder. Every failure is a
`ConfigError` whose message starts with the file and the key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from router.config.schema import Config
from router.config.yamltext import parse_yaml, read_text


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file and the key."""


def config_path(explicit: str | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    if explicit is not None:
        if not explicit.strip():
            raise ConfigError("--config names no file (an empty path): give the config's path")
        return Path(explicit)
    if env.get("TOKENWISE_CONFIG"):
        return Path(env["TOKENWISE_CONFIG"])
    local = cwd / "tokenwise.yaml"
    return local if local.is_file() else None


def read_config(path: Path) -> Config:
    try:
        raw = parse_yaml(read_text(path))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except ValueError as exc:  # not UTF-8
        raise ConfigError(str(exc)) from None
    return anchored(parse_config(raw if raw is not None else {}, str(path)), path.parent)


def anchored(config: Config, folder: Path) -> Config:
    """The config with its relative file paths (`metering.pricing_file`,
    `routing.policies_dir`) taken from the config file's folder, not the working directory, so
    that a config means the same files wherever the proxy is started from."""

    def under(value: str | None) -> str | None:
        if not value or Path(value).expanduser().is_absolute():
            return value
        return str(folder / value)

    metering, routing = config.metering, config.routing
    return config.model_copy(
        update={
            "metering": metering.model_copy(update={"pricing_file": under(metering.pricing_file)}),
            "routing": routing.model_copy(update={"policies_dir": under(routing.policies_dir)}),
        }
    )


def parse_config(raw: Any, source: str) -> Config:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{source}: {where}: unknown key") from None
        if first["type"] == "missing":
            raise ConfigError(f"{source}: {where}: required key is missing") from None
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None
