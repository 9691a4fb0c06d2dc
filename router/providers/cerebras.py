"""Cerebras: `reasoning_effort` (gpt-oss low/medium/high) and `reasoning_format: parsed`, which
returns reasoning in `message.reasoning`; `raw` would concatenate gpt-oss reasoning and answer
with no separator at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from router.providers.base import NO_CHAT_TEMPLATE, ParamReport, table
from router.providers.effort_plan import EffortPlan
from router.providers.openai_compat import OpenAICompatAdapter

if TYPE_CHECKING:
    from router.config.load import ModelSpec


class CerebrasAdapter(OpenAICompatAdapter):
    name = "cerebras"
    params = table(chat_template_kwargs=NO_CHAT_TEMPLATE)
    output_field = "reasoning"

    def write_effort(
        self, out: dict[str, Any], plan: EffortPlan, model: ModelSpec, report: ParamReport
    ) -> None:
        if model.reasoning is None:
            return
        out["reasoning_format"] = "parsed"
        if plan.wire is not None:
            out["reasoning_effort"] = plan.wire
