"""Input items: a request's `input` as listed items, and the endpoint's pages."""

from __future__ import annotations

import pytest

from router.errors import InvalidRequest
from router.responses.items import input_items, page

ITEMS = [{"id": f"msg_{n}", "type": "message"} for n in range(5)]


def ids(listed: dict[str, object]) -> list[str]:
    data = listed["data"]
    assert isinstance(data, list)
    return [item["id"] for item in data]


def test_a_string_input_is_one_user_message_and_every_item_gets_an_id() -> None:
    [item] = input_items({"input": "hi"}, "resp_abc")
    assert item == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "hi"}],
        "status": "completed",
        "id": "msg_abc_0",
    }
    given = [{"role": "system", "content": "x"}, {"type": "message", "role": "user", "id": "m"}]
    listed = input_items({"input": given}, "resp_abc")
    assert [i["id"] for i in listed] == ["msg_abc_0", "m"]
    assert listed[0]["type"] == "message"
    assert input_items({"input": 3}, "resp_abc") == []


def test_pages_are_newest_first_by_default_and_follow_after() -> None:
    listed = page(ITEMS, {})
    assert ids(listed) == ["msg_4", "msg_3", "msg_2", "msg_1", "msg_0"]
    assert listed["first_id"] == "msg_4" and listed["last_id"] == "msg_0"
    assert listed["has_more"] is False and listed["object"] == "list"
    first = page(ITEMS, {"order": "asc", "limit": "2"})
    assert ids(first) == ["msg_0", "msg_1"] and first["has_more"] is True
    second = page(ITEMS, {"order": "asc", "limit": "2", "after": "msg_1"})
    assert ids(second) == ["msg_2", "msg_3"] and second["has_more"] is True
    last = page(ITEMS, {"order": "asc", "limit": "2", "after": "msg_3"})
    assert ids(last) == ["msg_4"] and last["has_more"] is False
    assert ids(page(ITEMS, {"after": "msg_1"})) == ["msg_0"]
    empty = page([], {})
    assert empty["data"] == [] and empty["first_id"] is None and empty["has_more"] is False


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"order": "newest"}, "order"),
        ({"after": "msg_9"}, "after"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(query: dict[str, str], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        page(ITEMS, query)
    assert caught.value.param == param
    assert param in str(caught.value)


def test_shorthand_messages_are_listed_in_full() -> None:
    given = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"type": "function_call_output", "call_id": "c", "output": "42"},
    ]
    user, assistant, output = input_items({"input": given}, "resp_abc")
    assert user["content"] == [{"type": "input_text", "text": "hi"}]
    assert user["status"] == "completed" and user["type"] == "message"
    part = {"type": "output_text", "text": "hello", "annotations": []}
    assert assistant["content"] == [part]
    assert "status" not in output and output["output"] == "42"
