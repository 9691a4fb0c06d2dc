"""Turn a `RequestView` into features: hashed n-grams plus a few dozen named hand-made ones.

Hashed part: word unigrams and bigrams of the message (outside code fences), 5-letter prefixes
of long words, the first one and two tokens (marked `^`), tokens inside code fences (marked
`c:`) and system-prompt words at half weight. Each gram goes to bucket `crc32(gram) % dim`, a
hash that does not depend on the process (never Python's `hash()`). Values are counts divided by
the square root of the gram total, so a long message does not outweigh a short one.

Dense part: `DENSE_NAMES`, each scaled to [0, 1] (log counts with a cap, fractions, flags).
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Final

from router.classify.lexicon import LEXICON, entries
from router.classify.request import RequestView

CACHE_LIMIT: Final = 200_000
SYSTEM_WEIGHT: Final = 0.5

_TOKEN = re.compile(r"\w+|[^\w\s]")
_DIGIT = re.compile(r"\d")
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_SENTENCE = re.compile(r"[.!?](?:\s|$)")
_LONG_WORD = re.compile(r"\w{11,}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ARITH = re.compile(r"\d\s*[-+*/×÷^=<>]\s*[\d(]")
_LATEX = re.compile(r"\\[a-zA-Z]+|\$")
_VARIABLE = re.compile(r"(?<![\w.])[a-zA-Z](?:_\w)?\s*[=<>≤≥^+*/]|[=<>≤≥^+*/]\s*[a-zA-Z](?!\w)")
_INDENTED = re.compile(r"^(?: {4}|\t)\S", re.M)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s", re.M)
_CHOICE = re.compile(r"^\s*\(?[A-Ea-e][.)]\s", re.M)

_LENGTH_BUCKETS: Final = (40, 160, 800, 4000)
_REQUEST_NAMES: Final = (
    "system_log",
    "turns",
    "tools",
    "tool_results",
    "json_output",
    "images",
    "files",
    "context_log",
    "context_extra",
)
_TEXT_NAMES: Final = (
    "len_log",
    "len_xs",
    "len_s",
    "len_m",
    "len_l",
    "len_xl",
    "ask_log",
    "fenced",
    "lines",
    "sentences",
    "questions",
    "long_words",
    "numbers",
    "digit_ratio",
    "arith",
    "latex",
    "variables",
    "indented",
    "list_items",
    "choices",
    "non_ascii",
)
GROUPS: Final[tuple[str, ...]] = tuple(sorted(LEXICON))
DENSE_NAMES: Final[tuple[str, ...]] = _TEXT_NAMES + GROUPS + _REQUEST_NAMES


@dataclass(frozen=True)
class Features:
    """Sparse hashed part (bucket ids with values) and the dense hand-made part."""

    ids: list[int]
    values: list[float]
    dense: list[float]


def _log(count: float, cap: float) -> float:
    return min(1.0, math.log1p(count) / math.log1p(cap))


def _split_fences(text: str) -> tuple[str, str]:
    """The message outside code fences, and the fenced code."""
    if "```" not in text:
        return text, ""
    return _FENCE.sub(" ", text), "\n".join(_FENCE.findall(text))


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_DIGIT.sub("0", text.lower()))


class FeatureExtractor:
    """Computes `Features`; holds the lexicon table and a bounded gram -> bucket cache."""

    def __init__(self, dim: int) -> None:
        if dim < 2 or dim & (dim - 1):
            raise ValueError(f"hash dimension must be a power of two, got {dim}")
        self.dim = dim
        self._mask = dim - 1
        self._cache: dict[str, int] = {}
        lookup: dict[str, list[int]] = {}
        for index, group in enumerate(GROUPS):
            for entry in entries(group):
                lookup.setdefault(entry, []).append(index)
        self._lexicon = lookup

    def bucket(self, gram: str) -> int:
        found = self._cache.get(gram)
        if found is None:
            found = zlib.crc32(gram.encode("utf-8")) & self._mask
            if len(self._cache) < CACHE_LIMIT:
                self._cache[gram] = found
        return found

    def extract(self, view: RequestView) -> Features:
        ask, code = _split_fences(view.text)
        tokens = _tokens(ask)
        grams = Counter(tokens)
        grams.update([a + " " + b for a, b in zip(tokens, tokens[1:], strict=False)])
        grams.update(["~" + t[:5] for t in tokens if len(t) > 6])
        if tokens:
            grams["^" + tokens[0]] += 1
            if len(tokens) > 1:
                grams["^" + tokens[0] + " " + tokens[1]] += 1
        hits = [0] * len(GROUPS)
        lexicon = self._lexicon
        for gram in grams.keys() & lexicon.keys():
            for index in lexicon[gram]:
                hits[index] += grams[gram]
        code_grams = Counter(["c:" + t for t in _tokens(code)]) if code else Counter()
        ids: list[int] = []
        values: list[float] = []
        for counter, weight in ((grams, 1.0), (code_grams, 1.0)):
            self._add(counter, weight, ids, values)
        if view.system:
            self._add(Counter(_tokens(view.system)), SYSTEM_WEIGHT, ids, values)
        dense = self._text_dense(view, ask, code)
        dense.extend(_log(h, 20) for h in hits)
        dense.extend(_request_dense(view))
        return Features(ids, values, dense)

    def _add(self, counter: Counter[str], weight: float, ids: list[int], out: list[float]) -> None:
        if not counter:
            return
        scale = weight / math.sqrt(counter.total())
        bucket = self.bucket
        for gram, count in counter.items():
            ids.append(bucket(gram))
            out.append(count * scale)

    def _text_dense(self, view: RequestView, ask: str, code: str) -> list[float]:
        text = view.text
        chars = max(1, len(text))
        full = view.text_chars
        stretch = full / chars
        buckets = [0.0] * (len(_LENGTH_BUCKETS) + 1)
        buckets[sum(full > edge for edge in _LENGTH_BUCKETS)] = 1.0
        digits = len(_DIGIT.findall(text))
        return [
            _log(full, 20000),
            *buckets,
            _log(len(ask) * stretch, 20000),
            len(code) / chars,
            _log(text.count("\n") * stretch, 400),
            _log(len(_SENTENCE.findall(text)) * stretch, 100),
            _log(text.count("?"), 10),
            _log(len(_LONG_WORD.findall(text)) * stretch, 50),
            _log(len(_NUMBER.findall(ask)), 60),
            min(1.0, 5.0 * digits / chars),
            _log(len(_ARITH.findall(ask)), 20),
            _log(len(_LATEX.findall(ask)), 40),
            _log(len(_VARIABLE.findall(ask)), 20),
            _log(len(_INDENTED.findall(text)) * stretch, 100),
            _log(len(_LIST_ITEM.findall(text)), 30),
            1.0 if len(_CHOICE.findall(text)) >= 2 else 0.0,
            min(1.0, 2.0 * (len(text.encode("utf-8")) - len(text)) / chars),
        ]


def _request_dense(view: RequestView) -> list[float]:
    return [
        _log(len(view.system), 20000),
        _log(max(0, view.user_turns - 1), 30),
        _log(view.tools, 20),
        _log(view.tool_results, 20),
        view.json_output,
        min(1.0, view.images / 4),
        min(1.0, view.files / 4),
        _log(view.context_chars, 400000),
        _log(max(0, view.context_chars - view.text_chars), 400000),
    ]
