"""Which token profile a query gets: a tiny keyword heuristic on the last user message.

This is the simulator's own guess, deliberately crude (the proxy has a real classifier). Order
matters: arithmetic wins over puzzle words, puzzle words over question words.
"""

from __future__ import annotations

import re

_MATH = re.compile(
    r"\d\s*[-+*/^=×÷]\s*\d"
    r"|\b(calculate|compute|solve|equation|integral|derivative|sum of|product of|how much is"
    r"|how many|probability|percent|sqrt|square root|prime|divisible|remainder|math)\b",
    re.IGNORECASE,
)
_LOGIC = re.compile(
    r"\b(puzzle|riddle|logic|logically|deduce|who is lying|liars?|knights?|knaves?"
    r"|river crossing|bridge|monty hall|paradox|syllogism|if and only if)\b",
    re.IGNORECASE,
)
_KNOWLEDGE = re.compile(
    r"\b(what is|what are|what was|who is|who was|who wrote|when did|when was|where is"
    r"|capital of|define|definition|explain|history of|which country|name the)\b",
    re.IGNORECASE,
)


# A long message is read at its two ends only (a question usually opens or closes it): the
# patterns scanned a 500 KB prompt in ~110 ms, and in the embedded default the simulator runs
# inside the proxy's process.
EDGE = 2000


def categorize(text: str) -> str:
    """`math`, `logic`, `knowledge` or `other` for a user message."""
    if len(text) > 2 * EDGE:
        text = text[:EDGE] + "\n" + text[-EDGE:]
    if _MATH.search(text):
        return "math"
    if _LOGIC.search(text):
        return "logic"
    if _KNOWLEDGE.search(text):
        return "knowledge"
    return "other"
