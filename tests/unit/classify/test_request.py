from typing import Any

import pytest

from router.classify.request import TEXT_HEAD, TEXT_TAIL, cut, text_view, view

IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}


def test_last_user_message_is_the_text_and_the_system_prompt_is_kept_apart() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "an answer"},
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "second question"},
        ]
    }
    request = view(body)
    assert request.text == "second question"
    assert request.system == "Be brief.\nAnswer in French."
    assert request.user_turns == 2
    assert request.messages == 5
    assert request.context_chars == sum(len(str(m["content"])) for m in body["messages"])


def test_content_parts_give_text_images_and_files() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    IMAGE,
                    {"type": "input_audio", "input_audio": {"data": "..."}},
                    "loose string part",
                    42,
                ],
            }
        ]
    }
    request = view(body)
    assert request.text == "What is this?\nloose string part"
    assert (request.images, request.files) == (1, 1)


def test_tools_tool_results_and_response_format() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": []},
            {"role": "tool", "content": "sunny"},
        ],
        "tools": [{"type": "function"}, {"type": "function"}],
        "functions": [{"name": "legacy"}],
        "response_format": {"type": "json_schema", "json_schema": {}},
    }
    request = view(body)
    assert request.text == "weather?"
    assert (request.tools, request.tool_results, request.json_output) == (3, 1, 1.0)
    assert view({"messages": [], "response_format": {"type": "json_object"}}).json_output == 0.5


def test_without_user_message_the_last_non_system_text_is_used() -> None:
    body = {"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}]}
    assert view(body).text == "a"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({}, ""),
        ({"messages": None}, ""),
        ({"messages": "hello"}, ""),
        ({"messages": []}, ""),
        ({"messages": [None, 3, "x", {"role": "user"}]}, ""),
        ({"messages": [{"role": "user", "content": None}]}, ""),
        ({"messages": [{"role": "user", "content": [IMAGE]}]}, ""),
        ({"messages": [{"role": "user", "content": {"unexpected": "dict"}}]}, ""),
        ({"messages": [{"role": "user", "content": b"bytes"}]}, ""),
        ({"messages": [{"content": "no role"}], "tools": "x", "response_format": 5}, "no role"),
    ],
)
def test_odd_bodies_give_an_empty_or_partial_view(body: dict[str, Any], text: str) -> None:
    request = view(body)
    assert request.text == text
    assert request.text_chars == len(text)
    assert request.tools == 0


def test_non_mapping_body_is_treated_as_empty() -> None:
    assert view([1, 2]).messages == 0  # type: ignore[arg-type]


def test_long_text_is_cut_to_head_and_tail_but_its_length_is_kept() -> None:
    text = "a" * 10_000 + "THE END"
    request = text_view(text)
    assert request.text_chars == len(text)
    assert len(request.text) == TEXT_HEAD + TEXT_TAIL + 1
    assert request.text.endswith("THE END")
    assert cut("short", 3, 3) == "short"
    assert cut("abcdefgh", 2, 0) == "ab"
