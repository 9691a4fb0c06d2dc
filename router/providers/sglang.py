"""SGLang: as vLLM (gpt-oss `reasoning_effort`, Qwen3 `chat_template_kwargs.enable_thinking`),
with reasoning back in `message.reasoning_content` (its reasoning parser's field)."""

from __future__ import annotations

from router.providers.vllm import VLLMAdapter


class SGLangAdapter(VLLMAdapter):
    name = "sglang"
    output_field = "reasoning_content"
