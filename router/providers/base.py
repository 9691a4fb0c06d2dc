"""What every adapter is: a parameter table, a pure request builder, pure response translators.

An adapter turns a client's OpenAI chat-completions request into its upstream's request
(`build`), and the upstream's answer back into OpenAI's shape (`parse_response`, or a
`StreamTranslator` fed one SSE event at a time). Nothing here does I/O.

Every canonical request field (the OpenAI SDK's chat-completion parameters, plus
`chat_template_kwargs`) has a `Rule` in every adapter's `params` table:

* MAP: sent upstream, under the same key or another (`target`), possibly converted;
* DROP: removed, and reported in `x-tokenwise-params` and the `tokenwise_dropped_params` metric;
  with `providers.*.strict: true` a drop is a 400 (`unsupported_parameter`) instead;
* REFUSE: a 400 (`unsupported_parameter`) naming the parameter and the provider.

A value equal to a rule's `default` means "not set" and is removed silently (`n: 1`,
`temperature: 1` for models that only take the default). The reasoning controls
(`REASONING_CONTROLS`) are not in the table: `router.reasoning.intent` reads them all into one
intent, and the adapter writes its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Protocol

from router.errors import UnsupportedParameter
from router.reasoning.effort import Effort, EffortChoice

if TYPE_CHECKING:
    from router.config.load import ModelSpec
    from router.reasoning.intent import ReasoningIntent

CANONICAL_FIELDS: Final[tuple[str, ...]] = (
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "user",
    "safety_identifier",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "functions",
    "function_call",
    "response_format",
    "service_tier",
    "store",
    "metadata",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
    "verbosity",
    "moderation",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
    "chat_template_kwargs",
)
"""Every request field an adapter must decide on (order: the order rules are applied in)."""

REASONING_CONTROLS: Final[tuple[str, ...]] = (
    "reasoning_effort",
    "reasoning",
    "thinking",
    "include_reasoning",
)
"""Top-level reasoning controls, read by `normalize_reasoning` and removed before the table."""

RuleKind = Literal["MAP", "DROP", "REFUSE"]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


@dataclass(frozen=True, slots=True)
class Rule:
    kind: RuleKind
    target: str | None = None
    """MAP: the upstream key (None: the same key)."""
    convert: Callable[[Any], Any] | None = None
    default: object = UNSET
    """DROP/REFUSE: a value that means "not set", removed without a report."""
    why: str = ""

    def is_default(self, value: object) -> bool:
        return self.default is not UNSET and value == self.default


def mapped(target: str | None = None, convert: Callable[[Any], Any] | None = None) -> Rule:
    return Rule("MAP", target=target, convert=convert)


def dropped(why: str, default: object = UNSET) -> Rule:
    return Rule("DROP", default=default, why=why)


def refused(why: str, default: object = UNSET) -> Rule:
    return Rule("REFUSE", default=default, why=why)


def table(base: Mapping[str, Rule] | None = None, /, **rules: Rule) -> Mapping[str, Rule]:
    """A read-only rule table: ``rules`` over ``base`` (default: every field MAPped as is)."""
    unknown = sorted(set(rules) - set(CANONICAL_FIELDS))
    if unknown:
        raise ValueError(f"not canonical request fields: {', '.join(unknown)}")
    start = {name: mapped() for name in CANONICAL_FIELDS} if base is None else base
    return MappingProxyType({**start, **rules})


ALL_MAPPED: Final[Mapping[str, Rule]] = table()
NO_OVERRIDES: Final[Mapping[str, Rule]] = MappingProxyType({})
# `chat_template_kwargs` on a hosted API, which applies its own template.
NO_CHAT_TEMPLATE: Final = dropped("chat templates are not configurable on this API")


@dataclass
class ParamReport:
    """What the adapter changed on the way: for the response headers and the metrics."""

    provider: str
    dropped: list[str] = field(default_factory=list)
    clamped: list[tuple[str, int]] = field(default_factory=list)
    requested: Effort | None = None
    effort: EffortChoice | None = None
    """What the client asked for and what was sent; None when no level was sent."""

    def drop(self, param: str, strict: bool, why: str) -> None:
        """Report a dropped parameter, or (strict) refuse the request with a 400."""
        if strict:
            raise UnsupportedParameter(
                f"'{param}' is not supported by the provider '{self.provider}' ({why}); "
                "this proxy is configured to refuse parameters it cannot send.",
                param=param,
            )
        if param not in self.dropped:
            self.dropped.append(param)

    def clamp(self, param: str, value: int) -> None:
        self.clamped = [(p, v) for p, v in self.clamped if p != param]
        self.clamped.append((param, value))

    def effort_header(self) -> str | None:
        """`x-tokenwise-effort`, when reasoning was requested or sent."""
        if self.effort is not None:
            return self.effort.header_value()
        if self.requested is not None:
            return f"requested={self.requested}; sent=default"
        return None

    def params_header(self) -> str | None:
        """`x-tokenwise-params`, when anything was dropped or clamped."""
        parts = []
        if self.dropped:
            parts.append("dropped=" + ",".join(self.dropped))
        if self.clamped:
            parts.append("clamped=" + ",".join(f"{p}:{v}" for p, v in self.clamped))
        return "; ".join(parts) or None

    def headers(self) -> dict[str, str]:
        out = {}
        effort = self.effort_header()
        if effort is not None:
            out["x-tokenwise-effort"] = effort
        params = self.params_header()
        if params is not None:
            out["x-tokenwise-params"] = params
        return out


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """One upstream request: POST `path` (under the provider's base URL) with `body`."""

    path: str
    body: dict[str, Any]
    headers: Mapping[str, str]
    report: ParamReport


def as_answered(model: ModelSpec, effort: str | None) -> ModelSpec:
    """The model as its answer is read. A template that opens `<think>` in the prompt opens it
    only when thinking is on: after effort `none` was sent the answer starts outside a block."""
    reasoning = model.reasoning
    if reasoning is None or not reasoning.think_opened_by_template or effort != "none":
        return model
    return replace(model, reasoning=replace(reasoning, think_opened_by_template=False))


def bearer_headers(api_key: str | None) -> dict[str, str]:
    """JSON, with `authorization: Bearer <key>` when there is a key."""
    headers = {"content-type": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def with_usage(options: object) -> dict[str, Any]:
    """`stream_options` that ask for the final usage chunk, keeping the client's others."""
    return {**(options if isinstance(options, Mapping) else {}), "include_usage": True}


class StreamTranslator(Protocol):
    """Per-stream state: upstream SSE event JSON in, OpenAI `chat.completion.chunk`s out.

    `feed` returns ``[event]`` (the very object) when the event needs no change, so the relay
    can pass its bytes on untouched. `done` turns true when the upstream's own end-of-stream
    event arrived (for upstreams that send no ``[DONE]``).
    """

    @property
    def done(self) -> bool: ...

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]: ...


class Adapter(Protocol):
    name: ClassVar[str]
    params: ClassVar[Mapping[str, Rule]]

    def build(
        self, body: Mapping[str, Any], model: ModelSpec, intent: ReasoningIntent, strict: bool
    ) -> UpstreamCall: ...

    def parse_response(
        self,
        payload: dict[str, Any],
        model: ModelSpec,
        show_reasoning: bool,
        *,
        created: int = 0,
    ) -> dict[str, Any]:
        """The OpenAI `chat.completion`; ``payload`` itself when nothing needed a change."""
        ...

    def stream(
        self, model: ModelSpec, show_reasoning: bool, *, created: int = 0
    ) -> StreamTranslator: ...
