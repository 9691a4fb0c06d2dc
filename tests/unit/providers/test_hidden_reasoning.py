"""A client that hides reasoning gets none of its text, in any field (README "Reasoning")."""

from __future__ import annotations

from router.providers.openai_reply import hide_reasoning

SECRET = "Let me think about the user's secret."


def test_reasoning_details_keep_their_signature_but_lose_their_text() -> None:
    body = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello.",
                    "reasoning_content": SECRET,
                    "reasoning_details": [
                        {"type": "reasoning.text", "text": SECRET, "signature": "sig", "index": 0},
                        {"type": "reasoning.summary", "summary": SECRET},
                        {"type": "reasoning.encrypted", "data": "opaque"},
                    ],
                },
            }
        ]
    }
    shown = hide_reasoning(body)
    assert SECRET not in repr(shown)
    message = shown["choices"][0]["message"]
    assert message["content"] == "Hello." and "reasoning_content" not in message
    assert message["reasoning_details"] == [
        {"type": "reasoning.text", "text": "", "signature": "sig", "index": 0},
        {"type": "reasoning.summary", "summary": ""},
        {"type": "reasoning.encrypted", "data": "opaque"},
    ]


def test_a_stream_delta_with_details_alone_is_scrubbed_too() -> None:
    chunk = {"choices": [{"index": 0, "delta": {"reasoning_details": [{"text": SECRET}]}}]}
    assert SECRET not in repr(hide_reasoning(chunk))
    untouched = {"choices": [{"index": 0, "delta": {"reasoning_details": [{"data": "x"}]}}]}
    assert hide_reasoning(untouched) is untouched
