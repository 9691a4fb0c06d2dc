"""When reasoning or markup leaves `content`, its tokens leave `logprobs` too: a client never
sees reasoning through the token list."""

from __future__ import annotations

from typing import Any

from router.providers.openai_reply import ChatStream, parse_chat_response

THINK = ["<think>", "\n", "secret", " plan", "\n", "</think>", "\n\n", "The", " answer", "."]


def tokens(*texts: str) -> list[dict[str, Any]]:
    return [
        {"token": t, "logprob": -0.1, "bytes": list(t.encode()), "top_logprobs": []} for t in texts
    ]


def test_a_json_answer_keeps_the_logprobs_of_its_answer_only() -> None:
    payload = {
        "id": "c1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(THINK)},
                "logprobs": {"content": tokens(*THINK)},
                "finish_reason": "stop",
            }
        ],
    }
    out = parse_chat_response(payload, "think_tags", True)
    choice = out["choices"][0]
    kept = [t["token"] for t in choice["logprobs"]["content"]]
    assert "".join(kept) == choice["message"]["content"]
    assert "secret" not in repr(choice["logprobs"])


def test_a_stream_drops_the_logprobs_of_what_it_moved_or_held() -> None:
    stream = ChatStream("think_tags", True)
    seen: list[str] = []
    for n, text in enumerate(THINK):
        chunk = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": text},
                    "logprobs": {"content": tokens(text)},
                    "finish_reason": "stop" if n == len(THINK) - 1 else None,
                }
            ],
        }
        for out in stream.feed(chunk):
            for choice in out["choices"]:
                seen += [t["token"] for t in (choice.get("logprobs") or {}).get("content") or []]
    assert not {"<think>", "secret", " plan", "</think>"} & set(seen), seen
