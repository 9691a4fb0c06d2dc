"""Streaming equals non-streaming: for every recorded JSON answer, the upstream's own stream of
it (cut at several sizes) translates into chunks that assemble into the translated body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.providers.golden import CREATED, Case, cases, read_json
from tests.unit.providers.upstream_streams import assemble, assembled_body, upstream_stream

JSON_CASES = [case for case in cases() if case.file("upstream_response.json").is_file()]
SIZES = (1, 3, 8, 10_000)


def _normalised(view: dict[str, Any]) -> dict[str, Any]:
    """Tool-call arguments compared as JSON (a stream carries the model's own spacing)."""
    calls = [{**call, "arguments": json.loads(call["arguments"])} for call in view["tool_calls"]]
    return {**view, "tool_calls": calls}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", JSON_CASES, ids=lambda case: case.name)
def test_stream_assembles_to_the_body(case: Case, size: int) -> None:
    body = read_json(case.file("upstream_response.json"))
    show = case.intent.show
    whole = case.adapter.parse_response(body, case.model, show, created=CREATED)
    translator = case.adapter.stream(case.model, show, created=CREATED)
    chunks = [out for event in upstream_stream(body, size) for out in translator.feed(event)]
    chunks += translator.finish()
    assert _normalised(assemble(chunks)) == _normalised(assembled_body(whole))
    assert all(chunk.get("object") == "chat.completion.chunk" for chunk in chunks)


def test_every_dialect_is_covered() -> None:
    assert {case.folder.parent.name for case in JSON_CASES} >= {
        "openai_compat",
        "openai",
        "anthropic",
        "harmony",
        "gemini",
    }
