"""The body sent to an upstream that speaks the Responses API natively (pure).

The client's body is forwarded as it is, unknown fields, reasoning items and `encrypted_content`
included; only three things change: the model id, `reasoning.effort` (the level the provider
adapter chose from the client's intent or the routing decision, rounded to what the model
supports; removed for a model that does not reason) and `max_output_tokens` when a budget capped
the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from router.providers.base import ParamReport

if TYPE_CHECKING:
    from router.config.load import ModelSpec


def native_body(
    body: Mapping[str, Any], chat: Mapping[str, Any], report: ParamReport, model: ModelSpec
) -> dict[str, Any]:
    """The client's own body for a Responses upstream: the model id, the effort the adapter
    chose (reasoning dropped for a model that does not reason) and a budget's output cap."""
    out = dict(body)
    out["model"] = model.upstream_id
    reasoning = body.get("reasoning")
    if report.effort is not None:
        out["reasoning"] = {
            **(reasoning if isinstance(reasoning, Mapping) else {}),
            "effort": report.effort.sent,
        }
    elif model.reasoning is None and isinstance(reasoning, Mapping) and "effort" in reasoning:
        rest = {k: v for k, v in reasoning.items() if k != "effort"}
        if rest:
            out["reasoning"] = rest
        else:
            del out["reasoning"]
    limit = chat.get("max_completion_tokens") or chat.get("max_tokens")
    if limit is not None:
        out["max_output_tokens"] = limit
    return out
