from decimal import Decimal
from pathlib import Path

import pytest

from router.classify import public_data
from router.classify.public_data import STRONG, WEAK, last_block, load


def test_mmlu_drops_contaminated_rows_and_sorts_by_id(data_dir: Path) -> None:
    items = load("routellm-mmlu", data_dir)
    assert [item.id for item in items] == ["mmlu-college_mathematics-0", "mmlu-marketing-1"]
    assert items[0].group == "college_mathematics"
    assert items[0].outcomes[STRONG].correct == 1.0
    assert items[0].outcomes[WEAK].correct == 0.0


def test_gsm8k_and_mtbench(data_dir: Path) -> None:
    assert [item.id for item in load("routellm-gsm8k", data_dir)] == ["gsm8k-1", "gsm8k-2"]
    (item,) = load("routellm-mtbench", data_dir)
    assert item.id == "mtbench-81"
    assert item.turns == ("Write a blog post.", "Shorter.")
    assert item.question == "Write a blog post."
    assert item.outcomes[STRONG].score == 8.0
    assert set(item.outcomes) == {STRONG, WEAK}


def test_routerbench_question_is_the_last_few_shot_block(data_dir: Path) -> None:
    arc, mbpp = load("routerbench", data_dir)
    assert arc.question == "Which gas do plants absorb?\nA) O2\nB) CO2\nAnswer:"
    assert arc.outcomes["m2"].cost_usd == Decimal("0.002")
    assert arc.split == "test"
    assert mbpp.turns == ("Write a python function to add two numbers.",)
    assert mbpp.outcomes["m1"].correct is None


def test_token_economy_keeps_report_models_and_study_prompts(data_dir: Path) -> None:
    items = {item.id: item for item in load("token-economy", data_dir)}
    assert set(items) == {"aime", "capital"}
    assert set(items["aime"].outcomes) == {"a"}
    assert items["capital"].outcomes["b"].completion_tokens == 900.0
    prices = public_data.load_token_economy_prices(data_dir)
    assert set(prices) == {"a", "b"}
    assert prices["a"].completion == Decimal("4.40")


def test_unknown_benchmark_is_refused(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown benchmark"):
        load("hellaswag", data_dir)


def test_last_block_of_plain_text_is_the_text() -> None:
    assert last_block("just one question") == "just one question"
    assert last_block("") == ""
