"""DeepSeek: reasoning is a choice of model (`deepseek-reasoner` thinks, `deepseek-chat` does
not), so no effort is ever sent; declare the reasoner with a `reasoning` block without levels and
an effort request is reported as dropped.

The reasoner returns `message.reasoning_content`, and earlier turns must not carry it back
(`reasoning_content` in the input was a 400), so reasoning fields are stripped from the history.
Sampling parameters are accepted but have no effect on the reasoner (dropped and reported) and
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
from router.providers.effort_plan import EffortPlan
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

    def write_effort(
        self, out: dict[str, Any], plan: EffortPlan, model: ModelSpec, report: ParamReport
    ) -> None:
        """Nothing: DeepSeek has no effort parameter."""
