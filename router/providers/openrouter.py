"""OpenRouter: one `reasoning` object ({effort} | {max_tokens} | {enabled}), reasoning back in
`message.reasoning` with `reasoning_details` (passed through untouched), usage with `cost`.

A budget the client gave explicitly goes out as `reasoning.max_tokens` (OpenRouter wants effort
or max_tokens, not both). OpenRouter requires the output cap to stay above the budget: the
client's cap is its bound on everything generated and is never raised, so `fit_budget` lowers
the budget below it (reported), and when not even the minimum fits, reasoning goes off
(`enabled: false`, reported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from router.providers.base import ParamReport
from router.providers.effort_plan import EffortPlan, budget_on_wire
from router.providers.openai_compat import OpenAICompatAdapter

if TYPE_CHECKING:
    from router.config.load import ModelSpec

MIN_BUDGET = 1024  # the smallest budget OpenRouter passes to budget-based models (Claude)


class OpenRouterAdapter(OpenAICompatAdapter):
    name = "openrouter"
    output_field = "reasoning"
    takes_budget = True

    def write_effort(
        self, out: dict[str, Any], plan: EffortPlan, model: ModelSpec, report: ParamReport
    ) -> None:
        spec = model.reasoning
        if plan.on is False:
            out["reasoning"] = {"enabled": False}
        elif plan.budget is not None and spec is not None:
            budget = budget_on_wire(
                out, plan.budget, spec, report, minimum=MIN_BUDGET, explicit=True
            )
            out["reasoning"] = {"enabled": False} if budget is None else {"max_tokens": budget}
        elif plan.wire is not None:
            out["reasoning"] = {"effort": plan.wire}
        elif plan.on:
            out["reasoning"] = {"enabled": True}
