"""Finding markers in text that is still arriving.

A streaming splitter may emit text only once it is sure the text does not begin a marker; these
two functions answer "which marker comes first?" and "how much of the end must wait?".
"""

from __future__ import annotations

from collections.abc import Sequence


def earliest(text: str, markers: Sequence[str]) -> tuple[int, str] | None:
    """The first complete marker in ``text`` as (index, marker), or None."""
    found = [(index, marker) for marker in markers if (index := text.find(marker)) >= 0]
    return min(found) if found else None


def partial_suffix(text: str, markers: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that is a proper start of one of ``markers``.

    That many characters must be held back: the next delta may complete the marker.
    """
    longest = max(len(marker) for marker in markers) - 1
    for size in range(min(len(text), longest), 0, -1):
        tail = text[-size:]
        if any(marker.startswith(tail) for marker in markers):
            return size
    return 0
