"""Legacy completions and embeddings: what a request makes the upstream bill, for the estimate."""

from __future__ import annotations

from typing import Any

import pytest

from router.api.completions import prompt_messages, prompt_shape
from router.api.fields import token_ids


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


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("text", 0),
        (["a", "b"], 0),
        ([1, 2, 3], 3),
        ([[1, 2], [3, 4, 5]], 5),
        (["a", [1, 2]], 2),
        ([True, 1], 1),  # a bool is not a token id
    ],
)
def test_token_ids_are_counted_by_their_number(value: Any, ids: int) -> None:
    assert token_ids(value) == ids
