"""What a chat-completions upstream cannot take is a 400 naming the item; lenient mode skips it."""

from __future__ import annotations

from typing import Any

import pytest

from router.errors import InvalidRequest, UnsupportedParameter
from router.responses.events import ResponseEvents
from router.responses.history import output_as_message
from router.responses.request import to_chat

CALL = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
OUTPUT = {"type": "function_call_output", "call_id": "call_1", "output": "ok"}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "input": "Hi", **fields}


@pytest.mark.parametrize(
    ("fields", "param", "words"),
    [
        (
            {"input": ["Hi", {"type": "web_search_call", "id": "ws"}]},
            "input[0]",
            "must be an object",
        ),
        ({"input": [{"type": "web_search_call", "id": "ws"}]}, "input[0]", "'web_search_call'"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]", "'item_reference'"),
        ({"input": [{"type": "mystery"}]}, "input[0]", "'mystery'"),
        ({"input": [{"role": "user", "content": "a"}, OUTPUT]}, "input[1]", "no function_call"),
        ({"input": [OUTPUT, CALL]}, "input[0]", "call_1"),
        ({"input": [{"role": "robot", "content": "a"}]}, "input[0].role", "robot"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_audio"}]}]},
            "input[0].content[0]",
            "'input_audio'",
        ),
        ({"tools": [{"type": "web_search"}]}, "tools[0]", "built-in tool of type 'web_search'"),
        (
            {"tools": [{"type": "function", "name": "f"}, {"type": "file_search"}]},
            "tools[1]",
            "'file_search'",
        ),
        ({"tool_choice": {"type": "web_search_preview"}}, "tool_choice", "web_search_preview"),
        ({"background": True}, "background", "background"),
        ({"conversation": "conv_1"}, "conversation", "conversations"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt", "prompt templates"),
        ({"text": {"format": {"type": "yaml"}}}, "text.format", "json_schema"),
        ({"reasoning": "high"}, "reasoning", "object"),
    ],
)
def test_refused_with_the_item_named(fields: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_chat(body(**fields))
    assert caught.value.status == 400
    assert caught.value.param == param
    assert words in caught.value.message


def test_untranslatable_items_are_unsupported_parameters() -> None:
    with pytest.raises(UnsupportedParameter):
        to_chat(body(tools=[{"type": "computer_use_preview"}]))


def test_lenient_view_skips_what_it_cannot_translate() -> None:
    view = to_chat(
        body(
            input=[
                {"type": "web_search_call", "id": "ws"},
                OUTPUT,
                {"role": "user", "content": "Q"},
            ],
            tools=[{"type": "web_search"}, {"type": "function", "name": "f"}],
            tool_choice={"type": "web_search_preview"},
            background=True,
        ),
        lenient=True,
    )
    assert view.body["tools"] == [{"type": "function", "function": {"name": "f"}}]
    audio = {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}
    spoken = to_chat(
        body(
            input=[{"role": "user", "content": [{"type": "input_text", "text": "A"}, audio]}],
            text={"format": {"type": "grammar"}},
        ),
        lenient=True,
    )
    assert spoken.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "A"}]}]
    assert "response_format" not in spoken.body
    assert "tool_choice" not in view.body
    assert view.body["messages"][-1] == {"role": "user", "content": "Q"}


def test_an_output_may_answer_a_call_from_the_stored_history() -> None:
    history = [{"role": "user", "content": "Hi"}, output_as_message([CALL])]
    view = to_chat(body(input=[OUTPUT]), history=history)
    assert view.body["messages"] == [
        *history,
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
    ]
    assert view.turn == [{"role": "tool", "tool_call_id": "call_1", "content": "ok"}]


def test_instructions_come_before_the_history() -> None:
    history = [{"role": "user", "content": "A"}, {"role": "assistant", "content": "B"}]
    view = to_chat(body(instructions="Be brief."), history=history)
    assert [m["content"] for m in view.body["messages"]] == ["Be brief.", "A", "B", "Hi"]


def test_summary_and_effort() -> None:
    view = to_chat(body(reasoning={"effort": "minimal", "summary": "detailed"}))
    assert view.body["reasoning_effort"] == "minimal"
    assert view.summary
    assert not to_chat(body(reasoning={"effort": "low"})).summary


def test_interleaved_tool_call_arguments_are_not_lost() -> None:
    def chunk(call: dict[str, Any]) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}

    state = ResponseEvents({"model": "m"}, "resp_x", summary=False, created=0)
    fn = {"name": "f", "arguments": ""}
    for call in (
        {"index": 0, "id": "a", "function": fn},
        {"index": 0, "function": {"arguments": '{"x":'}},
        {"index": 1, "id": "b", "function": fn},
        {"index": 0, "function": {"arguments": "1}"}},
        {"index": 1, "function": {"arguments": "{}"}},
    ):
        state.feed(chunk(call))
    final = state.finish()[-1]["response"]
    assert [item["arguments"] for item in final["output"]] == ['{"x":1}', "{}"]


CALL = {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"}
THOUGHT = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "A summary."}],
    "content": [{"type": "reasoning_text", "text": "Need the weather for Paris."}],
}


def test_a_reasoning_item_goes_with_the_tool_call_that_follows_it() -> None:
    """A tool loop goes on from its reasoning (Harmony keeps the analysis until the final
    answer, DeepSeek requires it back): the adapters send it as their hosts want."""
    output = {"type": "function_call_output", "call_id": "call_1", "output": "20 C"}
    ask = {"role": "user", "content": "Weather in Paris?"}
    messages = to_chat({"model": "m", "input": [ask, THOUGHT, CALL, output]}).body["messages"]
    assert messages[1]["reasoning_content"] == "Need the weather for Paris."
    assert messages[1]["tool_calls"][0]["id"] == "call_1"
    summary_only = {**THOUGHT, "content": []}
    messages = to_chat({"model": "m", "input": [ask, summary_only, CALL, output]}).body["messages"]
    assert messages[1]["reasoning_content"] == "A summary."
    dangling = to_chat({"model": "m", "input": [THOUGHT, ask]}).body["messages"]
    assert dangling == [ask]


def test_a_kept_turn_keeps_its_reasoning_only_when_it_called_tools() -> None:
    called = output_as_message([THOUGHT, CALL])
    assert called["reasoning_content"] == "Need the weather for Paris."
    answered = output_as_message(
        [THOUGHT, {"type": "message", "content": [{"type": "output_text", "text": "Sunny."}]}]
    )
    assert answered == {"role": "assistant", "content": "Sunny."}
