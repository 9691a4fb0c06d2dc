"""A message that is an instruction plus the text it works on: "Summarize this article:" and an
article, an email thread and "Rewrite the last email more politely."

The pasted text is not the question. Its length and its words (an article about shipping reads
like a knowledge question) say little about how hard the work on it is, so the classifier also
looks at the instruction alone (router.classify.model). This module only finds the two parts:
the message is split at blank lines; a short first paragraph, a short last paragraph, or both,
make the instruction, and the rest is the material, when it is much longer than they are.
An email thread (two or more paragraphs that open with a sender line: `From:`, `De :`, `Von:`,
`发件人：`...) is material however short it is, and its first message is never the instruction.
"""

from __future__ import annotations

import re
from typing import Final

INSTRUCTION_CHARS: Final = 300  # an instruction paragraph is at most this long
MATERIAL_CHARS: Final = 400  # and the material at least this long
MATERIAL_SHARE: Final = 3  # and at least this many times the instruction's length

_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
# A sender line, in the languages the classifier is trained on.
_SENDER = re.compile(
    r"(?:from|sender|de|von|da|от|发件人|寄件人|差出人|送信者|보낸\s?사람)\s?[:：]", re.IGNORECASE
)


def instruction_of(text: str) -> str | None:
    """The instruction of a message made of an instruction and pasted material; None for any
    other message."""
    if "\n" not in text:
        return None
    paragraphs = [part.strip() for part in _BLANK_LINE.split(text.strip())]
    paragraphs = [part for part in paragraphs if part]
    if len(paragraphs) < 2:
        return None
    first, last = paragraphs[0], paragraphs[-1]
    if sum(1 for part in paragraphs[:-1] if _SENDER.match(part)) >= 2:
        return _thread_instruction(paragraphs)
    head = first if len(first) <= INSTRUCTION_CHARS else ""
    tail = last if len(last) <= INSTRUCTION_CHARS else ""
    body = paragraphs[(1 if head else 0) : len(paragraphs) - (1 if tail else 0)]
    material = sum(map(len, body))
    instruction = len(head) + len(tail)
    if not instruction or material < MATERIAL_CHARS or material < MATERIAL_SHARE * instruction:
        return None
    return "\n\n".join(part for part in (head, tail) if part)


def _thread_instruction(paragraphs: list[str]) -> str | None:
    """The last paragraph of an email thread, when it is not a message of the thread itself."""
    last = paragraphs[-1]
    if _SENDER.match(last) or len(last) > INSTRUCTION_CHARS:
        return None
    return last
