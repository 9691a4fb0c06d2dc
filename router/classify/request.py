"""Read the signals the classifier uses out of an OpenAI chat request body.

Pure and total: any mapping gives a `RequestView`, whatever the shape of `messages` (strings,
content-part lists, images only, `None` content, unknown roles). Work is bounded: only the last
user message and the system prompt are kept as text, each cut to a head and a tail, and every
other message is only measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

TEXT_HEAD: Final = 2400
TEXT_TAIL: Final = 1200
SYSTEM_HEAD: Final = 1200
_IMAGE_PARTS: Final = frozenset({"image_url", "image", "input_image"})
_FILE_PARTS: Final = frozenset({"file", "input_file", "input_audio", "audio", "document"})
_SYSTEM_ROLES: Final = frozenset({"system", "developer"})


@dataclass(frozen=True)
class RequestView:
    """The parts of a request that drive classification."""

    text: str  # the last user message, cut to TEXT_HEAD + TEXT_TAIL characters
    text_chars: int  # its full length before the cut
    system: str  # system and developer prompts, cut to SYSTEM_HEAD characters
    user_turns: int
    messages: int
    tools: int  # tool or function definitions offered
    tool_results: int  # tool / function messages in the conversation
    json_output: float  # 0 none, 0.5 json_object, 1 json_schema
    images: int
    files: int  # files and audio parts
    context_chars: int  # characters of text over all messages


def cut(text: str, head: int, tail: int) -> str:
    """`text` unchanged when short, else its first `head` and last `tail` characters."""
    if len(text) <= head + tail:
        return text
    return text[:head] + "\n" + text[-tail:] if tail else text[:head]


def _parts(content: Any) -> tuple[str, int, int]:
    """Text, image count and file count of one message's content."""
    if isinstance(content, str):
        return content, 0, 0
    if not isinstance(content, Sequence) or isinstance(content, bytes | bytearray):
        return "", 0, 0
    texts: list[str] = []
    images = files = 0
    for part in content:
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        text = part.get("text")
        if isinstance(text, str):
            texts.append(text)
        elif kind in _IMAGE_PARTS:
            images += 1
        elif kind in _FILE_PARTS:
            files += 1
    return "\n".join(texts), images, files


def _count(value: Any) -> int:
    return len(value) if isinstance(value, Sequence) and not isinstance(value, str) else 0


def _json_output(response_format: Any) -> float:
    if not isinstance(response_format, Mapping):
        return 0.0
    kind = response_format.get("type")
    if kind == "json_schema":
        return 1.0
    return 0.5 if kind == "json_object" else 0.0


def view(body: Mapping[str, Any]) -> RequestView:
    """The classifier's view of a chat request body (never raises on odd shapes)."""
    if not isinstance(body, Mapping):
        body = {}
    raw = body.get("messages")
    messages = raw if isinstance(raw, Sequence) and not isinstance(raw, str) else ()
    last_user = last_any = ""
    system: list[str] = []
    user_turns = tool_results = images = files = context = 0
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        text, n_images, n_files = _parts(message.get("content"))
        role = message.get("role")
        context += len(text)
        images += n_images
        files += n_files
        if role in _SYSTEM_ROLES:
            system.append(text)
        elif role == "user":
            user_turns += 1
            last_user = text
        elif role in ("tool", "function"):
            tool_results += 1
        if text and role not in _SYSTEM_ROLES:
            last_any = text
    main = last_user or last_any
    tools = _count(body.get("tools")) + _count(body.get("functions"))
    return RequestView(
        text=cut(main, TEXT_HEAD, TEXT_TAIL),
        text_chars=len(main),
        system=cut("\n".join(system), SYSTEM_HEAD, 0),
        user_turns=user_turns,
        messages=len(messages),
        tools=tools,
        tool_results=tool_results,
        json_output=_json_output(body.get("response_format")),
        images=images,
        files=files,
        context_chars=context,
    )


def text_view(text: str) -> RequestView:
    """The view of a single user message (what `classify_text` classifies)."""
    return view({"messages": [{"role": "user", "content": text}]})
