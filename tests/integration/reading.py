"""What a client reads from a chat answer, the same way for JSON and streams."""

from __future__ import annotations

import openai
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ReasoningEffort

FIELDS = ("content", "reasoning_content", "reasoning")


def read_answer(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    stream: bool,
    effort: ReasoningEffort = None,
    seed: int = 0,
) -> dict[str, str]:
    """The content and both reasoning fields, JSON or streamed (the deltas joined)."""
    effort_or_omit = effort or openai.omit
    seed_or_omit = seed or openai.omit
    if not stream:
        completion = client.chat.completions.create(
            model=model, messages=messages, reasoning_effort=effort_or_omit, seed=seed_or_omit
        )
        message = completion.choices[0].message
        return {key: getattr(message, key, None) or "" for key in FIELDS}
    out = dict.fromkeys(FIELDS, "")
    chunks = client.chat.completions.create(
        model=model,
        messages=messages,
        stream=True,
        reasoning_effort=effort_or_omit,
        seed=seed_or_omit,
    )
    for chunk in chunks:
        for choice in chunk.choices:
            for key in out:
                out[key] += getattr(choice.delta, key, None) or ""
    return out
