"""Ollama's `/v1` endpoint: `reasoning_effort` takes only high, medium, low and none (anything
else is a 400), so declared levels outside those four are never sent. Levels work on gpt-oss
alone: any other thinking model (Qwen3, DeepSeek-R1) takes only on or off (a level is a 400
there), so its entry declares `can_disable: true` and no `efforts`, and it gets `none` to switch
off and nothing to think. The output cap must be
`max_tokens` (`max_completion_tokens` is silently ignored). Reasoning comes back in
`message.reasoning`; usage has no details object."""

from __future__ import annotations

from router.providers.base import NO_CHAT_TEMPLATE, mapped, table
from router.providers.openai_compat import OpenAICompatAdapter


class OllamaAdapter(OpenAICompatAdapter):
    name = "ollama"
    params = table(
        max_completion_tokens=mapped("max_tokens"),
        chat_template_kwargs=NO_CHAT_TEMPLATE,
    )
    wire_efforts = frozenset({"low", "medium", "high"})
    output_field = "reasoning"
