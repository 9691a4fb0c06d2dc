"""Turn a `RequestView` into features: hashed n-grams plus a few dozen named hand-made ones.

Hashed part. Text is lower-cased, digits become 0, and it is split into words and single
punctuation marks. Each token has a 32-bit key, `crc32(token)` (a hash that does not depend on
the process, never Python's `hash()`); a bigram's key mixes its two tokens' keys, and the first
token, the first bigram and tokens of code (fenced, or bare code found by
router.classify.code_blocks) and of the system prompt get salted keys of their own: a
support bot's policy ("if the customer..., never...") is not a logic question, and its words
learn their weights only from requests that have a system prompt. A key goes to the bucket given by
the top log2(dim) bits of (key x 0x9E3779B1) mod 2^32. Grams of the message outside code share
the value 1/sqrt(count), code likewise, system-prompt words half of that, so a long message
does not outweigh a short one.

Dense part: `DENSE_NAMES`, each scaled to [0, 1] (log counts with a cap, fractions, flags). The
lexicon groups (router.classify.lexicon) are matched on the same 32-bit keys.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from router.classify.code_blocks import split_code
from router.classify.lexicon import LEXICON, TAIL_LOOKUP, entries
from router.classify.request import RequestView

CACHE_LIMIT: Final = 200_000
# Text in kana, CJK or Hangul is a token per character: at most this many from its head and
# tail (the view's cut keeps 3,600 characters, about 900 words of English).
SYLLABIC_HEAD: Final = 1000
SYLLABIC_TAIL: Final = 500
SYSTEM_WEIGHT: Final = 0.5
QUESTION_WINDOW: Final = 48
_MASK32: Final = np.uint64(0xFFFFFFFF)
_MULTIPLIER: Final = np.uint64(0x9E3779B1)
_FIRST_SALT: Final = 0x5EED0001
_PAIR_SALT: Final = 0x5EED0002
_CODE_SALT: Final = np.uint64(0x5EED0003)
_SYSTEM_SALT: Final = np.uint64(0x5EED0004)

_TOKEN = re.compile(r"\w+|\S")
# Scripts written without spaces between words (kana, CJK ideographs) and Hangul, whose words
# carry their particles: one token per character, so that the pair keys are character bigrams.
_SYLLABIC: Final = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_HAS_SYLLABIC = re.compile(f"[{_SYLLABIC}]")
_SYLLABIC_TOKEN = re.compile(f"[{_SYLLABIC}]|[^\\W{_SYLLABIC}]+|\\S")
# Full-width forms and CJK punctuation read as their ASCII counterparts.
_WIDE: Final = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: " ",
    0x3001: ",",
    0x3002: ".",
}
_SENTENCE_ENDS: Final = frozenset({".", "!", "?"})
# What ends the sentence before a question: in spaced scripts a mark and a space, in CJK the mark.
_QUESTION_STARTS: Final = (". ", "! ", "? ", "\n", "。", "！", "？")
QUESTION_MARKS: Final = ("?", "？")
_DIGIT = re.compile(r"\d")
_SENTENCE = re.compile(r"[.!?](?:\s|$)|[。！？]")
_NUMBER = re.compile(r"0+(?:[.,]0+)*")
_OPERATOR = re.compile(r"[=<>≤≥^+*/×÷]")
_ARITH = re.compile(r"0\s*[-+*/×÷^=<>]\s*[0(]")
_LATEX = re.compile(r"\\[a-zA-Z]+|\$")
_VARIABLE = re.compile(r"\b[a-z]\s*[=<>≤≥^+*/]|[=<>≤≥^+*/]\s*[a-z]\b")
_INDENTED = re.compile(r"^(?: {4}|\t)\S", re.M)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s", re.M)
_CHOICE = re.compile(r"^\s*\(?[A-Ea-e][.)]\s", re.M)

_LENGTH_BUCKETS: Final = (40, 160, 800, 4000)
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
    "word_length",
    "numbers",
    "digit_ratio",
    "arith",
    "latex",
    "variables",
    "indented",
    "list_items",
    "choices",
    "non_ascii",
    "tail_lookup",
    "preamble",
    "long_lookup",
)
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
GROUPS: Final[tuple[str, ...]] = tuple(sorted(LEXICON))
DENSE_NAMES: Final[tuple[str, ...]] = _TEXT_NAMES + GROUPS + _REQUEST_NAMES

Keys = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class Features:
    """Sparse hashed part (bucket per gram occurrence, with its value) and the dense part."""

    ids: Keys
    values: npt.NDArray[np.float64]
    dense: list[float]


_SCALE: Final = {cap: 1.0 / math.log1p(cap) for cap in (5, 10, 20, 30, 40, 50, 60, 100, 400, 1000)}
_SCALE.update({20000: 1.0 / math.log1p(20000), 400000: 1.0 / math.log1p(400000)})


def _log(count: float, cap: int) -> float:
    """log1p(count) scaled so that `cap` maps to 1, clipped at 1."""
    if count <= 0:
        return 0.0
    value = math.log1p(count) * _SCALE[cap]
    return value if value < 1.0 else 1.0


GROUP_CAP: Final = 20  # lexicon hits at which a group feature saturates
_GROUP_VALUES: Final = tuple(_log(count, GROUP_CAP) for count in range(GROUP_CAP))


def normalise(text: str) -> str:
    if not text.isascii():
        text = text.translate(_WIDE)
    return _DIGIT.sub("0", text.lower())


def tokens_of(low: str) -> list[str]:
    """Words and single punctuation marks (`\\w+|\\S`), each kana, CJK or Hangul character a
    token of its own; split on spaces first, it is faster."""
    if not low.isascii() and _HAS_SYLLABIC.search(low):
        found: list[str] = _SYLLABIC_TOKEN.findall(low)
        if len(found) > SYLLABIC_HEAD + SYLLABIC_TAIL:
            # a character is not a word: bound the work near that of English text as long
            return found[:SYLLABIC_HEAD] + found[-SYLLABIC_TAIL:]
        return found
    parts = low.split()
    if all(map(str.isalnum, parts)):
        return parts
    out: list[str] = []
    append, extend, split = out.append, out.extend, _TOKEN.findall
    for part in parts:
        if part.isalnum():
            append(part)
        else:
            extend(split(part))
    return out


def _pairs(keys: Keys) -> Keys:
    """Keys of consecutive token pairs."""
    return (keys[:-1] * _MULTIPLIER + keys[1:]) & _MASK32


def _pair(first: int, second: int) -> int:
    """`_pairs` for one pair, on Python ints."""
    return (first * 0x9E3779B1 + second) & 0xFFFFFFFF


class FeatureExtractor:
    """Computes `Features`; holds the lexicon keys and a bounded token -> key cache."""

    def __init__(self, dim: int) -> None:
        if dim < 2 or dim & (dim - 1):
            raise ValueError(f"hash dimension must be a power of two, got {dim}")
        self.dim = dim
        self._shift = np.uint64(32 - dim.bit_length() + 1)
        self._cache: dict[str, int] = {}
        groups_of: dict[int, list[int]] = {}
        for index, group in enumerate(GROUPS):
            for entry in entries(group):
                groups_of.setdefault(self._entry_key(entry), []).append(index)
        self._lexicon = groups_of
        self._lexicon_keys = np.asarray(sorted(groups_of), dtype=np.uint64)
        tail = {self._entry_key(entry) for entry in TAIL_LOOKUP.split("|")}
        self._tail_keys = np.asarray(sorted(tail), dtype=np.uint64)

    def _entry_key(self, entry: str) -> int:
        first = entry.startswith("^")
        tokens = entry.removeprefix("^").split(" ")
        if len(tokens) > 2:
            raise ValueError(f"lexicon entry {entry!r} is longer than a bigram")
        keys = self.token_keys(tokens)
        key = keys[0] if len(keys) == 1 else _pair(keys[0], keys[1])
        if first:
            key ^= _FIRST_SALT if len(keys) == 1 else _PAIR_SALT
        return key

    def keys(self, tokens: list[str]) -> Keys:
        return np.asarray(self.token_keys(tokens), dtype=np.uint64)

    def token_keys(self, tokens: list[str]) -> list[int]:
        """The 32-bit key of each token (crc32, cached)."""
        cache = self._cache
        try:
            return [cache[token] for token in tokens]
        except KeyError:
            return [cache.get(token) or self._remember(token) for token in tokens]

    def _remember(self, token: str) -> int:
        key = zlib.crc32(token.encode("utf-8", "surrogatepass"))
        if len(self._cache) < CACHE_LIMIT:
            self._cache[token] = key
        return key

    def _buckets(self, keys: Keys) -> Keys:
        """Multiplicative hashing: the top bits of key x golden ratio, modulo 2^32."""
        return ((keys * _MULTIPLIER) & _MASK32) >> self._shift

    def extract(self, view: RequestView) -> Features:
        ask, code = split_code(view.text)
        low = normalise(ask)
        tokens = tokens_of(low)
        found = self.token_keys(tokens)
        keys = np.asarray(found, dtype=np.uint64)
        heads = [found[0] ^ _FIRST_SALT] if found else []
        if len(found) > 1:
            heads.append(_pair(found[0], found[1]) ^ _PAIR_SALT)
        pairs = _pairs(keys)
        text_keys = np.concatenate([keys, pairs, np.asarray(heads, dtype=np.uint64)])
        hits = self._lexicon_hits(text_keys)
        dense = self._text_dense(view, ask, code, low, tokens)
        dense.extend(self._last_question(tokens, keys, pairs))
        dense.extend([_GROUP_VALUES[h] if h < GROUP_CAP else 1.0 for h in hits])
        dense.extend(_request_dense(view))
        ids = self._buckets(text_keys)
        values = np.full(len(text_keys), 1.0 / math.sqrt(max(1, len(text_keys))))
        if not code and not view.system:
            return Features(ids, values, dense)
        more_ids, more_values = [ids], [values]
        if code:
            code_keys = self.keys(tokens_of(normalise(code))) ^ _CODE_SALT
            more_ids.append(self._buckets(code_keys))
            more_values.append(np.full(len(code_keys), 1.0 / math.sqrt(max(1, len(code_keys)))))
        if view.system:
            system_keys = self.keys(tokens_of(normalise(view.system))) ^ _SYSTEM_SALT
            scale = SYSTEM_WEIGHT / math.sqrt(max(1, len(system_keys)))
            more_ids.append(self._buckets(system_keys))
            more_values.append(np.full(len(system_keys), scale))
        return Features(np.concatenate(more_ids), np.concatenate(more_values), dense)

    def _last_question(
        self, tokens: list[str], keys: Keys, pairs: Keys
    ) -> tuple[float, float, float]:
        """Lookup words in the last question sentence (one ending among the last QUESTION_WINDOW
        tokens); how much text comes before it."""
        window = tokens[-QUESTION_WINDOW:]
        if "?" not in window:
            return 0.0, 0.0, 0.0
        end = len(tokens) - 1 - window[::-1].index("?")
        start = end
        while start > 0 and tokens[start - 1] not in _SENTENCE_ENDS:
            start -= 1
        question = np.concatenate([keys[start:end], pairs[start : max(start, end - 1)]])
        hits = _count_in(self._tail_keys, question)
        preamble = _log(start, 1000) if hits else 0.0
        return _log(hits, 10), start / len(tokens), preamble

    def _lexicon_hits(self, keys: Keys) -> list[int]:
        """Hits per lexicon group among `keys` (one per occurrence)."""
        hits = [0] * len(GROUPS)
        lexicon_keys = self._lexicon_keys
        where = np.searchsorted(lexicon_keys, keys)
        where[where == len(lexicon_keys)] = 0
        matched = keys[lexicon_keys[where] == keys]
        for key in matched.tolist():
            for index in self._lexicon[key]:
                hits[index] += 1
        return hits

    def _text_dense(
        self, view: RequestView, ask: str, code: str, low: str, tokens: list[str]
    ) -> list[float]:
        text = view.text
        chars = max(1, len(text))
        full = view.text_chars
        stretch = full / chars
        buckets = [0.0] * (len(_LENGTH_BUCKETS) + 1)
        buckets[sum(full > edge for edge in _LENGTH_BUCKETS)] = 1.0
        digits = low.count("0")
        operators = _OPERATOR.search(low) is not None
        multiline = "\n" in text
        return [
            _log(full, 20000),
            *buckets,
            _log(len(ask) * stretch, 20000),
            len(code) / chars,
            _log(text.count("\n") * stretch, 400),
            _log(len(_SENTENCE.findall(text)) * stretch, 100),
            _log(sum(map(text.count, QUESTION_MARKS)), 10),
            min(1.0, max(0.0, (len(low) / max(1, len(tokens)) - 3.0) / 4.0)),
            _log(len(_NUMBER.findall(low)), 60) if digits else 0.0,
            min(1.0, 5.0 * digits / chars),
            _log(len(_ARITH.findall(low)), 20) if digits and operators else 0.0,
            _log(len(_LATEX.findall(ask)), 40) if "\\" in ask or "$" in ask else 0.0,
            _log(len(_VARIABLE.findall(low)), 20) if operators else 0.0,
            _log(len(_INDENTED.findall(text)) * stretch, 100) if multiline else 0.0,
            _log(len(_LIST_ITEM.findall(text)), 30) if multiline else 0.0,
            1.0 if multiline and len(_CHOICE.findall(text)) >= 2 else 0.0,
            min(1.0, 2.0 * (len(text.encode("utf-8", "surrogatepass")) - len(text)) / chars),
        ]


def last_question(text: str) -> tuple[int, int] | None:
    """Start and end of the last sentence that ends with a question mark (ASCII or full-width),
    if any."""
    end = max(map(text.rfind, QUESTION_MARKS))
    if end < 0:
        return None
    start = 0
    for mark in _QUESTION_STARTS:
        found = text.rfind(mark, 0, end)
        if found >= 0:
            start = max(start, found + len(mark))
    return start, end


def _count_in(sorted_keys: Keys, keys: Keys) -> int:
    """How many of `keys` occur in `sorted_keys`."""
    where = np.searchsorted(sorted_keys, keys)
    where[where == len(sorted_keys)] = 0
    return int(np.count_nonzero(sorted_keys[where] == keys))


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
