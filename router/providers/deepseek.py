"""DeepSeek's API. Thinking models take `thinking: {type: enabled|disabled}` and
`reasoning_effort` low/high/max (DeepSeek maps the other levels onto these): an entry that
declares levels (and `can_disable`) gets them; an entry without levels (the legacy
`deepseek-reasoner`, whose reasoning is a choice of model) gets no effort, and an effort request
is reported as dropped.

Reasoning comes back in `message.reasoning_content`. Earlier turns' reasoning is not sent back
(it is ignored, and the legacy reasoner refused it), except on an assistant turn that called
tools: DeepSeek requires that one back for the rest of the conversation.
Sampling parameters are accepted but have no effect while thinking (dropped and reported) and
log-probabilities are an error (refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from router.providers.base import (
    NO_CHAT_TEMPLATE,
    NO_OVERRIDES,
    ParamReport,
    dropped,
    refused,
    table,
)
from router.providers.effort_plan import EffortPlan, can_switch_off, levels_of
from router.providers.openai_compat import OpenAICompatAdapter

if TYPE_CHECKING:
    from router.config.load import ModelSpec

_NO_EFFECT = "accepted by deepseek-reasoner but without any effect"
_NO_LOGPROBS = "deepseek-reasoner returns no log-probabilities"


class DeepSeekAdapter(OpenAICompatAdapter):
    name = "deepseek"
    params = table(chat_template_kwargs=NO_CHAT_TEMPLATE)
    reasoning_params = table(
        NO_OVERRIDES,
        temperature=dropped(_NO_EFFECT),
        top_p=dropped(_NO_EFFECT),
        presence_penalty=dropped(_NO_EFFECT),
        frequency_penalty=dropped(_NO_EFFECT),
        logprobs=refused(_NO_LOGPROBS, default=False),
        top_logprobs=refused(_NO_LOGPROBS, default=0),
    )
    output_field = "reasoning_content"
    strip_history_reasoning = True
    keep_tool_turn_reasoning = True
    wire_efforts = frozenset({"low", "high", "max"})

    def write_effort(
        self, out: dict[str, Any], plan: EffortPlan, model: ModelSpec, report: ParamReport
    ) -> None:
        """`thinking` off when switched off, `reasoning_effort` for a level; nothing for an
        entry without levels."""
        spec = model.reasoning
        if spec is None:
            return
        if plan.on is False and can_switch_off(spec):
            out["thinking"] = {"type": "disabled"}
        elif plan.wire is not None and levels_of(spec, self.wire_efforts):
            out["reasoning_effort"] = plan.wire
