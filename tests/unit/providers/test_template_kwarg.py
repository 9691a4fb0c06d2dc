"""A vLLM/SGLang switch model is turned on and off with its own chat-template kwarg:
`enable_thinking` (Qwen3) by default, `thinking` (DeepSeek-V3.1/V3.2) where its entry says."""

from __future__ import annotations

import dataclasses

import pytest

from router.providers.sglang import SGLangAdapter
from router.providers.vllm import VLLMAdapter
from router.reasoning.intent import ReasoningIntent
from tests.unit.providers.catalog import catalog

BODY = {
    "model": "x",
    "messages": [{"role": "user", "content": "hi"}],
    "chat_template_kwargs": {"thinking": False, "custom": 1},
}


@pytest.mark.parametrize("adapter", [VLLMAdapter(), SGLangAdapter()], ids=["vllm", "sglang"])
@pytest.mark.parametrize(("kwarg", "sent"), [(None, "enable_thinking"), ("thinking", "thinking")])
def test_the_switch_goes_by_the_models_own_kwarg(
    adapter: VLLMAdapter, kwarg: str | None, sent: str
) -> None:
    model = next(
        m
        for m in catalog().values()
        if m.reasoning and m.reasoning.can_disable and not m.reasoning.efforts
    )
    assert model.reasoning is not None
    model = dataclasses.replace(
        model, reasoning=dataclasses.replace(model.reasoning, template_kwarg=kwarg)
    )
    off = ReasoningIntent(effort="none", enabled=False, sources=("chat_template_kwargs.thinking",))
    call = adapter.build(BODY, model, off, False)
    assert call.body["chat_template_kwargs"] == {sent: False, "custom": 1}
