"""What a request may cost before it is sent, priced from the shipped price table."""

from __future__ import annotations

from decimal import Decimal

import pytest

from router.budget.estimate import (
    OutputAsk,
    choices,
    estimate,
    expected_output,
    limit_field,
    margin_tokens,
    output_ask,
    with_output_limit,
)
from router.errors import InvalidRequest
from router.metering.pricing import ModelPrice, load_pricing

D = Decimal


@pytest.fixture(scope="module")
def small() -> ModelPrice:
    return load_pricing(None).lookup("sim-small", "sim")  # $0.10 in, $0.40 out per 1M


def test_estimate_prices_prompt_as_input_and_allowance_as_output(small: ModelPrice) -> None:
    est = estimate(small, prompt_tokens=1000, output_tokens=500, minimal_tokens=16)
    assert est.base == D("0.0001")  # 1000 x $0.10 / 1M
    assert est.per_output_token == D("0.0000004")
    assert est.amount == D("0.0001") + D("0.0002")
    assert est.minimum == D("0.0001") + 16 * D("0.0000004")
    assert est.tokens == 1500


def test_every_choice_may_produce_the_whole_allowance(small: ModelPrice) -> None:
    one = estimate(small, 100, 200, 16, n=1)
    three = estimate(small, 100, 200, 16, n=3)
    assert three.amount - three.base == 3 * (one.amount - one.base)
    assert three.tokens == 100 + 600


def test_covered_tokens_never_cost_more_than_granted(small: ModelPrice) -> None:
    est = estimate(small, 1000, 5000, 16)
    for granted in (est.minimum, D("0.0005"), est.amount - D("0.000001")):
        tokens = est.covered(granted)
        assert est.base + tokens * est.per_output_token <= granted
        assert est.base + (tokens + 1) * est.per_output_token > granted
    assert est.covered(est.amount) == 5000
    assert est.covered(est.minimum) >= 16


def test_a_minimal_answer_is_never_above_the_allowance(small: ModelPrice) -> None:
    est = estimate(small, 10, 4, minimal_tokens=16)
    assert est.minimum == est.amount


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, OutputAsk(None, None)),
        ({"max_tokens": 50}, OutputAsk("max_tokens", 50)),
        ({"max_completion_tokens": 70}, OutputAsk("max_completion_tokens", 70)),
        ({"max_tokens": 90, "max_completion_tokens": 70}, OutputAsk("max_completion_tokens", 70)),
        ({"max_tokens": None}, OutputAsk(None, None)),
    ],
)
def test_output_ask_reads_the_tighter_limit(body: dict[str, object], expected: OutputAsk) -> None:
    assert output_ask(body) == expected


@pytest.mark.parametrize("value", [-1, -3, 1.5, "100", True])
def test_a_bad_output_limit_is_a_400_naming_it(value: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        output_ask({"max_tokens": value})
    assert caught.value.param == "max_tokens"


def test_allowance_is_the_client_limit_or_the_prior_within_the_context() -> None:
    assert expected_output(OutputAsk("max_tokens", 300), 4096, 128_000, 100) == 300
    assert expected_output(OutputAsk(None, None), 4096, 128_000, 100) == 4096
    assert expected_output(OutputAsk("max_tokens", 10**9), 4096, 8000, 1000) == 7000
    assert expected_output(OutputAsk(None, None), 4096, 1000, 5000) == 1


def test_margin_rounds_up() -> None:
    assert margin_tokens(100, D("0.25")) == 125
    assert margin_tokens(3, D("0.25")) == 4
    assert margin_tokens(0, D("0.25")) == 0


def test_limit_field_keeps_the_clients_choice() -> None:
    assert limit_field(OutputAsk("max_tokens", 5), reasoning=True) == "max_tokens"
    assert limit_field(OutputAsk(None, None), reasoning=True) == "max_completion_tokens"
    assert limit_field(OutputAsk(None, None), reasoning=False) == "max_tokens"


def test_with_output_limit_lowers_every_limit_field() -> None:
    body = {"max_tokens": 900, "max_completion_tokens": 800, "model": "m"}
    out = with_output_limit(body, "max_completion_tokens", 100)
    assert out == {"max_tokens": 100, "max_completion_tokens": 100, "model": "m"}
    assert body["max_tokens"] == 900  # the caller's body is left alone
    assert with_output_limit({"max_tokens": 50}, "max_completion_tokens", 100)["max_tokens"] == 50


@pytest.mark.parametrize(
    ("n", "expected"), [(None, 1), (1, 1), (4, 4), (0, 1), ("2", 1), (True, 1)]
)
def test_choices(n: object, expected: int) -> None:
    assert choices({"n": n}) == expected
