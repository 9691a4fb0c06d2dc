"""Anthropic through its native Messages API (`POST /messages`), never its OpenAI-compatible
endpoint (which silently ignores `reasoning_effort` and returns no thinking).

Effort, per model entry:

* manual thinking (`adaptive_only: false`): `thinking: {type: enabled, budget_tokens}` with the
  level's budget (or the client's own), at least 1024 tokens and below `max_tokens`, keeping
  `min_visible_tokens` of answer room where it can: the client's `max_tokens` is its bound on
  everything generated, so it is never raised; the budget is lowered instead, and when not even
  1024 fits below it thinking goes off; reported. Effort `none` sends no thinking at all;
* adaptive (`adaptive_only: true`, Claude 4.7 and later): `thinking: {type: adaptive, display:
  summarized}` (newer models omit thinking text unless asked) with `output_config: {effort}`,
  levels low..max; `none` is `{type: disabled}` where the entry says `can_disable`;
* a client that hides reasoning (`reasoning.exclude`, ...) gets `display: omitted` on either
  kind: the blocks come back without their text (still billed), and unchanged they remain
  valid to send back in a tool loop.

With thinking on, the API takes no sampling changes: `temperature` and `top_p` are dropped and
reported; nor a forced `tool_choice` (`required`, a named function), nor a tool loop whose
assistant turn lost its thinking blocks, nor a client's output cap at or under the minimum
budget: thinking then goes off (where the model can switch it off; else the forced choice
becomes `auto`), reported as dropped, and the client's sampling goes on. Without thinking,
`temperature` is at most 1 (lowered, reported) and `top_p` goes only without `temperature`
(newer models refuse both: dropped, reported). A `tool_choice` without `tools` is left out
(a forced one is a 400).
`max_tokens` is required: without one from the client, the model's `max_output_tokens` (else
8192) is sent, and a larger one is lowered to it and reported. Unknown fields are dropped and
reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from router.errors import InvalidRequest
from router.providers.anthropic_reply import AnthropicStream, completion
from router.providers.anthropic_request import (
    loop_without_thinking,
    to_anthropic,
    to_anthropic_tool_choice,
    to_anthropic_tools,
)
from router.providers.base import (
    NO_CHAT_TEMPLATE,
    NO_OVERRIDES,
    ParamReport,
    Rule,
    StreamTranslator,
    UpstreamCall,
    dropped,
    mapped,
    refused,
    table,
)
from router.providers.effort_plan import (
    EffortPlan,
    budget_on_wire,
    plan_effort,
    room_for_thinking,
    thinking_off,
    wanted_budget,
)
from router.providers.params import DROP_UNKNOWN, apply_rules
from router.reasoning.effort import Effort
from router.reasoning.intent import strip_reasoning_controls

if TYPE_CHECKING:
    from router.config.load import ModelSpec
    from router.reasoning.intent import ReasoningIntent

API_VERSION: Final = "2023-06-01"
MIN_BUDGET: Final = 1024
DEFAULT_MAX_TOKENS: Final = 8192
ADAPTIVE_EFFORTS: Final[frozenset[Effort]] = frozenset({"low", "medium", "high", "xhigh", "max"})

_NO_API = "the Messages API has no such parameter"
_THINKING = "the Messages API takes no sampling changes while thinking"
_CONSUMED: Final = ("messages", "tools", "tool_choice", "parallel_tool_calls", "stream_options")


def _stop(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


class AnthropicAdapter:
    name: ClassVar[str] = "anthropic"
    path: ClassVar[str] = "/messages"
    params: ClassVar[Mapping[str, Rule]] = table(
        max_completion_tokens=mapped("max_tokens"),
        stop=mapped("stop_sequences", _stop),
        user=mapped("metadata", lambda user: {"user_id": user}),
        n=refused("the Messages API returns one choice", default=1),
        presence_penalty=dropped(_NO_API, default=0),
        frequency_penalty=dropped(_NO_API, default=0),
        logit_bias=dropped(_NO_API, default={}),
        logprobs=dropped(_NO_API, default=False),
        top_logprobs=dropped(_NO_API, default=0),
        seed=dropped(_NO_API),
        safety_identifier=dropped(_NO_API),
        functions=refused("send `tools` instead"),
        function_call=refused("send `tool_choice` instead"),
        response_format=refused(
            "structured output is not translated to Anthropic", default={"type": "text"}
        ),
        service_tier=dropped("OpenAI's service tiers do not exist there"),
        store=dropped(_NO_API, default=False),
        metadata=dropped("OpenAI's metadata has no Anthropic counterpart", default={}),
        modalities=refused("text output only", default=["text"]),
        audio=refused("no audio output"),
        prediction=dropped(_NO_API),
        web_search_options=refused("web search is not translated to Anthropic"),
        verbosity=dropped(_NO_API),
        moderation=dropped(_NO_API),
        prompt_cache_key=dropped("caching is set per block with cache_control"),
        prompt_cache_retention=dropped("caching is set per block with cache_control"),
        prompt_cache_options=dropped("caching is set per block with cache_control"),
        chat_template_kwargs=NO_CHAT_TEMPLATE,
    )
    thinking_params: ClassVar[Mapping[str, Rule]] = table(
        NO_OVERRIDES,
        temperature=dropped(_THINKING, default=1),
        top_p=dropped(_THINKING, default=1),
    )

    def build(
        self, body: Mapping[str, Any], model: ModelSpec, intent: ReasoningIntent, strict: bool
    ) -> UpstreamCall:
        report = ParamReport(provider=model.provider.name)
        spec = model.reasoning
        adaptive = spec is not None and spec.adaptive_only
        wire = ADAPTIVE_EFFORTS if adaptive else None
        plan = plan_effort(intent, model, report, strict, wire_efforts=wire, takes_budget=True)
        thinking = plan.on is True or (adaptive and plan.on is not False)
        if thinking and forces_a_tool(body.get("tool_choice")):
            plan, body = self._forced_tool(plan, body, model, report, strict)
            thinking = plan.on is True or (adaptive and plan.on is not False)
        messages = body.get("messages")
        if thinking and isinstance(messages, list) and loop_without_thinking(messages):
            plan = self._bare_loop(plan, model, report, strict)
            thinking = plan.on is True or (adaptive and plan.on is not False)
        if thinking and not adaptive:
            plan = self._room(plan, body, report)
            thinking = plan.on is True
        rules = {**self.params, **self.thinking_params} if thinking else self.params
        mapped_body = apply_rules(
            strip_reasoning_controls(body), rules, report, strict=strict, unknown=DROP_UNKNOWN
        )
        system, messages = to_anthropic(mapped_body.get("messages") or [])
        out: dict[str, Any] = {"model": model.upstream_id, "messages": messages}
        if system is not None:
            out["system"] = system
        out.update({k: v for k, v in mapped_body.items() if k not in (*_CONSUMED, "model")})
        if mapped_body.get("tools"):
            out["tools"] = to_anthropic_tools(mapped_body["tools"])
        choice = to_anthropic_tool_choice(
            mapped_body.get("tool_choice"), mapped_body.get("parallel_tool_calls")
        )
        if choice is not None and "tools" in out:
            out["tool_choice"] = choice
        elif choice is not None and choice["type"] in ("tool", "any"):
            raise InvalidRequest(
                "Invalid value for 'tool_choice': it forces a tool call, but no 'tools' are "
                "given; add the tools or leave 'tool_choice' out.",
                param="tool_choice",
            )
        _sampling(out, report, strict)
        cap = spec.max_output_tokens if spec is not None else None
        asked = out.get("max_tokens")
        if cap and isinstance(asked, int) and asked > cap:  # the API would refuse it
            out["max_tokens"] = cap
            report.clamp("max_tokens", cap)
        self._thinking(out, plan, model, report, adaptive)
        if (
            not intent.show
            and isinstance(out.get("thinking"), dict)
            and out["thinking"].get("type") in ("enabled", "adaptive")
        ):
            # Hidden from the client: Anthropic sends the blocks without their text, and such
            # blocks go back unchanged on the next turn of a tool loop, as the API requires.
            out["thinking"] = {**out["thinking"], "display": "omitted"}
        if "max_tokens" not in out:
            limit = spec.max_output_tokens if spec is not None else None
            out["max_tokens"] = limit or DEFAULT_MAX_TOKENS
        return UpstreamCall(self.path, out, self.headers(model), report)

    def _forced_tool(
        self,
        plan: EffortPlan,
        body: Mapping[str, Any],
        model: ModelSpec,
        report: ParamReport,
        strict: bool,
    ) -> tuple[EffortPlan, Mapping[str, Any]]:
        """Anthropic takes no forced `tool_choice` (`required`, a named function) with thinking
        on. The forced call is the client's contract, so thinking goes off, where the model
        can switch it off; else the choice becomes `auto`. Either is reported."""
        spec = model.reasoning
        if spec is None or not spec.adaptive_only or spec.can_disable:
            why = "no thinking with a forced tool_choice"
            return thinking_off(plan, report, strict, "reasoning_effort", why), body
        report.drop(
            "tool_choice", strict, "this model always thinks, and thinking takes no forced tool"
        )
        return plan, {**body, "tool_choice": "auto"}

    def _room(self, plan: EffortPlan, body: Mapping[str, Any], report: ParamReport) -> EffortPlan:
        """A client's output cap at or under the minimum thinking budget leaves no room for
        thinking: it goes off before the sampling rules are chosen, so the client's
        `temperature` and `top_p` still go (`_thinking` would find the same, too late)."""
        for key in ("max_completion_tokens", "max_tokens"):
            cap = body.get(key)
            if isinstance(cap, int) and not isinstance(cap, bool):
                if room_for_thinking(cap, MIN_BUDGET):
                    return plan
                why = f"{key} {cap} leaves no room for thinking"
                why += f" (at least {MIN_BUDGET} tokens below it)"
                return thinking_off(plan, report, False, "reasoning_effort", why)
        return plan

    def _bare_loop(
        self, plan: EffortPlan, model: ModelSpec, report: ParamReport, strict: bool
    ) -> EffortPlan:
        """A tool loop whose assistant turn came back without its thinking blocks (a client
        that rebuilt the message instead of sending back `reasoning_details`): Anthropic
        refuses it with thinking on, so thinking goes off for this turn, where the model can
        switch it off, and is reported."""
        spec = model.reasoning
        if spec is not None and spec.adaptive_only and not spec.can_disable:
            return plan
        why = (
            "a tool loop whose assistant turn has no thinking blocks (send back its "
            "reasoning_details) cannot go on with thinking"
        )
        return thinking_off(plan, report, strict, "reasoning_effort", why)

    def _thinking(
        self,
        out: dict[str, Any],
        plan: EffortPlan,
        model: ModelSpec,
        report: ParamReport,
        adaptive: bool,
    ) -> None:
        spec = model.reasoning
        if spec is None or plan.quiet:
            return
        if adaptive:
            if plan.on is False:
                out["thinking"] = {"type": "disabled"}
                return
            out["thinking"] = {"type": "adaptive", "display": "summarized"}
            if plan.wire is not None:
                out["output_config"] = {"effort": plan.wire}
            return
        if not plan.on:
            return
        budget = budget_on_wire(
            out,
            wanted_budget(plan, spec),
            spec,
            report,
            minimum=MIN_BUDGET,
            explicit=plan.budget is not None,
            cap_keys=("max_tokens",),
            default_cap=spec.max_output_tokens or DEFAULT_MAX_TOKENS,
        )
        if budget is not None:
            out["thinking"] = {"type": "enabled", "budget_tokens": budget}

    def headers(self, model: ModelSpec) -> dict[str, str]:
        headers = {"content-type": "application/json", "anthropic-version": API_VERSION}
        if model.provider.api_key:
            headers["x-api-key"] = model.provider.api_key
        return headers

    def parse_response(
        self,
        payload: dict[str, Any],
        model: ModelSpec,
        show_reasoning: bool,
        *,
        created: int = 0,
    ) -> dict[str, Any]:
        return completion(payload, created, show_reasoning)

    def stream(
        self, model: ModelSpec, show_reasoning: bool, *, created: int = 0
    ) -> StreamTranslator:
        return AnthropicStream(show_reasoning, created)


def _sampling(out: dict[str, Any], report: ParamReport, strict: bool) -> None:
    """Anthropic's range and rule: `temperature` from 0 to 1 (OpenAI's goes to 2: above 1 is
    lowered to 1), and `temperature` or `top_p`, not both (newer models refuse both: `top_p`
    is dropped). Both reported."""
    temperature = out.get("temperature")
    if isinstance(temperature, int | float) and temperature > 1:
        out["temperature"] = 1
        report.clamp("temperature", 1)
    if "temperature" in out and "top_p" in out:
        del out["top_p"]
        report.drop("top_p", strict, "Anthropic takes temperature or top_p, not both")


def forces_a_tool(choice: object) -> bool:
    """`tool_choice: required`, or one naming a function."""
    return choice == "required" or (
        isinstance(choice, Mapping) and choice.get("type") == "function"
    )
