"""What an upstream sends back, fuzzed: the parsers that read it never fail in a way the proxy
did not plan for.

A wrong upstream answer may be an error the client sees (a `ProxyError`, a `MalformedEvent`, a
`UsageError` that falls back to counting), never an unexpected exception: in a non-streamed
answer that would be a 500, mid-stream a cut connection. Covered: the SSE splitter and event
parser, the think-tag and Harmony stream parsers, every dialect's response and stream
translator, the tally and every usage convention.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from itertools import pairwise
from typing import Any, AnyStr, Protocol

from hypothesis import given, settings
from hypothesis import strategies as st

from router.errors import ProxyError
from router.metering.bill import Tally
from router.metering.usage import PARSERS, UsageError, parse_usage
from router.providers.registry import adapter_for
from router.reasoning.harmony_repair import HarmonyStreamRepair, repair_harmony
from router.reasoning.think_tags import ThinkTagSplitter, split_think_tags
from router.upstream.sse import MalformedEvent, SSESplitter, parse_event
from tests.fuzz.conftest import FUZZ
from tests.unit.providers.catalog import catalog
from tests.unit.reasoning.feeding import PieceStream

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats()
    | st.text(max_size=30)
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
# Keys the parsers look for, so generated objects reach past the first `get`.
KEYS = st.sampled_from(
    [
        "choices",
        "delta",
        "message",
        "content",
        "reasoning",
        "reasoning_content",
        "usage",
        "tool_calls",
        "function",
        "name",
        "arguments",
        "index",
        "finish_reason",
        "type",
        "text",
        "thinking",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "input_tokens",
        "output_tokens",
        "completion_tokens_details",
        "reasoning_tokens",
        "prompt_tokens_details",
        "cached_tokens",
        "cost",
        "error",
        "id",
        "model",
        "content_block",
        "index",
        "stop_reason",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "signature",
        "refusal",
    ]
)
shaped = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=16,
)
objects = st.dictionaries(KEYS, shaped, max_size=5)
MARKUP = st.sampled_from(
    [
        "<think>",
        "</think>",
        "<thought>",
        "</thought>",
        "<|start|>",
        "<|end|>",
        "<|channel|>",
        "<|message|>",
        "<|return|>",
        "<|call|>",
        "<|constrain|>",
        "analysis",
        "final",
        "commentary",
        "assistant",
        " to=functions.f",
        "json",
        "\n",
        " ",
        "text",
        "{",
        "}",
    ]
)
marked_text = st.lists(MARKUP | st.text(max_size=8), max_size=20).map("".join)
MODELS = sorted(catalog())


def chunked(data: AnyStr, cuts: list[int]) -> list[AnyStr]:
    """`data` cut at the given offsets (those past its end ignored); the pieces join to `data`."""
    ends = [0, *sorted(set(c for c in cuts if c <= len(data))), len(data)]
    return [data[start:end] for start, end in pairwise(ends)]


class Split(Protocol):
    @property
    def content(self) -> str: ...
    @property
    def reasoning(self) -> str: ...


def assert_streamed_as_whole(stream: PieceStream, chunks: list[str], whole: Split) -> None:
    """Fed in chunks, a stream parser finds the content and reasoning the whole-text one does."""
    pieces = [piece for chunk in chunks for piece in stream.feed(chunk)]
    pieces += stream.finish()
    assert "".join(p.text for p in pieces if p.kind == "content") == whole.content
    assert "".join(p.text for p in pieces if p.kind == "reasoning") == whole.reasoning


@settings(FUZZ, max_examples=300)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_sse_bytes_split_and_parse_without_surprises(data: bytes, cuts: list[int]) -> None:
    splitter = SSESplitter()
    events = [event for chunk in chunked(data, cuts) for event in splitter.feed(chunk)]
    for raw in events:
        with contextlib.suppress(MalformedEvent):
            parse_event(raw)


@settings(FUZZ, max_examples=200)
@given(text=marked_text, cuts=st.lists(st.integers(0, 200), max_size=6), implicit=st.booleans())
def test_think_tag_stream_parsing_never_fails_and_ignores_chunking(
    text: str, cuts: list[int], implicit: bool
) -> None:
    whole = split_think_tags(text, starts_in_reasoning=implicit)
    streamed = ThinkTagSplitter(starts_in_reasoning=implicit)
    assert_streamed_as_whole(streamed, chunked(text, cuts), whole)


@settings(FUZZ, max_examples=200)
@given(text=marked_text, cuts=st.lists(st.integers(0, 200), max_size=6), known=st.booleans())
def test_harmony_stream_repair_never_fails_and_ignores_chunking(
    text: str, cuts: list[int], known: bool
) -> None:
    whole = repair_harmony(text, known_harmony=known)
    streamed = HarmonyStreamRepair(known_harmony=known)
    assert_streamed_as_whole(streamed, chunked(text, cuts), whole)


def _tolerated(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except ProxyError:
        return None


@settings(FUZZ, max_examples=400)
@given(name=st.sampled_from(MODELS), payload=objects, show=st.booleans())
def test_every_dialect_parses_any_json_answer_or_refuses_it_cleanly(
    name: str, payload: dict[str, Any], show: bool
) -> None:
    model = catalog()[name]
    reply = _tolerated(adapter_for(model.provider.dialect).parse_response, payload, model, show)
    tally = Tally()
    tally.add_response(reply if isinstance(reply, Mapping) else payload)


@settings(FUZZ, max_examples=300)
@given(name=st.sampled_from(MODELS), events=st.lists(objects, max_size=6), show=st.booleans())
def test_every_dialect_translates_any_event_stream_or_refuses_it_cleanly(
    name: str, events: list[dict[str, Any]], show: bool
) -> None:
    model = catalog()[name]
    translator = adapter_for(model.provider.dialect).stream(model, show)
    tally = Tally()
    try:
        for event in events:
            for chunk in translator.feed(event):
                tally.add_chunk(chunk)
        for chunk in translator.finish():
            tally.add_chunk(chunk)
    except ProxyError:
        pass


@settings(FUZZ, max_examples=300)
@given(convention=st.sampled_from(sorted(PARSERS)), payload=shaped)
def test_every_usage_convention_reads_any_usage_or_says_it_is_unusable(
    convention: str, payload: Any
) -> None:
    try:
        usage = parse_usage(convention, payload)
    except UsageError:
        return
    assert usage.total >= 0
