"""OpenAI's chat-completions wire format: the base every OpenAI-compatible dialect builds on.

`OpenAICompatAdapter` (dialect `openai_compat`) is the generic host: every field is forwarded
(unknown ones too), the effort goes out as `reasoning_effort`, and a `developer` message becomes
`system` (most chat templates know no `developer` role). Dialects subclass it and declare only
their differences: the parameter table, the levels their API can express, where reasoning comes
back, and how the effort is written.

`OpenAIAdapter` (dialect `openai`) is api.openai.com. A model entry with a `reasoning` block is a
reasoning model (o-series, gpt-5): its output cap is `max_completion_tokens`, sampling
parameters other than the defaults are dropped (the API rejects them), system messages go out as
`developer`, and reasoning text from earlier turns is removed (the API accepts no such field; it
returns no reasoning text either).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from router.providers.base import (
    ALL_MAPPED,
    NO_CHAT_TEMPLATE,
    NO_OVERRIDES,
    ParamReport,
    Rule,
    StreamTranslator,
    UpstreamCall,
    bearer_headers,
    dropped,
    mapped,
    table,
    with_usage,
)
from router.providers.content import THINK_OPENED
from router.providers.effort_plan import EffortPlan, plan_effort
from router.providers.openai_reply import ChatStream, parse_chat_response
from router.providers.params import apply_rules
from router.reasoning.effort import Effort
from router.reasoning.intent import strip_reasoning_controls

if TYPE_CHECKING:
    from router.config.load import ModelSpec
    from router.reasoning.intent import ReasoningIntent

HISTORY_REASONING: Final = (
    "reasoning_content",
    "reasoning",
    "reasoning_details",
    "thinking_blocks",
)


class OpenAICompatAdapter:
    name: ClassVar[str] = "openai_compat"
    path: ClassVar[str] = "/chat/completions"
    params: ClassVar[Mapping[str, Rule]] = ALL_MAPPED
    reasoning_params: ClassVar[Mapping[str, Rule]] = {}
    """Rules over `params` for models with a `reasoning` block."""
    wire_efforts: ClassVar[frozenset[Effort] | None] = None
    """Levels the API can express at all (None: the whole ladder)."""
    takes_budget: ClassVar[bool] = False
    """The API takes a thinking budget in tokens (`write_effort` sends `plan.budget`)."""
    output_field: ClassVar[str] = "reasoning_content"
    """Where reasoning comes back when the model entry does not say."""
    strip_history_reasoning: ClassVar[bool] = False
    keep_tool_turn_reasoning: ClassVar[bool] = False
    """With `strip_history_reasoning`: an assistant turn that called tools keeps its reasoning
    (DeepSeek requires it back for the rest of the conversation)."""

    def build(
        self, body: Mapping[str, Any], model: ModelSpec, intent: ReasoningIntent, strict: bool
    ) -> UpstreamCall:
        report = ParamReport(provider=model.provider.name)
        wire, budget = self.wire_efforts, self.takes_budget
        plan = plan_effort(intent, model, report, strict, wire_efforts=wire, takes_budget=budget)
        rules = {**self.params, **self.reasoning_params} if model.reasoning else self.params
        out = apply_rules(strip_reasoning_controls(body), rules, report, strict=strict)
        out["model"] = model.upstream_id
        messages = out.get("messages")
        if isinstance(messages, list):
            out["messages"] = self.messages(messages, model)
        self.write_effort(out, plan, model, report)
        if out.get("stream") is True:
            out["stream_options"] = with_usage(out.get("stream_options"))
        return UpstreamCall(self.path, out, self.headers(model), report)

    def write_effort(
        self, out: dict[str, Any], plan: EffortPlan, model: ModelSpec, report: ParamReport
    ) -> None:
        """Put the planned effort on the wire (here: `reasoning_effort`, when a level is sent)."""
        if plan.wire is not None:
            out["reasoning_effort"] = plan.wire

    def role_for(self, role: str, model: ModelSpec) -> str:
        return "system" if role == "developer" else role

    def messages(self, messages: list[Any], model: ModelSpec) -> list[Any]:
        """Messages as this upstream takes them (the same list when nothing changes)."""
        out: list[Any] = []
        changed = False
        for message in messages:
            new = message
            if isinstance(message, Mapping):
                role = message.get("role")
                if isinstance(role, str) and self.role_for(role, model) != role:
                    new = {**message, "role": self.role_for(role, model)}
                strip = role == "assistant" and self.strip_history_reasoning
                if strip and self.keep_tool_turn_reasoning and message.get("tool_calls"):
                    strip = False
                if strip and any(key in message for key in HISTORY_REASONING):
                    new = {k: v for k, v in new.items() if k not in HISTORY_REASONING}
            changed = changed or new is not message
            out.append(new)
        return out if changed else messages

    def headers(self, model: ModelSpec) -> dict[str, str]:
        return bearer_headers(model.provider.api_key)

    def output(self, model: ModelSpec) -> str | None:
        """Where this model's reasoning arrives (None: not a reasoning model)."""
        if model.reasoning is None:
            return None
        if model.reasoning.think_opened_by_template:
            return THINK_OPENED  # think_tags, the answer starting inside the block
        return model.reasoning.output_field or self.output_field

    def parse_response(
        self,
        payload: dict[str, Any],
        model: ModelSpec,
        show_reasoning: bool,
        *,
        created: int = 0,
    ) -> dict[str, Any]:
        return parse_chat_response(payload, self.output(model), show_reasoning)

    def stream(
        self, model: ModelSpec, show_reasoning: bool, *, created: int = 0
    ) -> StreamTranslator:
        return ChatStream(self.output(model), show_reasoning)


_DEFAULTS_ONLY = "reasoning models accept only the default value"


class OpenAIAdapter(OpenAICompatAdapter):
    name = "openai"
    params = table(chat_template_kwargs=NO_CHAT_TEMPLATE)
    reasoning_params = table(
        NO_OVERRIDES,
        max_tokens=mapped("max_completion_tokens"),
        temperature=dropped(_DEFAULTS_ONLY, default=1),
        top_p=dropped(_DEFAULTS_ONLY, default=1),
        presence_penalty=dropped(_DEFAULTS_ONLY, default=0),
        frequency_penalty=dropped(_DEFAULTS_ONLY, default=0),
        logprobs=dropped("reasoning models return no log-probabilities", default=False),
        top_logprobs=dropped("reasoning models return no log-probabilities", default=0),
        logit_bias=dropped(_DEFAULTS_ONLY, default={}),
    )
    output_field = "none"
    strip_history_reasoning = True

    def role_for(self, role: str, model: ModelSpec) -> str:
        if role == "system" and model.reasoning is not None:
            return "developer"
        return role
