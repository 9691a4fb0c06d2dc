"""The usage object a client reads, in OpenAI's convention whatever the upstream's.

OpenAI counts reasoning inside `completion_tokens` and names it again in
`completion_tokens_details.reasoning_tokens`; `total_tokens` is prompt plus completion. Gemini's
OpenAI endpoint and xAI leave reasoning out of `completion_tokens`, and some hosts name no
reasoning at all: a client that computes the visible answer as completion minus reasoning got a
negative count. What the proxy metered (and billed) is what the client reads: the upstream's
object with those three fields set from the meter, the rest as sent. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.metering.usage import Usage


def openai_usage_fields(reported: Mapping[str, Any], metered: Usage) -> dict[str, Any] | None:
    """`reported` with completion, total and reasoning counts set from `metered`; None when it
    already says the same (the upstream's bytes can then go as they came) or when the meter
    counted locally (an estimate never overrides what the upstream reported)."""
    if metered.estimated:
        return None
    out = dict(reported)
    completion = metered.output_total
    if reported.get("completion_tokens") != completion:
        out["completion_tokens"] = completion
    prompt = reported.get("prompt_tokens")
    if isinstance(prompt, int) and not isinstance(prompt, bool):
        out["total_tokens"] = prompt + completion
    details = reported.get("completion_tokens_details")
    details = details if isinstance(details, Mapping) else None
    named = details.get("reasoning_tokens") if details is not None else None
    if (metered.reasoning_output or named is not None) and named != metered.reasoning_output:
        out["completion_tokens_details"] = {
            **(details or {}),
            "reasoning_tokens": metered.reasoning_output,
        }
    return out if out != reported else None
