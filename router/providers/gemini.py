"""Gemini's OpenAI-compatible endpoint: `reasoning_effort`, or `thinking_config`, never both.

An effort goes out as `reasoning_effort` (Google maps it to a budget on 2.5 and a level on 3).
A budget the client gave explicitly goes out as
`extra_body.google.thinking_config: {thinking_budget, include_thoughts: true}` instead; Google's
compat layer reads the literal `extra_body` key. Thought summaries then come back inline in
`content` as `<thought>...</thought>`, which is moved to the reasoning fields. Only with
`include_thoughts` does Gemini return thought text at all; with an effort alone, reasoning is
counted in usage but not returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from router.errors import InvalidReasoning
from router.providers.base import NO_CHAT_TEMPLATE, ParamReport, UpstreamCall, dropped, table
from router.providers.effort_plan import EffortPlan, budget_on_wire
from router.providers.openai_compat import OpenAICompatAdapter
from router.reasoning.intent import CLIENT_CONTROLS, ReasoningIntent

if TYPE_CHECKING:
    from router.config.load import ModelSpec

_UNKNOWN_THERE = "not supported by Gemini's OpenAI-compatible endpoint"
MIN_BUDGET = 128  # the lowest budget any Gemini 2.5 model accepts (Pro)


class GeminiAdapter(OpenAICompatAdapter):
    name = "gemini"
    params = table(
        chat_template_kwargs=NO_CHAT_TEMPLATE,
        logit_bias=dropped(_UNKNOWN_THERE),
        # OpenAI's stored-completion fields: Gemini answers 400 "Unknown name" to each
        store=dropped(_UNKNOWN_THERE, default=False),
        metadata=dropped(_UNKNOWN_THERE, default={}),
    )
    wire_efforts = frozenset({"minimal", "low", "medium", "high"})
    takes_budget = True
    output_field = "think_tags"

    def build(
        self, body: Mapping[str, Any], model: ModelSpec, intent: ReasoningIntent, strict: bool
    ) -> UpstreamCall:
        """A client that sets Gemini's own `thinking_config` (under `extra_body.google` or
        `google`) controls thinking itself: no effort is added to it (Gemini refuses both), and
        a reasoning control of ours next to it is a conflict."""
        if own_thinking_config(body) is None:
            return super().build(body, model, intent, strict)
        for control in CLIENT_CONTROLS:
            if control in body:
                raise InvalidReasoning(
                    f"'{control}' and google.thinking_config both set Gemini's thinking: send "
                    "one of them.",
                    param=control,
                )
        return super().build(body, model, ReasoningIntent(), strict)

    def write_effort(
        self, out: dict[str, Any], plan: EffortPlan, model: ModelSpec, report: ParamReport
    ) -> None:
        spec = model.reasoning
        if plan.budget is not None and plan.on and spec is not None:
            budget = budget_on_wire(
                out, plan.budget, spec, report, minimum=MIN_BUDGET, explicit=True
            )
            if budget is not None:
                config = {"thinking_budget": budget, "include_thoughts": True}
                out["extra_body"] = {"google": {"thinking_config": config}}
        elif plan.wire is not None:
            out["reasoning_effort"] = plan.wire


def own_thinking_config(body: Mapping[str, Any]) -> object:
    """The client's own `thinking_config`, under `extra_body.google` or `google`, if any."""
    for holder in (body.get("extra_body"), body):
        google = holder.get("google") if isinstance(holder, Mapping) else None
        if isinstance(google, Mapping) and google.get("thinking_config") is not None:
            return google["thinking_config"]
    return None
