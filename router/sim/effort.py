"""Which reasoning effort a simulated model runs at, read the way real hosts read it.

Accepted knobs: `reasoning_effort`, `reasoning.effort`, `reasoning.enabled: false` (OpenRouter)
and `chat_template_kwargs.enable_thinking: false` (Qwen3 on vLLM/SGLang). Like the strict hosts
(OpenAI, Ollama, recent vLLM), a value the model does not declare is a 400, and a non-reasoning
model refuses an effort. A model with `ignores_effort` behaves like the host that ran everything
at medium: it accepts anything and always thinks at its default effort.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.errors import InvalidRequest, UnsupportedParameter
from router.sim.catalog import SimModel


def resolve_effort(model: SimModel, body: Mapping[str, Any]) -> str | None:
    """The effort to simulate, or None when the model does not reason for this request."""
    requested, param = _requested(body)
    if model.ignores_effort:
        return model.default_effort
    if not model.reasoning:
        if requested not in (None, "none"):
            raise UnsupportedParameter(
                f"Unsupported parameter: '{param}' is not supported with this model.",
                param=param,
            )
        return None
    if requested == "none" or (requested is None and _thinking_disabled(body)):
        if model.can_disable:
            return None
        if requested == "none":
            raise _unsupported_value(model, param, requested)
        return model.default_effort
    if requested is None:
        return model.default_effort
    if requested not in model.efforts:
        raise _unsupported_value(model, param, requested)
    return requested


def _requested(body: Mapping[str, Any]) -> tuple[str | None, str]:
    value = body.get("reasoning_effort")
    if value is not None:
        return _effort_string(value, "reasoning_effort"), "reasoning_effort"
    reasoning = body.get("reasoning")
    if reasoning is None:
        return None, "reasoning_effort"
    if not isinstance(reasoning, Mapping):
        raise InvalidRequest(
            "Invalid type for 'reasoning': expected an object.",
            param="reasoning",
            code="invalid_type",
        )
    value = reasoning.get("effort")
    if value is None:
        return None, "reasoning.effort"
    return _effort_string(value, "reasoning.effort"), "reasoning.effort"


def _effort_string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(
            f"Invalid type for '{param}': expected a string.", param=param, code="invalid_type"
        )
    return value


def _thinking_disabled(body: Mapping[str, Any]) -> bool:
    reasoning = body.get("reasoning")
    if isinstance(reasoning, Mapping) and reasoning.get("enabled") is False:
        return True
    kwargs = body.get("chat_template_kwargs")
    return isinstance(kwargs, Mapping) and kwargs.get("enable_thinking") is False


def _unsupported_value(model: SimModel, param: str, value: str) -> InvalidRequest:
    supported = ", ".join(f"'{e}'" for e in model.efforts)
    return InvalidRequest(
        f"Unsupported value: '{param}' does not support '{value}' with this model. "
        f"Supported values are: {supported}.",
        param=param,
        code="unsupported_value",
    )
