"""gpt-oss through a raw completion endpoint (`POST /completions`, e.g. vLLM's), in Harmony.

The proxy renders the prompt itself (`harmony_render.render_prompt`: the effort in Harmony's
system message, the client's system prompt as the developer message, tools as the `functions`
namespace) and asks for the special tokens in the output (`skip_special_tokens: false`). The
completion text is read with the Harmony repair parser (`known_harmony`): `analysis` becomes the
reasoning fields, `final` the content, `commentary to=functions.X` a tool call; output cut off
before a final answer keeps its reasoning, has empty content and finish reason `length`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from router.providers.base import (
    ParamReport,
    Rule,
    StreamTranslator,
    UpstreamCall,
    bearer_headers,
    dropped,
    mapped,
    refused,
    table,
    with_usage,
)
from router.providers.effort_plan import plan_effort
from router.providers.harmony_render import HARMONY_EFFORTS, render_prompt
from router.providers.openai_reply import ChoiceState, hide_reasoning, is_empty, whole_calls
from router.providers.params import apply_rules
from router.reasoning.effort import Effort
from router.reasoning.intent import strip_reasoning_controls

if TYPE_CHECKING:
    from router.config.load import ModelSpec
    from router.reasoning.intent import ReasoningIntent

_RENDERED = "the prompt is rendered by the proxy"
_NOT_COMPLETIONS = "the completion endpoint has no such parameter"
_TEXT_ONLY = "a Harmony completion is text"


def _choice_text(choice: Mapping[str, Any]) -> str:
    text = choice.get("text")
    return text if isinstance(text, str) else ""


class HarmonyAdapter:
    name: ClassVar[str] = "harmony"
    path: ClassVar[str] = "/completions"
    params: ClassVar[Mapping[str, Rule]] = table(
        max_completion_tokens=mapped("max_tokens"),
        tool_choice=dropped("Harmony cannot force a tool call", default="auto"),
        parallel_tool_calls=dropped(_RENDERED, default=True),
        logprobs=dropped("chat log-probabilities are not translated", default=False),
        top_logprobs=dropped("chat log-probabilities are not translated", default=0),
        functions=refused("send `tools` instead"),
        function_call=refused("send `tool_choice` instead"),
        response_format=refused("structured output is not rendered", default={"type": "text"}),
        modalities=refused(_TEXT_ONLY, default=["text"]),
        audio=refused(_TEXT_ONLY),
        web_search_options=refused("built-in tools are not rendered"),
        service_tier=dropped(_NOT_COMPLETIONS),
        store=dropped(_NOT_COMPLETIONS, default=False),
        metadata=dropped(_NOT_COMPLETIONS, default={}),
        prediction=dropped(_NOT_COMPLETIONS),
        verbosity=dropped(_NOT_COMPLETIONS),
        moderation=dropped(_NOT_COMPLETIONS),
        safety_identifier=dropped(_NOT_COMPLETIONS),
        prompt_cache_key=dropped(_NOT_COMPLETIONS),
        prompt_cache_retention=dropped(_NOT_COMPLETIONS),
        prompt_cache_options=dropped(_NOT_COMPLETIONS),
        chat_template_kwargs=dropped(_RENDERED),
    )
    wire_efforts: ClassVar[frozenset[Effort]] = frozenset(HARMONY_EFFORTS)

    def build(
        self, body: Mapping[str, Any], model: ModelSpec, intent: ReasoningIntent, strict: bool
    ) -> UpstreamCall:
        report = ParamReport(provider=model.provider.name)
        plan = plan_effort(intent, model, report, strict, wire_efforts=self.wire_efforts)
        out = apply_rules(strip_reasoning_controls(body), self.params, report, strict=strict)
        messages = out.pop("messages", None) or []
        tools = out.pop("tools", None) or []
        effort = plan.wire if plan.wire in HARMONY_EFFORTS else None
        out = {
            "model": model.upstream_id,
            "prompt": render_prompt(messages, tools, effort),
            **{k: v for k, v in out.items() if k != "model"},
            "skip_special_tokens": False,
        }
        if out.get("stream") is True:
            out["stream_options"] = with_usage(out.get("stream_options"))
        return UpstreamCall(self.path, out, bearer_headers(model.provider.api_key), report)

    def parse_response(
        self,
        payload: dict[str, Any],
        model: ModelSpec,
        show_reasoning: bool,
        *,
        created: int = 0,
    ) -> dict[str, Any]:
        seed = str(payload.get("id", ""))
        choices = []
        raw = payload.get("choices")
        for position, choice in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(choice, Mapping):
                continue  # not a choice: nothing to translate or meter
            index = choice.get("index", position)
            state = ChoiceState("harmony", f"{seed}:{index}")
            original = {"role": "assistant", "content": _choice_text(choice)}
            message = state.translate(original, last=True) or original
            choices.append(
                {
                    "index": index,
                    "message": whole_calls(message, original),
                    "logprobs": None,
                    "finish_reason": state.finish_reason(choice.get("finish_reason")),
                }
            )
        out = {
            "id": payload.get("id"),
            "object": "chat.completion",
            "created": payload.get("created", created),
            "model": payload.get("model"),
            "choices": choices,
        }
        if "usage" in payload:
            out["usage"] = payload["usage"]
        return out if show_reasoning else hide_reasoning(out)

    def stream(
        self, model: ModelSpec, show_reasoning: bool, *, created: int = 0
    ) -> StreamTranslator:
        return HarmonyStream(show_reasoning)


class HarmonyStream:
    """Completion chunks (`choices[].text`) in, chat chunks with reasoning/content/tools out."""

    def __init__(self, show_reasoning: bool) -> None:
        self.show = show_reasoning
        self.states: dict[int, ChoiceState] = {}
        self.frame: dict[str, Any] = {}

    @property
    def done(self) -> bool:
        return False

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        if "error" in event:
            return [dict(event)]
        if not self.frame:
            self.frame = {
                "id": event.get("id"),
                "object": "chat.completion.chunk",
                "created": event.get("created"),
                "model": event.get("model"),
            }
        choices = []
        raw = event.get("choices")
        for position, choice in enumerate(raw if isinstance(raw, list) else []):
            translated = self._choice(choice, position)
            if translated is not None:
                choices.append(translated)
        chunk: dict[str, Any] = {**self.frame, "choices": choices}
        if event.get("usage") is not None:
            chunk["usage"] = event["usage"]
        elif not choices:
            return []
        return [chunk if self.show else hide_reasoning(chunk)]

    def _choice(self, choice: Mapping[str, Any], position: int) -> dict[str, Any] | None:
        index = choice.get("index", position)
        state = self.states.get(index)
        delta: dict[str, Any] = {}
        if state is None:
            seed = f"{self.frame.get('id', '')}:{index}"
            state = self.states[index] = ChoiceState("harmony", seed)
            delta["role"] = "assistant"
        if state.finished:
            return None
        finish = choice.get("finish_reason")
        original = {"content": _choice_text(choice)}
        delta.update(state.translate(original, last=finish is not None) or original)
        if finish is None and is_empty(delta):
            return None
        finish = state.finish_reason(finish) if finish is not None else None
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}

    def finish(self) -> list[dict[str, Any]]:
        choices = []
        for index, state in self.states.items():
            if not state.finished:
                delta = state.translate({}, last=True)
                if delta:
                    choices.append({"index": index, "delta": delta, "finish_reason": None})
        if not choices:
            return []
        chunk = {**self.frame, "choices": choices}
        return [chunk if self.show else hide_reasoning(chunk)]
