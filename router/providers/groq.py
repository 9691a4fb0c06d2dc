"""Groq: `reasoning_effort` (gpt-oss low/medium/high; Qwen3 `none` or `default`). A switch
model (Qwen3) also gets `reasoning_format: parsed`, which returns reasoning in
`message.reasoning` instead of inline `<think>` (`raw`, its default); gpt-oss models (the ones
with levels) take no `reasoning_format` (Groq refuses it) and answer in `message.reasoning`
already. `include_reasoning` is never sent (the proxy hides reasoning itself when asked).
Reasoning in earlier assistant turns is not sent back (Groq refuses `reasoning_content` there).
Groq rejects log-probabilities, `logit_bias` and `n` other than 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from router.providers.base import NO_CHAT_TEMPLATE, ParamReport, dropped, refused, table
from router.providers.effort_plan import EffortPlan, levels_of
from router.providers.openai_compat import OpenAICompatAdapter

if TYPE_CHECKING:
    from router.config.load import ModelSpec

_UNSUPPORTED = "not supported by Groq"


class GroqAdapter(OpenAICompatAdapter):
    name = "groq"
    params = table(
        logprobs=dropped(_UNSUPPORTED, default=False),
        top_logprobs=dropped(_UNSUPPORTED, default=0),
        logit_bias=dropped(_UNSUPPORTED, default={}),
        n=refused("Groq returns one choice per request", default=1),
        chat_template_kwargs=NO_CHAT_TEMPLATE,
    )
    output_field = "reasoning"
    strip_history_reasoning = True  # Groq refuses `reasoning_content` on assistant messages
    switch_on = "default"
    """The `reasoning_effort` value that switches thinking on for a model without levels."""

    def write_effort(
        self, out: dict[str, Any], plan: EffortPlan, model: ModelSpec, report: ParamReport
    ) -> None:
        spec = model.reasoning
        if spec is None:
            return
        if levels_of(spec, self.wire_efforts):  # gpt-oss: reasoning in `message.reasoning`
            if plan.wire is not None:
                out["reasoning_effort"] = plan.wire
            return
        out["reasoning_format"] = "parsed"  # a switch model (Qwen3): else inline <think>
        if plan.on:
            out["reasoning_effort"] = self.switch_on
        elif plan.wire is not None:
            out["reasoning_effort"] = plan.wire
