"""The pieces of Harmony's grammar that the repair parser recognises in leaked text.

Message grammar (openai/harmony ``docs/format.md``)::

    <|start|>{role}[ to={recipient}]<|channel|>{channel}[ to={recipient}][ <|constrain|>{type}]
    <|message|>{content}<|end|> | <|return|> | <|call|>

With special tokens stripped, ``<|start|>assistant<|channel|>final<|message|>`` reads
``assistantfinal``, and a tool call's header ``commentary to=functions.f json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

START, END, MESSAGE, CHANNEL = "<|start|>", "<|end|>", "<|message|>", "<|channel|>"
RETURN, CALL, CONSTRAIN = "<|return|>", "<|call|>", "<|constrain|>"
TOKENS: Final = (START, END, MESSAGE, CHANNEL, RETURN, CALL, CONSTRAIN)
IGNORED_TOKENS: Final = ("<|startoftext|>", "<|endoftext|>")
ALL_TOKENS: Final = TOKENS + IGNORED_TOKENS
HEADER_TOKENS: Final = (START, CHANNEL, CONSTRAIN, MESSAGE)
MESSAGE_ENDS: Final = (END, RETURN, CALL)
CHANNELS: Final = ("analysis", "commentary", "final")
SEPARATORS: Final[dict[str, str]] = {f"assistant{channel}": channel for channel in CHANNELS}
SEPARATOR_LIST: Final = tuple(SEPARATORS)
STRIPPED_CALL: Final = "commentary to="
"""A stripped tool-call header at the very start of an answer (``commentary to=functions.f
json{...}``): the analysis before it went elsewhere (a host that parses reasoning) or nowhere."""
STRIPPED_STARTS: Final[dict[str, str]] = {**SEPARATORS, STRIPPED_CALL: "commentary"}
"""What a stripped answer may start with besides ``analysis``, and the channel it opens."""
FUNCTIONS: Final = "functions."
MAX_HEADER: Final = 256
"""Longer than this, or spanning lines, the text after a token is prose, not a header."""

_HEADER_WORDS: Final = ("assistant", *CHANNELS, "json", "to=")
_MAX_HEADERISH: Final = 128
_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_RECIPIENT = re.compile(r"to=([^\s<]+)")
_CHANNEL_WORD = re.compile(r"<\|channel\|>\s*([A-Za-z_]+)")


@dataclass(frozen=True, slots=True)
class Header:
    role: str
    channel: str | None
    recipient: str | None


def headerish(text: str) -> bool:
    """Could ``text`` still be (the start of) a bare header such as ``assistant to=functions.f``?

    Closed under prefixes, so "no" never turns back into "yes" as more text arrives.
    """
    if len(text) > _MAX_HEADERISH:
        return False
    for word in text.split():
        if word.startswith("to="):
            if not set(word[3:]) <= _NAME_CHARS:
                return False
        elif not any(candidate.startswith(word) for candidate in _HEADER_WORDS):
            return False
    return True


def parse_header(header: str) -> Header:
    """Role, channel and recipient from a header's text (special tokens included).

    A header without ``<|channel|>`` whose first word is a channel name (``analysis``, left
    when a host dropped the tokens before it) is an assistant message on that channel.
    """
    header = header.rsplit(START, 1)[-1]
    recipient_match = _RECIPIENT.search(header)
    recipient = recipient_match.group(1) if recipient_match else None
    channel_match = _CHANNEL_WORD.search(header)
    role_part = header.split(CHANNEL, 1)[0] if channel_match else header
    words = _RECIPIENT.sub(" ", role_part.replace(CONSTRAIN, " ")).split()
    role = words[0] if words else ""
    channel = channel_match.group(1) if channel_match else None
    if channel is None and role in CHANNELS:
        role, channel = "", role
    return Header(role=role or "assistant", channel=channel, recipient=recipient)


def stripped_recipient(text: str, final: bool) -> tuple[str | None, int] | None:
    """Read `` to=NAME[ json]`` after a stripped channel name: (recipient, length read).

    The recipient needs whitespace before ``to=`` (as the grammar writes it), so
    ``assistantfinalto be...`` stays content; whitespace before the content is dropped.
    ``None`` means more text is needed to decide (never when ``final``).
    """
    if not text:
        return (None, 0) if final else None
    start = len(text) - len(text.lstrip())
    if start == 0:
        return None, 0
    rest = text[start:]
    if not rest.startswith("to="):
        if "to=".startswith(rest) and not final:
            return None
        return None, start
    end = start + len("to=")
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    if end == len(text) and not final:
        return None
    after = text[end:].lstrip()
    if after.startswith("json"):
        return text[start + 3 : end], len(text) - len(after) + len("json")
    if "json".startswith(after) and not final:
        return None
    return text[start + 3 : end], end
