"""Parallel tool calls whose chat deltas interleave by index become Responses events whose
`.done` events carry each call's whole arguments, and whose deltas add up to them."""

from __future__ import annotations

from typing import Any

from openai import omit
from openai._models import construct_type
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent

from router.responses.events import ResponseEvents


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def call(index: int, arguments: str, name: str | None = None) -> dict[str, Any]:
    fn: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        fn["name"] = name
    head = {"id": f"call_{index}", "type": "function"} if name is not None else {}
    return {"tool_calls": [{"index": index, **head, "function": fn}]}


def test_interleaved_calls_keep_their_own_arguments() -> None:
    state = ResponseEvents({"model": "m", "input": "x"}, "resp_1", summary=False, created=1)
    chunks = [
        chunk({"role": "assistant"}),
        chunk(call(0, '{"a":', "f1")),
        chunk(call(1, "", "f2")),
        chunk(call(1, '{"b": 2}')),
        chunk(call(0, " 1}")),
        chunk({}, "tool_calls"),
    ]
    events = [e for c in chunks for e in state.feed(c)] + state.finish()
    done = {
        e["output_index"]: e["arguments"] for e in events if e["type"].endswith("arguments.done")
    }
    assert done == {0: '{"a": 1}', 1: '{"b": 2}'}
    deltas: dict[int, str] = {}
    for e in events:
        if e["type"] == "response.function_call_arguments.delta":
            deltas[e["output_index"]] = deltas.get(e["output_index"], "") + e["delta"]
    assert deltas == done
    final = events[-1]["response"]["output"]
    assert [item["arguments"] for item in final] == ['{"a": 1}', '{"b": 2}']
    sdk: ResponseStreamState[Any] = ResponseStreamState(input_tools=[], text_format=omit)
    for event in events:
        sdk.handle_event(construct_type(type_=ResponseStreamEvent, value=event))  # type: ignore[arg-type]
    assert [item.arguments for item in sdk._completed_response.output] == ['{"a": 1}', '{"b": 2}']  # type: ignore[union-attr]
