"""A client's own Gemini `thinking_config` and a reasoning effort never both go upstream
(Gemini refuses the pair): the client's config wins over a routed effort, and a client that
sends both is told to pick one."""

from __future__ import annotations

from typing import Any

import pytest

from router.errors import InvalidReasoning
from router.providers.gemini import GeminiAdapter
from router.reasoning.intent import ReasoningIntent
from tests.unit.providers.catalog import catalog

OWN = {"thinking_config": {"thinking_budget": 0}}


def body(**extra: Any) -> dict[str, Any]:
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}], **extra}


@pytest.mark.parametrize("where", ["extra_body", "top level"])
def test_the_clients_config_wins_over_a_routed_effort(where: str) -> None:
    sent = body(extra_body={"google": OWN}) if where == "extra_body" else body(google=OWN)
    routed = ReasoningIntent(effort="high", enabled=True, sources=("reasoning_effort",))
    call = GeminiAdapter().build(sent, catalog()["gemini-2.5-flash"], routed, False)
    assert "reasoning_effort" not in call.body
    held = call.body["extra_body"]["google"] if where == "extra_body" else call.body["google"]
    assert held == OWN


def test_an_effort_next_to_the_clients_config_is_a_conflict() -> None:
    sent = body(reasoning_effort="high", extra_body={"google": OWN})
    asked = ReasoningIntent(effort="high", enabled=True, sources=("reasoning_effort",))
    with pytest.raises(InvalidReasoning) as caught:
        GeminiAdapter().build(sent, catalog()["gemini-2.5-flash"], asked, False)
    assert caught.value.param == "reasoning_effort" and "thinking_config" in caught.value.message
