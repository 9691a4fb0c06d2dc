"""vLLM's OpenAI server: gpt-oss takes `reasoning_effort` (rendered into Harmony's system
message); Qwen3-style hybrid models are switched with `chat_template_kwargs.enable_thinking`.

A model entry with levels gets `reasoning_effort`; one without levels but `can_disable` is a
switch model and gets `enable_thinking` (merged into the client's other template kwargs), or
the kwarg its entry names in `reasoning.template_kwarg` (`thinking` for DeepSeek-V3.1/V3.2).
Reasoning comes back in `message.reasoning` (vLLM renamed it from `reasoning_content` in late
2025; both are read).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from router.providers.base import ParamReport
from router.providers.effort_plan import EffortPlan, can_switch_off, levels_of
from router.providers.openai_compat import OpenAICompatAdapter

if TYPE_CHECKING:
    from router.config.load import ModelSpec


class VLLMAdapter(OpenAICompatAdapter):
    name = "vllm"
    output_field = "reasoning"
    switch_kwarg = "enable_thinking"

    def write_effort(
        self, out: dict[str, Any], plan: EffortPlan, model: ModelSpec, report: ParamReport
    ) -> None:
        spec = model.reasoning
        switch = spec is not None and not levels_of(spec, self.wire_efforts)
        if switch and spec is not None and can_switch_off(spec) and plan.on is not None:
            kwargs = out.get("chat_template_kwargs")
            merged = dict(kwargs) if isinstance(kwargs, Mapping) else {}
            merged[spec.template_kwarg or self.switch_kwarg] = plan.on
            out["chat_template_kwargs"] = merged
        elif plan.wire is not None:
            out["reasoning_effort"] = plan.wire
