from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from router.reasoning.harmony_repair import HarmonySplit, HarmonyStreamRepair, repair_harmony
from router.reasoning.pieces import Piece, ToolCallText, assemble
from tests.unit.reasoning.feeding import fed_in_pieces

FIXTURES = Path(__file__).parent / "fixtures" / "harmony"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def expected_split(expected: dict[str, Any]) -> HarmonySplit:
    return HarmonySplit(
        reasoning=expected["reasoning"],
        content=expected["content"],
        tool_calls=tuple(ToolCallText(**call) for call in expected["tool_calls"]),
        final_missing=expected["final_missing"],
        repaired=expected["repaired"],
    )


def streamed(text: str, cuts: list[int], *, known: bool = False) -> HarmonySplit:
    repair = HarmonyStreamRepair(known_harmony=known)
    assembled = assemble(fed_in_pieces(repair, text, cuts))
    return HarmonySplit(
        reasoning=assembled.reasoning,
        content=assembled.content,
        tool_calls=assembled.tool_calls,
        final_missing=repair.final_missing,
        repaired=repair.repaired,
    )


FIXTURE_FILES = sorted(FIXTURES.glob("*.json"))


def test_fixtures_are_present() -> None:
    assert len(FIXTURE_FILES) >= 20


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda path: path.stem)
def test_fixture(path: Path) -> None:
    case = load(path)
    text, known = case["text"], case["known_harmony"]
    expected = expected_split(case["expected"])
    assert repair_harmony(text, known_harmony=known) == expected
    one_char_at_a_time = list(range(1, len(text)))
    assert streamed(text, one_char_at_a_time, known=known) == expected
    for end in range(len(text)):
        repair_harmony(text[:end], known_harmony=known)


# -- holding back only what may still be a marker -------------------------------------------------


def test_plain_text_streams_through_at_once() -> None:
    repair = HarmonyStreamRepair()
    assert repair.feed("The answer ") == [Piece("content", "The answer ")]
    assert repair.feed("is 4.") == [Piece("content", "is 4.")]
    assert repair.finish() == []
    assert not repair.repaired


def test_a_partial_token_waits_for_the_next_delta() -> None:
    repair = HarmonyStreamRepair()
    assert repair.feed("Hello <|") == [Piece("content", "Hello ")]
    assert repair.feed("end|>") == []
    assert repair.repaired
    assert repair.finish() == []
    other = HarmonyStreamRepair()
    assert other.feed("x <|") == [Piece("content", "x ")]
    assert other.feed("b") == [Piece("content", "<|b")]


def test_channel_text_streams_as_soon_as_the_header_is_read() -> None:
    repair = HarmonyStreamRepair()
    assert repair.feed("<|channel|>analysis<|mess") == []
    assert repair.feed("age|>User asks") == [Piece("reasoning", "User asks")]
    assert repair.feed(" 2+2.<|end|><|start|>assistant<|channel|>final<|message|>4") == [
        Piece("reasoning", " 2+2."),
        Piece("content", "4"),
    ]
    assert repair.finish() == []
    assert not repair.final_missing


def test_tool_call_is_announced_then_streamed() -> None:
    repair = HarmonyStreamRepair()
    head = "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
    assert repair.feed(head + '{"city"') == [Piece("tool_call", '{"city"', 0, "get_weather")]
    assert repair.feed(': "Paris"}<|call|>') == [Piece("tool_call", ': "Paris"}', 0, "get_weather")]
    empty = HarmonyStreamRepair()
    assert empty.feed(head) == [Piece("tool_call", "", 0, "get_weather")]


def test_stripped_form_from_a_known_upstream_streams_at_once() -> None:
    repair = HarmonyStreamRepair(known_harmony=True)
    assert repair.feed("analysisThe user") == [Piece("reasoning", "The user")]
    assert repair.feed(" asks.assist") == [Piece("reasoning", " asks.")]
    assert repair.feed("antfinal4") == [Piece("content", "4")]


def test_stripped_form_from_an_unknown_upstream_waits_for_its_anchor() -> None:
    repair = HarmonyStreamRepair()
    assert repair.feed("analysisThe user") == []
    assert repair.feed(" asks.assistantfinal4") == [
        Piece("reasoning", "The user asks."),
        Piece("content", "4"),
    ]
    assert repair.finish() == []


def test_final_missing_is_known_at_the_end() -> None:
    repair = HarmonyStreamRepair()
    repair.feed("<|channel|>analysis<|message|>Thinking...")
    repair.finish()
    assert repair.final_missing


# -- properties -----------------------------------------------------------------------------------

FRAGMENTS = [
    "<|start|>",
    "<|end|>",
    "<|message|>",
    "<|channel|>",
    "<|return|>",
    "<|call|>",
    "<|constrain|>",
    "<|endoftext|>",
    "<|",
    "|>",
    "<",
    "assistant",
    "analysis",
    "commentary",
    "final",
    "assistantfinal",
    "assistantanalysis",
    "assistantcommentary",
    " to=functions.get_weather",
    " to=browser.search",
    " json",
    "json",
    '{"a": 1}',
    "The",
    " ",
    "\n",
    "to=",
    "é",
    "long words " * 12,
]
harmonyish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=14).map(
    "".join
)
texts = st.one_of(harmonyish, st.text(max_size=60))


def cut_points(text: str, raw: list[int]) -> list[int]:
    return sorted({point % (len(text) + 1) for point in raw})


@settings(max_examples=400, deadline=None)
@given(text=texts, raw=st.lists(st.integers(min_value=0), max_size=8), known=st.booleans())
def test_any_chunking_equals_the_whole_parse(text: str, raw: list[int], known: bool) -> None:
    assert streamed(text, cut_points(text, raw), known=known) == repair_harmony(
        text, known_harmony=known
    )


@settings(max_examples=200, deadline=None)
@given(text=texts, end=st.integers(min_value=0), known=st.booleans())
def test_any_truncation_parses(text: str, end: int, known: bool) -> None:
    cut = text[: end % (len(text) + 1)]
    split = repair_harmony(cut, known_harmony=known)
    assert split.final_missing <= split.repaired
    arguments = sum(len(call.arguments) for call in split.tool_calls)
    assert len(split.reasoning) + len(split.content) + arguments <= len(cut)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80))
def test_text_without_markup_passes_through(text: str) -> None:
    assume("<|" not in text and not text.lstrip().startswith("analysis"))
    split = repair_harmony(text)
    assert split == HarmonySplit("", text, (), final_missing=False, repaired=False)
