"""Reasoning controls written into the conversation itself, rather than as request params.

* **Harmony effort line**: a line ``Reasoning: high`` (the form gpt-oss's system message
  uses) in a ``system`` or ``developer`` message. Only a whole line counts, the key and the
  value are case-insensitive, and only a value on the effort ladder makes it a control: any
  other ``Reasoning: ...`` line is the client's own prose and is left alone.
* **Qwen soft switches**: ``/think`` or ``/no_think`` standing as a word of its own (whitespace
  or the text's edge on both sides). As in Qwen's chat template, the most recent instruction
  wins: the last switch in the last ``user`` message; failing that, the last switch in the
  ``system``/``developer`` messages. Switches in earlier user turns are history, not controls.

Each control is reported with the param path of the text that carries it, e.g.
``messages[0].content`` or ``messages[2].content[1].text``. Text is read from string content
and from ``{"type": "text", "text": ...}`` parts; anything else is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from router.reasoning.effort import EFFORTS, Effort

_INSTRUCTION_ROLES: Final = ("system", "developer")
_EFFORT_LINE = re.compile(
    r"^[ \t]*reasoning:[ \t]*([a-z]+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)
_EFFORT_LINE_WITH_END = re.compile(
    r"^[ \t]*reasoning:[ \t]*(?:" + "|".join(EFFORTS) + r")[ \t]*(?:\r?\n|\r?$)",
    re.IGNORECASE | re.MULTILINE,
)
_SWITCH = re.compile(r"(?<!\S)/(no_think|think)(?!\S)")
_SWITCH_WITH_SPACE = re.compile(r"[ \t]*(?<!\S)/(?:no_think|think)(?!\S)")


@dataclass(frozen=True, slots=True)
class TextControl:
    param: str
    value: Effort | bool
    """An effort (from a Harmony line) or thinking on/off (from a Qwen switch)."""


def _may_have_switch(text: str) -> bool:
    """False when `text` surely holds no Qwen switch (a substring test is far cheaper than the
    regex, and almost no text holds one)."""
    return "/think" in text or "/no_think" in text


def _may_have_effort_line(text: str) -> bool:
    """False when `text` surely holds no Harmony effort line."""
    return "reasoning" in text.lower()


def _texts(messages: Sequence[Any], index: int) -> Iterator[tuple[str, str]]:
    message = messages[index]
    if not isinstance(message, Mapping):
        return
    content = message.get("content")
    if isinstance(content, str):
        yield f"messages[{index}].content", content
    elif isinstance(content, list):
        for part_index, part in enumerate(content):
            if isinstance(part, Mapping) and part.get("type") == "text":
                text = part.get("text")
                if isinstance(text, str):
                    yield f"messages[{index}].content[{part_index}].text", text


def _role(message: object) -> object:
    if type(message) is dict or isinstance(message, Mapping):  # a parsed body holds dicts
        return message.get("role")
    return None


def _last_user(messages: Sequence[Any]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if _role(messages[index]) == "user":
            return index
    return None


def harmony_effort_lines(messages: Sequence[Any]) -> list[TextControl]:
    """Every ``Reasoning: <effort>`` line in system and developer messages, in order."""
    found: list[TextControl] = []
    for index, message in enumerate(messages):
        if _role(message) not in _INSTRUCTION_ROLES:
            continue
        for param, text in _texts(messages, index):
            if not _may_have_effort_line(text):
                continue
            for match in _EFFORT_LINE.finditer(text):
                value = match.group(1).lower()
                if value in EFFORTS:
                    found.append(TextControl(param, cast(Effort, value)))
    return found


def _last_switch(messages: Sequence[Any], indexes: Sequence[int]) -> TextControl | None:
    last: TextControl | None = None
    for index in indexes:
        for param, text in _texts(messages, index):
            if not _may_have_switch(text):
                continue
            for match in _SWITCH.finditer(text):
                last = TextControl(param, match.group(1) == "think")
    return last


def qwen_switch(messages: Sequence[Any]) -> TextControl | None:
    """The Qwen ``/think`` / ``/no_think`` switch in force, if any (True means thinking on)."""
    user = _last_user(messages)
    if user is not None:
        switch = _last_switch(messages, [user])
        if switch is not None:
            return switch
    instructions = [i for i, m in enumerate(messages) if _role(m) in _INSTRUCTION_ROLES]
    return _last_switch(messages, instructions)


def _clean(text: str, *, instruction: bool) -> str:
    cleaned = _SWITCH_WITH_SPACE.sub("", text) if _may_have_switch(text) else text
    if instruction and _may_have_effort_line(cleaned):
        cleaned = _EFFORT_LINE_WITH_END.sub("", cleaned)
    return text if cleaned == text else cleaned.strip()


def _strip_message(message: Mapping[str, Any], *, instruction: bool) -> dict[str, Any] | None:
    """The message without its controls. In an instruction message, a text part left empty
    is dropped, and so is the message when nothing else remains (None)."""
    content = message.get("content")
    if isinstance(content, str):
        cleaned = _clean(content, instruction=instruction)
        if instruction and not cleaned and cleaned != content:
            return None
        return {**message, "content": cleaned}
    if not isinstance(content, list):
        return dict(message)
    parts: list[Any] = []
    for part in content:
        is_text = isinstance(part, Mapping) and part.get("type") == "text"
        text = part.get("text") if is_text else None
        if not isinstance(text, str):
            parts.append(part)
            continue
        cleaned = _clean(text, instruction=instruction)
        if cleaned == text:
            parts.append(part)
        elif cleaned or not instruction:
            parts.append({**part, "text": cleaned})
    if instruction and not parts and content:
        return None
    return {**message, "content": parts}


def strip_text_controls(messages: Sequence[Any]) -> list[Any]:
    """A new message list without the controls that ``harmony_effort_lines`` and
    ``qwen_switch`` read. A system or developer message left empty is dropped; a user message
    keeps its (possibly empty) text, so the turn order never changes."""
    user = _last_user(messages)
    stripped: list[Any] = []
    for index, message in enumerate(messages):
        instruction = _role(message) in _INSTRUCTION_ROLES
        if not isinstance(message, Mapping) or not (instruction or index == user):
            stripped.append(message)
            continue
        cleaned = _strip_message(message, instruction=instruction)
        if cleaned is not None:
            stripped.append(cleaned)
    return stripped
