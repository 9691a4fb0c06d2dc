"""Which text the content splitter holds back, and what it moves out of `content`."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.providers.content import ContentSplitter
from router.reasoning.pieces import Piece, assemble


def split_all(field: str | None, parts: list[str]) -> tuple[list[list[Piece]], list[Piece]]:
    splitter = ContentSplitter(field)
    fed = [splitter.feed(part) for part in parts]
    return fed, splitter.finish()


def test_plain_text_passes_through_untouched_after_the_first_characters() -> None:
    fed, rest = split_all(None, ["The", " answer", " <think>is</think>", " 4."])
    assert fed == [
        [Piece("content", "The")],
        [Piece("content", " answer")],
        [Piece("content", " <think>is</think>")],
        [Piece("content", " 4.")],
    ]
    assert rest == []


@pytest.mark.parametrize("start", ["<", "<th", "<|chan", "ana", "  \n"])
def test_a_possible_marker_is_held_until_it_is_decided(start: str) -> None:
    fed, rest = split_all(None, [start])
    assert fed == [[]]
    assert rest == [Piece("content", start)]


def test_sniffed_think_tags_and_harmony() -> None:
    fed, rest = split_all(None, ["<thi", "nk>why</think>", "Four."])
    assert assemble([p for part in fed for p in part] + rest).reasoning == "why"
    fed, rest = split_all(None, ["<|channel|>analysis<|message|>why<|end|>", "<|start|>assistant"])
    fed2 = [*fed, []]
    pieces = [p for part in fed2 for p in part] + rest
    assert assemble(pieces).reasoning == "why"


def test_a_leaked_tool_call_or_final_header_on_any_model_is_recovered() -> None:
    """A host that parsed the analysis out (vLLM's `reasoning`) may still leave a tool call or
    the final header in `content`, tokens stripped or half kept."""
    fed, rest = split_all(None, ["commentary to=functions.", 'get_weather json{"city":"Paris"}'])
    pieces = assemble([p for part in fed for p in part] + rest)
    assert pieces.content == "" and pieces.tool_calls[0].name == "get_weather"
    assert pieces.tool_calls[0].arguments == '{"city":"Paris"}'
    fed, rest = split_all(None, ["assistantfin", "alParis."])
    assert assemble([p for part in fed for p in part] + rest).content == "Paris."
    fed, rest = split_all(None, ["commentary", " is welcome."])
    assert fed == [[], [Piece("content", "commentary is welcome.")]] and rest == []


def test_declared_harmony_recovers_stripped_analysis_cut_off() -> None:
    fed, rest = split_all("harmony", ["analysisThe user wants"])
    pieces = [p for part in fed for p in part] + rest
    assert assemble(pieces).reasoning == "The user wants"


texts = st.sampled_from(
    [
        "<think>a\nb</think>\n\nAnswer.",
        "<thought>**Plan**</thought>Answer.",
        "<|channel|>analysis<|message|>r<|end|><|start|>assistant<|channel|>final<|message|>A",
        "analysisTHINKINGassistantfinalANSWER",
        'commentary to=functions.f json{"a": 1}',
        "assistantfinalANSWER",
        "Plain answer <think> mentions tags.",
        "  leading spaces",
    ]
)


@given(text=texts, cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=6))
def test_any_split_equals_the_whole(text: str, cuts: list[int]) -> None:
    edges = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    parts = [text[a:b] for a, b in pairwise(edges)]
    fed, rest = split_all(None, parts)
    whole, whole_rest = split_all(None, [text])
    streamed = assemble([p for part in fed for p in part] + rest)
    assert streamed == assemble([p for part in whole for p in part] + whole_rest)


def test_think_opened_starts_inside_the_block() -> None:
    """The template opened `<think>` in the prompt: text up to the first `</think>` is
    reasoning, a leading `<think>` is still the opening tag, a later one is content."""
    from router.providers.content import THINK_OPENED

    fed, rest = split_all(THINK_OPENED, ["Count the", " days.</th", "ink>\n\nFive.", " <think>"])
    assert assemble([*(p for ps in fed for p in ps), *rest]) == assemble(
        [Piece("reasoning", "Count the days."), Piece("content", "Five. <think>")]
    )
    assert fed[0] == [Piece("reasoning", "Count the")]  # streamed as it comes, not held
    fed, rest = split_all(THINK_OPENED, ["<think>why</think>", "Four."])
    pieces = [*(p for ps in fed for p in ps), *rest]
    assert assemble(pieces) == assemble([Piece("reasoning", "why"), Piece("content", "Four.")])
