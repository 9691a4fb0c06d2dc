"""Golden fixtures for the Responses <-> chat translation, in both directions, and streaming.

Each folder of tests/fixtures/responses/ holds a Responses request (`request.json`), the chat
request it must become (`chat_request.json`), a chat completion (`chat_response.json`) and the
`response` object it must become (`response.json`), the same answer as chat chunks
(`chat_stream.jsonl`) and the Responses event types they must become (`events.txt`). The events
are also fed to the openai SDK's own stream accumulator, which checks their order; and the
streamed `response` must equal the JSON one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai import omit
from openai._models import construct_type
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent

from router.responses.events import ResponseEvents
from router.responses.reply import to_response
from router.responses.request import to_chat

ROOT = Path(__file__).parents[2] / "fixtures" / "responses"
CASES = sorted(p.name for p in ROOT.iterdir() if p.is_dir())
RESPONSE_ID = "resp_fixture"
CREATED = 1_750_000_000


def load(case: str, name: str) -> Any:
    return json.loads((ROOT / case / name).read_text(encoding="utf-8"))


def stream_events(case: str) -> list[dict[str, Any]]:
    request = load(case, "request.json")
    state = ResponseEvents(request, RESPONSE_ID, summary=to_chat(request).summary, created=CREATED)
    lines = (ROOT / case / "chat_stream.jsonl").read_text(encoding="utf-8").splitlines()
    events = [event for line in lines for event in state.feed(json.loads(line))]
    return events + state.finish()


def test_there_are_cases() -> None:
    assert len(CASES) >= 6


@pytest.mark.parametrize("case", CASES)
def test_request_becomes_chat(case: str) -> None:
    assert to_chat(load(case, "request.json")).body == load(case, "chat_request.json")


@pytest.mark.parametrize("case", CASES)
def test_chat_answer_becomes_response(case: str) -> None:
    request = load(case, "request.json")
    summary = to_chat(request).summary
    got = to_response(
        load(case, "chat_response.json"), request, RESPONSE_ID, summary=summary, created=CREATED
    )
    assert got == load(case, "response.json")


@pytest.mark.parametrize("case", CASES)
def test_chat_stream_becomes_events(case: str) -> None:
    events = stream_events(case)
    expected = (ROOT / case / "events.txt").read_text(encoding="utf-8").split()
    assert [e["type"] for e in events] == expected
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


@pytest.mark.parametrize("case", CASES)
def test_streaming_equals_non_streaming(case: str) -> None:
    final = stream_events(case)[-1]["response"]
    assert final == load(case, "response.json")


@pytest.mark.parametrize("case", CASES)
def test_the_sdk_accumulates_the_events(case: str) -> None:
    """The SDK's `responses.stream` state machine accepts every event, in order."""
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=[], text_format=omit)
    for event in stream_events(case):
        state.handle_event(construct_type(type_=ResponseStreamEvent, value=event))  # type: ignore[arg-type]
    final = state._completed_response
    expected = load(case, "response.json")
    if expected["status"] == "incomplete":
        assert final is None  # an incomplete response ends with response.incomplete
        return
    assert final is not None
    assert final.id == RESPONSE_ID
    assert final.output_text == "".join(
        part["text"]
        for item in expected["output"]
        if item["type"] == "message"
        for part in item["content"]
    )
