"""Legacy completions: what a prompt makes the upstream generate and bill, for the estimate."""

from __future__ import annotations

from typing import Any

import pytest

from router.api.completions import prompt_messages, prompt_shape


@pytest.mark.parametrize(
    ("body", "shape"),
    [
        ({"prompt": "Once upon a time"}, (1, 0)),
        ({"prompt": "Once upon a time", "n": 3}, (3, 0)),
        ({"prompt": "Once upon a time", "n": 2, "best_of": 5}, (5, 0)),  # best_of are all billed
        ({"prompt": "Once upon a time", "n": 4, "best_of": 1}, (4, 0)),
        ({"prompt": ["a", "b", "c"]}, (3, 0)),
        ({"prompt": ["a", "b", "c"], "n": 2}, (6, 0)),
        ({"prompt": [1212, 318, 257]}, (1, 3)),  # one prompt of token ids
        ({"prompt": [[1212, 318], [257, 1332, 13]], "n": 2}, (4, 5)),
        ({"prompt": "x", "n": True, "best_of": "many"}, (1, 0)),  # odd values count as one
    ],
)
def test_answers_billed_and_prompt_tokens_given_as_ids(
    body: dict[str, Any], shape: tuple[int, int]
) -> None:
    assert prompt_shape(body) == shape


def test_only_text_prompts_become_messages() -> None:
    assert prompt_messages(["a", "b"]) == [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
    ]
    assert prompt_messages([[1, 2, 3]]) == []  # counted by prompt_shape instead
