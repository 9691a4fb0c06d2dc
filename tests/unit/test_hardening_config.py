"""The hardening keys: server.response_limit_bytes, shutdown_grace_seconds, metrics_token_env,
providers.<name>.ca_bundle; and the redaction of a secret from an error message."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.config.load import ConfigError, load_settings
from router.errors import UpstreamStatus

CONFIG = """
server:
  metrics_token_env: TW_METRICS
providers:
  p: {base_url: "https://p.test/v1"}
models:
  m: {provider: p, price: sim-small}
"""


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(None, env={"TOKENWISE_HOME": str(tmp_path)}, cwd=tmp_path)
    server = settings.config.server
    assert server.response_limit_bytes == 64 * 1024 * 1024
    assert server.shutdown_grace_seconds == 30
    assert server.metrics_token_env is None and settings.metrics_token is None


def test_the_metrics_token_comes_from_the_named_variable(tmp_path: Path) -> None:
    config = tmp_path / "tokenwise.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {"TOKENWISE_HOME": str(tmp_path), "TW_METRICS": "tok"}
    assert load_settings(str(config), env=env).metrics_token == "tok"
    with pytest.raises(ConfigError, match=r"server\.metrics_token_env: .*TW_METRICS is not set"):
        load_settings(str(config), env={"TOKENWISE_HOME": str(tmp_path)})


@pytest.mark.parametrize(
    "bad",
    ["server: {response_limit_bytes: 10}", "server: {shutdown_grace_seconds: 0}"],
)
def test_limits_are_checked(tmp_path: Path, bad: str) -> None:
    config = tmp_path / "tokenwise.yaml"
    config.write_text(bad + "\n" + CONFIG.split("\n", 3)[3], encoding="utf-8")
    key = bad.split("{")[1].split(":")[0]
    with pytest.raises(ConfigError, match=rf"server\.{key}"):
        load_settings(str(config), env={"TOKENWISE_HOME": str(tmp_path)})


def test_redact_takes_every_copy_of_the_secret_out() -> None:
    error = UpstreamStatus(401, "bad key sk-1234 (sk-1234)")
    error.redact("sk-1234")
    assert error.body()["error"]["message"] == "bad key [redacted] ([redacted])"
    error.redact(None)
    error.redact("")
    assert "[redacted]" in error.message
