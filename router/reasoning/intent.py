"""Every way a client can ask for reasoning, reduced to one ``ReasoningIntent``.

Accepted controls, each named by its param path in errors and in ``sources``:

| param | meaning |
| --- | --- |
| ``reasoning_effort`` | an effort on the ladder |
| ``reasoning.effort`` / ``reasoning.max_tokens`` | OpenRouter: an effort, or a thinking budget |
| ``reasoning.enabled`` | OpenRouter: thinking on (no level) or off |
| ``reasoning.exclude`` | OpenRouter: ``true`` hides reasoning from the client |
| ``thinking.type`` | Anthropic: ``enabled`` / ``adaptive`` (on), ``disabled`` (off) |
| ``thinking.budget_tokens`` | Anthropic: a thinking budget (only with ``type: enabled``) |
| ``thinking.display`` | Anthropic: ``omitted`` hides reasoning, ``summarized`` shows it |
| ``include_reasoning`` | legacy OpenRouter/vLLM/Groq: ``false`` hides reasoning |
| ``chat_template_kwargs.enable_thinking`` / ``.thinking`` | Qwen3 / DeepSeek-V3.1 template switch |
| ``messages[i]...`` | a Harmony ``Reasoning: high`` line; Qwen ``/think``, ``/no_think`` |

JSON ``null`` counts as absent. A wrong type or value is a 400 naming the param; an unknown key
inside ``reasoning`` or ``thinking`` is a 400 too, so nothing a client meant is silently lost.

Conflicts are a 400 (``invalid_reasoning``) whose ``param`` is the first of the two (in the
table's order) and whose message names both: two different efforts, two different budgets,
an effort and a budget whose nearest effort (``effort.budget_to_effort``) differs, thinking
switched on by one control and off by another (effort ``none`` is off; any budget is on), or
reasoning shown by one and hidden by another. Agreeing duplicates are fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Final, Literal

import orjson

from router.errors import InvalidReasoning, InvalidRequest
from router.reasoning.effort import DEFAULT_BUDGETS, Effort, budget_to_effort, parse_effort
from router.reasoning.prompt_controls import (
    harmony_effort_lines,
    qwen_switch,
    strip_text_controls,
)

_TOP_LEVEL: Final = ("reasoning_effort", "reasoning", "thinking", "include_reasoning")
_TEMPLATE_SWITCHES: Final = ("enable_thinking", "thinking")
# Fields whose presence means the client itself said how to reason (a routed effort then
# yields to it, and a provider's own thinking field next to one is a conflict).
CLIENT_CONTROLS: Final = ("reasoning_effort", "reasoning", "thinking", "chat_template_kwargs")
_REASONING_KEYS: Final = ("effort", "max_tokens", "exclude", "enabled")
_THINKING_KEYS: Final = ("type", "budget_tokens", "display")
_THINKING_TYPES: Final = ("enabled", "disabled", "adaptive")
_DISPLAYS: Final = ("summarized", "omitted")


@dataclass(frozen=True, slots=True)
class ReasoningIntent:
    """The client's reasoning intent; all ``None`` means "upstream default".

    Reasoning off is ``effort="none"`` with ``enabled=False``, however the client said it.
    ``enabled`` is ``True`` whenever an effort above ``none`` or a budget was given, and may be
    ``True`` alone: a switch with no level (``thinking.type: adaptive``, ``/think``,
    ``enable_thinking: true``) leaves the level to the upstream or the policy. ``show=False``
    hides reasoning from the client; it is still metered.
    """

    effort: Effort | None = None
    budget_tokens: int | None = None
    enabled: bool | None = None
    show: bool = True
    sources: tuple[str, ...] = ()

    def resolved_effort(self, budgets: Mapping[Effort, int] = DEFAULT_BUDGETS) -> Effort | None:
        """One effort for upstreams that take efforts: the effort, else the budget's nearest
        effort, else ``medium`` for a bare "on" (OpenRouter's rule), else None."""
        if self.effort is not None:
            return self.effort
        if self.budget_tokens is not None:
            return budget_to_effort(self.budget_tokens, budgets)
        return "medium" if self.enabled else None


ClaimKind = Literal["effort", "budget", "switch", "show"]


@dataclass(frozen=True, slots=True)
class _Claim:
    param: str
    kind: ClaimKind
    value: Effort | int | bool
    shown: object
    """The value as the client wrote it, for error messages."""


def _present(container: Mapping[str, Any], key: str) -> bool:
    return container.get(key) is not None


def _bool(value: object, param: str) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidReasoning(f"{param} must be true or false; got {value!r}.", param=param)


def _budget(value: object, param: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise InvalidReasoning(
        f"{param} must be a positive whole number of tokens; got {value!r}.", param=param
    )


def _object(body: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    value = body[key]
    if not isinstance(value, Mapping):
        raise InvalidReasoning(f"{key} must be an object; got {value!r}.", param=key)
    for name in value:
        if name not in allowed:
            raise InvalidReasoning(
                f"{key}.{name} is not supported; {key} accepts {', '.join(allowed)}.",
                param=f"{key}.{name}",
            )
    return value


def _reasoning_claims(body: Mapping[str, Any]) -> Iterator[_Claim]:
    if _present(body, "reasoning_effort"):
        value = body["reasoning_effort"]
        yield _Claim("reasoning_effort", "effort", parse_effort(value, "reasoning_effort"), value)
    if not _present(body, "reasoning"):
        return
    reasoning = _object(body, "reasoning", _REASONING_KEYS)
    if _present(reasoning, "effort"):
        value = reasoning["effort"]
        yield _Claim("reasoning.effort", "effort", parse_effort(value, "reasoning.effort"), value)
    if _present(reasoning, "max_tokens"):
        value = reasoning["max_tokens"]
        yield _Claim(
            "reasoning.max_tokens", "budget", _budget(value, "reasoning.max_tokens"), value
        )
    if _present(reasoning, "enabled"):
        value = reasoning["enabled"]
        yield _Claim("reasoning.enabled", "switch", _bool(value, "reasoning.enabled"), value)
    if _present(reasoning, "exclude"):
        value = reasoning["exclude"]
        yield _Claim("reasoning.exclude", "show", not _bool(value, "reasoning.exclude"), value)


def _thinking_claims(body: Mapping[str, Any]) -> Iterator[_Claim]:
    if not _present(body, "thinking"):
        return
    thinking = _object(body, "thinking", _THINKING_KEYS)
    kind = thinking.get("type")
    if kind not in _THINKING_TYPES:
        raise InvalidReasoning(
            f"thinking.type must be one of {', '.join(_THINKING_TYPES)}; got {kind!r}.",
            param="thinking.type",
        )
    yield _Claim("thinking.type", "switch", kind != "disabled", kind)
    if _present(thinking, "budget_tokens"):
        if kind != "enabled":
            raise InvalidReasoning(
                f"thinking.budget_tokens goes with thinking.type 'enabled', not {kind!r}.",
                param="thinking.budget_tokens",
            )
        value = thinking["budget_tokens"]
        budget = _budget(value, "thinking.budget_tokens")
        yield _Claim("thinking.budget_tokens", "budget", budget, value)
    if _present(thinking, "display"):
        display = thinking["display"]
        if display not in _DISPLAYS:
            raise InvalidReasoning(
                f"thinking.display must be one of {', '.join(_DISPLAYS)}; got {display!r}.",
                param="thinking.display",
            )
        yield _Claim("thinking.display", "show", display == "summarized", display)


def _switch_claims(body: Mapping[str, Any]) -> Iterator[_Claim]:
    if _present(body, "include_reasoning"):
        value = body["include_reasoning"]
        yield _Claim("include_reasoning", "show", _bool(value, "include_reasoning"), value)
    if not _present(body, "chat_template_kwargs"):
        return
    kwargs = body["chat_template_kwargs"]
    if not isinstance(kwargs, Mapping):
        raise InvalidRequest(
            f"chat_template_kwargs must be an object; got {kwargs!r}.",
            param="chat_template_kwargs",
        )
    for key in _TEMPLATE_SWITCHES:
        if _present(kwargs, key):
            param = f"chat_template_kwargs.{key}"
            yield _Claim(param, "switch", _bool(kwargs[key], param), kwargs[key])


def _message_claims(body: Mapping[str, Any]) -> Iterator[_Claim]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    for line in harmony_effort_lines(messages):
        yield _Claim(line.param, "effort", line.value, f"Reasoning: {line.value}")
    switch = qwen_switch(messages)
    if switch is not None:
        shown = "/think" if switch.value else "/no_think"
        yield _Claim(switch.param, "switch", switch.value, shown)


def _disagreement(a: _Claim, b: _Claim) -> str | None:
    """Why two claims cannot both hold, or None when they agree."""
    if a.kind == b.kind:
        if a.value == b.value:
            return None
        return {
            "effort": "they ask for different efforts",
            "budget": "they ask for different thinking budgets",
            "switch": "one turns reasoning on and the other turns it off",
            "show": "one shows reasoning and the other hides it",
        }[a.kind]
    first, second = sorted((a, b), key=lambda claim: claim.kind)
    pair = (first.kind, second.kind)
    if pair == ("budget", "effort"):
        if second.value == "none":
            return "a thinking budget turns reasoning on and effort 'none' turns it off"
        nearest = budget_to_effort(int(first.value))
        if nearest != second.value:
            return f"a budget of {first.value} tokens corresponds to effort '{nearest}'"
    elif pair == ("effort", "switch") and (first.value == "none") == second.value:
        return "one turns reasoning on and the other turns it off"
    elif pair == ("budget", "switch") and second.value is False:
        return "a thinking budget turns reasoning on and the other turns it off"
    return None


def _shown(value: object) -> str:
    return orjson.dumps(value).decode() if isinstance(value, bool | int | str) else repr(value)


def _check_conflicts(claims: list[_Claim]) -> None:
    for a, b in combinations(claims, 2):
        reason = _disagreement(a, b)
        if reason is not None:
            raise InvalidReasoning(
                f"{a.param}={_shown(a.shown)} conflicts with {b.param}={_shown(b.shown)}: "
                f"{reason}. Send one of them, or values that agree.",
                param=a.param,
            )


_SOURCES: Final[tuple[Callable[[Mapping[str, Any]], Iterator[_Claim]], ...]] = (
    _reasoning_claims,
    _thinking_claims,
    _switch_claims,
    _message_claims,
)


def normalize_reasoning(body: Mapping[str, Any]) -> ReasoningIntent:
    """Read every reasoning control in a chat-completions request body (never mutated)."""
    claims = [claim for source in _SOURCES for claim in source(body)]
    _check_conflicts(claims)

    def first(kind: ClaimKind) -> Effort | int | bool | None:
        return next((claim.value for claim in claims if claim.kind == kind), None)

    effort = first("effort")
    budget = first("budget")
    switch = first("switch")
    show = first("show")
    enabled: bool | None = switch if isinstance(switch, bool) else None
    if effort is not None or budget is not None:
        enabled = effort != "none"
    if enabled is False:
        effort = "none"
    return ReasoningIntent(
        effort=effort if isinstance(effort, str) else None,
        budget_tokens=budget if isinstance(budget, int) and not isinstance(budget, bool) else None,
        enabled=enabled,
        show=show if isinstance(show, bool) else True,
        sources=tuple(dict.fromkeys(claim.param for claim in claims)),
    )


def strip_reasoning_controls(body: Mapping[str, Any]) -> dict[str, Any]:
    """A new body without any control ``normalize_reasoning`` reads, so an adapter can write
    its own. The input is never mutated; values that needed no change are shared, not copied.
    """
    stripped = {key: value for key, value in body.items() if key not in _TOP_LEVEL}
    kwargs = body.get("chat_template_kwargs")
    if isinstance(kwargs, Mapping):
        rest = {key: value for key, value in kwargs.items() if key not in _TEMPLATE_SWITCHES}
        if rest:
            stripped["chat_template_kwargs"] = rest
        else:
            del stripped["chat_template_kwargs"]
    messages = body.get("messages")
    if isinstance(messages, list):
        stripped["messages"] = strip_text_controls(messages)
    return stripped
