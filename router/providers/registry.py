"""Dialect name -> adapter class, imported only when a dialect is first used.

The names are the values `providers.*.dialect` accepts (a test keeps `router.config.schema.Dialect`
equal to `DIALECTS`). Each dialect also says which usage convention its responses follow, so a
provider entry that does not set `usage` is metered the right way (`router.metering.usage`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, cast

if TYPE_CHECKING:
    from router.providers.base import Adapter

DIALECTS: Final[Mapping[str, tuple[str, str]]] = {
    "openai_compat": ("router.providers.openai_compat", "OpenAICompatAdapter"),
    "openai": ("router.providers.openai_compat", "OpenAIAdapter"),
    "openrouter": ("router.providers.openrouter", "OpenRouterAdapter"),
    "gemini": ("router.providers.gemini", "GeminiAdapter"),
    "deepseek": ("router.providers.deepseek", "DeepSeekAdapter"),
    "vllm": ("router.providers.vllm", "VLLMAdapter"),
    "sglang": ("router.providers.sglang", "SGLangAdapter"),
    "ollama": ("router.providers.ollama", "OllamaAdapter"),
    "groq": ("router.providers.groq", "GroqAdapter"),
    "cerebras": ("router.providers.cerebras", "CerebrasAdapter"),
    "xai": ("router.providers.xai", "XAIAdapter"),
    "anthropic": ("router.providers.anthropic", "AnthropicAdapter"),
    "harmony": ("router.providers.harmony", "HarmonyAdapter"),
}

# The usage convention of each dialect's responses, when it is not plain OpenAI chat. The
# Anthropic adapter's usage object carries Anthropic's own counts next to the OpenAI ones, so
# cache writes are billed per TTL (`usage_from_anthropic`).
USAGE: Final[Mapping[str, str]] = {
    "openrouter": "openrouter",
    "deepseek": "deepseek",
    "gemini": "gemini_openai",
    "ollama": "ollama",
    "xai": "xai",
    "anthropic": "anthropic",
}


def default_usage(dialect: str) -> str:
    return USAGE.get(dialect, "openai_chat")


@functools.cache
def adapter_for(dialect: str) -> Adapter:
    """The (stateless, shared) adapter for a dialect; ``KeyError`` for an unknown name."""
    module_name, class_name = DIALECTS[dialect]
    module = importlib.import_module(module_name)
    return cast("Adapter", getattr(module, class_name)())
