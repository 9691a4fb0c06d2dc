from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from router.reasoning.pieces import Piece, assemble
from router.reasoning.think_tags import ThinkSplit, ThinkTagSplitter, split_think_tags
from tests.unit.reasoning.feeding import fed_in_pieces

# (name, text, starts_in_reasoning, expected)
CASES: list[tuple[str, str, bool, ThinkSplit]] = [
    (
        "groq raw",
        "<think>\nThe user wants 2+2.\n</think>\n\n2 + 2 = 4.",
        False,
        ThinkSplit("The user wants 2+2.", "2 + 2 = 4.", found=True, unclosed=False),
    ),
    (
        "gemini thought summary",
        "<thought>**Adding numbers**</thought>The answer is 4.",
        False,
        ThinkSplit("**Adding numbers**", "The answer is 4.", found=True, unclosed=False),
    ),
    (
        "leading whitespace before the tag",
        "  \n<think>x</think>y",
        False,
        ThinkSplit("x", "y", found=True, unclosed=False),
    ),
    (
        "unclosed: everything after the tag is reasoning",
        "<think>Let me think about this carefully",
        False,
        ThinkSplit("Let me think about this carefully", "", found=True, unclosed=True),
    ),
    (
        "empty block (qwen3 with thinking off)",
        "<think>\n\n</think>\n\nHello!",
        False,
        ThinkSplit("", "Hello!", found=True, unclosed=False),
    ),
    (
        "consecutive leading blocks join with a newline",
        "<thought>a</thought>\n<think>b</think> answer",
        False,
        ThinkSplit("a\nb", "answer", found=True, unclosed=False),
    ),
    (
        "a tag after answer text stays content",
        "Use <think> tags like this: <think>x</think>",
        False,
        ThinkSplit("", "Use <think> tags like this: <think>x</think>", found=False, unclosed=False),
    ),
    (
        "a later block after the answer stays content",
        "<think>a</think>Answer <think>b</think>",
        False,
        ThinkSplit("a", "Answer <think>b</think>", found=True, unclosed=False),
    ),
    (
        "closing tags must match",
        "<think>a</thought>b</think>c",
        False,
        ThinkSplit("a</thought>b", "c", found=True, unclosed=False),
    ),
    (
        "no tags: unchanged, whitespace included",
        "  plain answer\n",
        False,
        ThinkSplit("", "  plain answer\n", found=False, unclosed=False),
    ),
    (
        "a lone closing tag is content by default",
        "reasoning</think>answer",
        False,
        ThinkSplit("", "reasoning</think>answer", found=False, unclosed=False),
    ),
    (
        "qwen3.5: output starts inside the block",
        "reasoning</think>\n\nanswer",
        True,
        ThinkSplit("reasoning", "answer", found=True, unclosed=False),
    ),
    (
        "qwen3.5: an explicit opening tag is still accepted",
        "<think>reasoning</think>answer",
        True,
        ThinkSplit("reasoning", "answer", found=True, unclosed=False),
    ),
    (
        "qwen3.5: cut off before the closing tag",
        "still thinking",
        True,
        ThinkSplit("still thinking", "", found=True, unclosed=True),
    ),
    ("empty", "", False, ThinkSplit("", "", found=False, unclosed=False)),
    ("only a partial tag", "<thi", False, ThinkSplit("", "<thi", found=False, unclosed=False)),
]


@pytest.mark.parametrize(
    ("text", "starts_in_reasoning", "expected"),
    [pytest.param(t, s, e, id=n) for n, t, s, e in CASES],
)
def test_cases(text: str, starts_in_reasoning: bool, expected: ThinkSplit) -> None:
    assert split_think_tags(text, starts_in_reasoning=starts_in_reasoning) == expected
    assert streamed(text, list(range(1, len(text))), starts_in_reasoning) == expected


def test_only_a_possible_tag_is_held_back() -> None:
    splitter = ThinkTagSplitter()
    assert splitter.feed(" <thi") == []
    assert splitter.feed("nk>Let me") == [Piece("reasoning", "Let me")]
    assert splitter.feed(" see</th") == [Piece("reasoning", " see")]
    assert splitter.feed("ink>\n") == []
    assert splitter.feed("Four.") == [Piece("content", "Four.")]
    assert splitter.feed(" <think>") == [Piece("content", " <think>")]
    assert splitter.finish() == []
    plain = ThinkTagSplitter()
    assert plain.feed("Hello") == [Piece("content", "Hello")]


def streamed(text: str, cuts: list[int], starts_in_reasoning: bool) -> ThinkSplit:
    splitter = ThinkTagSplitter(starts_in_reasoning=starts_in_reasoning)
    assembled = assemble(fed_in_pieces(splitter, text, cuts))
    assert not assembled.tool_calls
    return ThinkSplit(assembled.reasoning, assembled.content, splitter.found, splitter.unclosed)


FRAGMENTS = ["<think>", "</think>", "<thought>", "</thought>", "<", "</", "<th", " ", "\n", "x"]
texts = st.one_of(
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=12).map("".join),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(text=texts, raw=st.lists(st.integers(min_value=0), max_size=8), implicit=st.booleans())
def test_any_chunking_equals_the_whole_split(text: str, raw: list[int], implicit: bool) -> None:
    cuts = sorted({point % (len(text) + 1) for point in raw})
    assert streamed(text, cuts, implicit) == split_think_tags(text, starts_in_reasoning=implicit)


@settings(max_examples=200, deadline=None)
@given(text=texts, end=st.integers(min_value=0), implicit=st.booleans())
def test_any_truncation_splits(text: str, end: int, implicit: bool) -> None:
    cut = text[: end % (len(text) + 1)]
    split = split_think_tags(cut, starts_in_reasoning=implicit)
    assert len(split.reasoning) + len(split.content) <= len(cut)
    assert split.unclosed <= split.found


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_text_without_a_leading_tag_passes_through(text: str) -> None:
    assume(not text.lstrip().startswith("<"))
    assert split_think_tags(text) == ThinkSplit("", text, found=False, unclosed=False)
