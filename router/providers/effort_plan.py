"""From the client's reasoning intent and a model entry to what goes on the wire (pure).

Three kinds of reasoning model, told apart by their `reasoning` block:

* **levels**: `efforts` lists levels; the request rounds onto them (`round_effort`, INTERFACES.md
  "Effort"), `none` only when `can_disable`;
* **switch**: no levels but `can_disable` (Qwen3's `enable_thinking`): thinking on or off, at the
  model's own depth (`x-tokenwise-effort: ...; sent=default`);
* **fixed**: no levels and cannot switch off (DeepSeek's reasoner, grok-4): nothing can be sent;
  the reasoning control is dropped and reported.

A model without a `reasoning` block does not reason: an effort other than `none` is dropped and
reported (`sent=none`). An adapter may restrict the levels its API can express (`wire_efforts`,
e.g. Ollama's low/medium/high): declared levels outside it are never sent.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from router.reasoning.effort import DEFAULT_BUDGETS, Effort, EffortChoice, round_effort

if TYPE_CHECKING:
    from router.config.load import ModelSpec, ReasoningSpec
    from router.providers.base import ParamReport
    from router.reasoning.intent import ReasoningIntent


@dataclass(frozen=True, slots=True)
class EffortPlan:
    requested: Effort | None
    """What the client asked for (None: nothing; the upstream's default applies)."""
    wire: Effort | None
    """The level to send; None: send no level."""
    on: bool | None
    """Thinking on or off; None: untouched (the upstream's default, or not a reasoning model)."""
    budget: int | None = None
    """A thinking budget the client gave explicitly, in tokens."""

    @property
    def quiet(self) -> bool:
        """Nothing to send at all."""
        return self.wire is None and self.on is None


NOTHING = EffortPlan(requested=None, wire=None, on=None)


def levels_of(spec: ReasoningSpec, wire_efforts: Collection[Effort] | None) -> list[Effort]:
    """The model's levels above `none` that the adapter's API can express."""
    return [
        effort
        for effort in spec.efforts
        if effort != "none" and (wire_efforts is None or effort in wire_efforts)
    ]


def can_switch_off(spec: ReasoningSpec) -> bool:
    return spec.can_disable or "none" in spec.efforts


def plan_effort(
    intent: ReasoningIntent,
    model: ModelSpec,
    report: ParamReport,
    strict: bool,
    *,
    wire_efforts: Collection[Effort] | None = None,
    takes_budget: bool = False,
) -> EffortPlan:
    """Decide the effort for one request and record it in ``report`` (drops included);
    ``takes_budget``: the API takes a thinking budget in tokens (else a client's budget goes as
    the level it maps to, or as thinking on, reported)."""
    spec = model.reasoning
    requested = intent.resolved_effort(spec.budgets if spec else DEFAULT_BUDGETS)
    if requested is None:
        return NOTHING
    report.requested = requested
    param = intent.sources[0] if intent.sources else "reasoning_effort"
    if spec is None:
        report.effort = EffortChoice(requested=requested, sent="none")
        if requested != "none":
            report.drop(param, strict, "the model does not reason")
        return EffortPlan(requested, wire=None, on=None)
    levels = levels_of(spec, wire_efforts)
    off = can_switch_off(spec)
    if not levels and off:
        if requested == "none":
            report.effort = EffortChoice(requested="none", sent="none")
            return EffortPlan(requested, wire="none", on=False)
        if not takes_budget:
            _budget_unsent(intent, report, strict, "thinking switched on")
        return EffortPlan(requested, wire=None, on=True, budget=intent.budget_tokens)
    if not levels:
        report.drop(param, strict, "the model's reasoning cannot be adjusted")
        return EffortPlan(requested, wire=None, on=None)
    choice = round_effort(requested, levels, off)
    report.effort = choice
    if not takes_budget:
        _budget_unsent(intent, report, strict, f"effort {choice.sent} sent")
    return EffortPlan(requested, choice.sent, choice.sent != "none", budget=intent.budget_tokens)


def _budget_unsent(intent: ReasoningIntent, report: ParamReport, strict: bool, what: str) -> None:
    """A client's thinking budget on an API that takes none: never silently degraded."""
    if intent.budget_tokens is None:
        return
    param = next((s for s in intent.sources if s in BUDGET_PARAMS), BUDGET_PARAMS[0])
    report.drop(param, strict, f"this API takes no thinking budget in tokens ({what} instead)")


BUDGET_PARAMS = ("reasoning.max_tokens", "thinking.budget_tokens")


def thinking_off(
    plan: EffortPlan, report: ParamReport, strict: bool, param: str, why: str
) -> EffortPlan:
    """Thinking goes off for this request after all (what the client sent cannot go with it),
    reported as `report_thinking_off` says."""
    report_thinking_off(report, strict, param, why)
    return replace(plan, wire=None, on=False, budget=None)


def report_thinking_off(report: ParamReport, strict: bool, param: str, why: str) -> None:
    """`param` reported dropped for `why` (a 400 when strict), the effort as sent `none`."""
    report.drop(param, strict, why)
    if report.effort is not None:
        report.effort = replace(report.effort, sent="none", budget=None)


def wanted_budget(plan: EffortPlan, spec: ReasoningSpec) -> int:
    """The thinking budget to aim for: the client's own, else the level's from the table."""
    if plan.budget is not None:
        return plan.budget
    level = plan.wire if plan.wire not in (None, "none") else "medium"
    assert level is not None
    return spec.budgets[level]


@dataclass(frozen=True, slots=True)
class BudgetFit:
    budget: int
    cap: int
    """The output cap (max tokens) to send: always above the budget."""


def fit_budget(
    budget: int,
    cap: int | None,
    *,
    minimum: int,
    min_visible: int,
    limit: int | None,
    default_cap: int | None = None,
) -> BudgetFit | None:
    """Hold the budget invariants: ``minimum <= budget < cap``; None when no budget fits.

    The budget is raised to the provider's minimum and lowered so that budget + min_visible fits
    the model's output limit. A cap from the client is its bound on everything generated,
    reasoning included (as OpenAI's `max_completion_tokens`), so it is never raised: the
    budget is lowered to leave ``min_visible`` of answer room, else to the minimum, and when
    even the minimum does not fit below the cap there is no budget (None: no thinking).
    Without a cap from the client: the larger of the need and ``default_cap``, within the
    limit.
    """
    budget = max(budget, minimum)
    if limit is not None:
        budget = max(minimum, min(budget, limit - min_visible))
    need = budget + min_visible
    if cap is None:
        cap = max(need, default_cap or need)
        return BudgetFit(budget, min(cap, limit) if limit is not None else cap)
    if cap >= need:
        return BudgetFit(budget, cap)
    if cap - min_visible >= minimum:
        return BudgetFit(cap - min_visible, cap)
    if room_for_thinking(cap, minimum):
        return BudgetFit(minimum, cap)
    return None


def room_for_thinking(cap: int, minimum: int) -> bool:
    """Whether a client's output cap leaves room for the provider's minimum budget (as
    `fit_budget` decides: the budget must stay below the cap)."""
    return cap > minimum


def budget_on_wire(
    out: dict[str, Any],
    wanted: int,
    spec: ReasoningSpec,
    report: ParamReport,
    *,
    minimum: int,
    explicit: bool,
    cap_keys: tuple[str, ...] = ("max_completion_tokens", "max_tokens"),
    default_cap: int | None = None,
) -> int | None:
    """Fit ``wanted`` under the request's output cap, report what changed; None when the
    client's cap leaves no room for the provider's minimum budget (thinking goes off, reported
    as a dropped `reasoning_effort`).

    The cap is read from the first of ``cap_keys`` present in ``out``. The client's cap is
    never raised; without one, a cap is written only when ``default_cap`` is given (an API
    that requires a cap). A budget that had to move is reported in the effort header
    (`budget=N`) and, when the client gave it (``explicit``), as `thinking_budget`.
    """
    key = next((k for k in cap_keys if k in out), cap_keys[-1])
    cap = out.get(key)
    cap = cap if isinstance(cap, int) and not isinstance(cap, bool) else None
    fit = fit_budget(
        wanted,
        cap,
        minimum=minimum,
        min_visible=spec.min_visible_tokens,
        limit=spec.max_output_tokens,
        default_cap=default_cap,
    )
    if fit is None:
        why = f"{key} {cap} leaves no room for thinking (at least {minimum} tokens below it)"
        report_thinking_off(report, False, "reasoning_effort", why)
        return None
    if cap is None and default_cap is not None:
        out[key] = fit.cap
    if explicit and fit.budget != wanted:
        report.clamp("thinking_budget", fit.budget)
    if report.effort is not None:
        report.effort = report.effort.with_budget(fit.budget)
    return fit.budget
