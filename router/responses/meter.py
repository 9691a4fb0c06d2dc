"""What a Responses API answer delivered, for the meter's `Tally` (pure).

Usage is the `response` object's `usage` (metered under the `openai_responses` convention:
`input_tokens` with `input_tokens_details.cached_tokens`, `output_tokens` with
`output_tokens_details.reasoning_tokens`); the generated text (message text, function-call
arguments, reasoning summaries and reasoning text) is kept for a local count when the upstream
reports no usage or the client leaves mid-stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from router.metering.bill import Tally

TERMINAL: Final = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "error"}
)
TEXT_DELTAS: Final = frozenset(
    {
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "response.refusal.delta",
    }
)
REASONING_DELTAS: Final = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)


def add_response(tally: Tally, response: Mapping[str, Any]) -> None:
    """A whole `response` object: its usage and its output's text."""
    usage = response.get("usage")
    if isinstance(usage, Mapping):
        tally.usage = usage
    for item in response.get("output") or []:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                text = (
                    part.get("text") or part.get("refusal") if isinstance(part, Mapping) else None
                )
                if isinstance(text, str) and text:
                    tally.content.append(text)
        elif kind == "function_call":
            for key in ("name", "arguments"):
                if isinstance(item.get(key), str) and item[key]:
                    tally.content.append(item[key])
        elif kind == "reasoning":
            for part in [*(item.get("summary") or []), *(item.get("content") or [])]:
                text = part.get("text") if isinstance(part, Mapping) else None
                if isinstance(text, str) and text:
                    tally.reasoning.append(text)


def add_event(tally: Tally, event: Mapping[str, Any]) -> None:
    """One stream event: deltas as they come, usage from the final `response`."""
    kind = event.get("type")
    delta = event.get("delta")
    if kind in TEXT_DELTAS and isinstance(delta, str):
        tally.content.append(delta)
    elif kind in REASONING_DELTAS and isinstance(delta, str):
        tally.reasoning.append(delta)
    elif kind in TERMINAL:
        response = event.get("response")
        usage = response.get("usage") if isinstance(response, Mapping) else None
        if isinstance(usage, Mapping):
            tally.usage = usage
