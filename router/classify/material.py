"""A message that is an instruction plus the text it works on: "Summarize this article:" and an
article, an email thread and "Rewrite the last email more politely."

The pasted text is not the question. Its length and its words (an article about shipping reads
like a knowledge question) say little about how hard the work on it is, so the classifier also
looks at the instruction alone (router.classify.model). This module only finds the two parts:
the message is split at blank lines; a short first paragraph, a short last paragraph, or both,
make the instruction, and the rest is the material, when it is much longer than they are.
"""

from __future__ import annotations

import re
from typing import Final

INSTRUCTION_CHARS: Final = 300  # an instruction paragraph is at most this long
MATERIAL_CHARS: Final = 400  # and the material at least this long
MATERIAL_SHARE: Final = 3  # and at least this many times the instruction's length

_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


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
    head = first if len(first) <= INSTRUCTION_CHARS else ""
    tail = last if len(last) <= INSTRUCTION_CHARS else ""
    body = paragraphs[(1 if head else 0) : len(paragraphs) - (1 if tail else 0)]
    material = sum(map(len, body))
    instruction = len(head) + len(tail)
    if not instruction or material < MATERIAL_CHARS or material < MATERIAL_SHARE * instruction:
        return None
    return "\n\n".join(part for part in (head, tail) if part)
