"""`think_opened_by_template`: how a model whose template opens `<think>` is read."""

from __future__ import annotations

import dataclasses

import pytest

from router.config.load import ModelSpec
from router.providers.base import as_answered
from router.providers.content import THINK_OPENED
from router.providers.vllm import VLLMAdapter
from tests.unit.providers.catalog import catalog


def switch_model(opened: bool) -> ModelSpec:
    model = next(m for m in catalog().values() if m.reasoning and m.reasoning.can_disable)
    assert model.reasoning is not None
    reasoning = dataclasses.replace(
        model.reasoning, output_field="think_tags", think_opened_by_template=opened
    )
    return dataclasses.replace(model, reasoning=reasoning)


@pytest.mark.parametrize(
    ("opened", "effort", "output"),
    [
        (True, "high", THINK_OPENED),
        (True, None, THINK_OPENED),  # the model's own default: its template opens the block
        (True, "none", "think_tags"),  # thinking off: the answer starts outside a block
        (False, "high", "think_tags"),
        (False, "none", "think_tags"),
    ],
)
def test_the_answer_is_read_inside_the_block_unless_thinking_was_off(
    opened: bool, effort: str | None, output: str
) -> None:
    assert VLLMAdapter().output(as_answered(switch_model(opened), effort)) == output


def test_a_model_without_the_declaration_is_returned_as_it_is() -> None:
    model = switch_model(False)
    assert as_answered(model, "none") is model
