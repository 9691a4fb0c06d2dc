"""An echoed provider key is blanked in answers; a placeholder key (`ollama`, `x`) is not a
secret and is left alone, since blanking it would corrupt words and JSON field names."""

from __future__ import annotations

from dataclasses import replace

from router.api.chat import redact, secret_of
from router.services import Target
from tests.unit.providers.catalog import catalog

ANSWER = (
    b'{"choices":[{"index":0,"message":{"tool_calls":'
    b'[{"function":{"name":"list_ollama_models"}}]}}]}'
)


def target(key: str | None) -> Target:
    model = next(iter(catalog().values()))
    provider = replace(model.provider, api_key=key)
    return Target(replace(model, provider=provider), "http://upstream", {})


def test_a_real_key_is_blanked_wherever_it_is_echoed() -> None:
    key = "sk-live-0123456789abcdef0123"
    echoed = ANSWER.replace(b"list_ollama_models", key.encode())
    assert redact(echoed, target(key)) == ANSWER.replace(b"list_ollama_models", b"[redacted]")
    assert secret_of(target(key)) == key.encode()


def test_placeholder_keys_are_not_secrets() -> None:
    for key in ("ollama", "x", "EMPTY", None):
        assert redact(ANSWER, target(key)) == ANSWER
        assert secret_of(target(key)) is None
