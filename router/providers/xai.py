"""xAI: `reasoning_effort` only on the models that take it (declare their levels; grok-4 takes
none, so an effort is dropped and reported). Reasoning models reject `presence_penalty`,
`frequency_penalty` and `stop`; reasoning text, where returned, is `reasoning_content`; usage
may count reasoning outside `completion_tokens` (the `xai` convention decides by the total)."""

from __future__ import annotations

from router.providers.base import NO_CHAT_TEMPLATE, NO_OVERRIDES, dropped, table
from router.providers.openai_compat import OpenAICompatAdapter

_REJECTED = "xAI's reasoning models reject it"


class XAIAdapter(OpenAICompatAdapter):
    name = "xai"
    params = table(chat_template_kwargs=NO_CHAT_TEMPLATE)
    reasoning_params = table(
        NO_OVERRIDES,
        presence_penalty=dropped(_REJECTED),
        frequency_penalty=dropped(_REJECTED),
        stop=dropped(_REJECTED),
    )
    output_field = "reasoning_content"
