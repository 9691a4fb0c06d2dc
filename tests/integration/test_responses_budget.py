"""Budgets hold on /v1/responses and /v1/completions exactly as on chat: a hard budget lowers the
output limit to what is left (`max_output_tokens` on a native upstream), then refuses; the
counters equal the ledger."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import openai
import pytest

from router.localserver import ServerThread, serving
from tests.integration.test_budgets import (
    client,
    config,
    counted,
    ledger,
    on_loop,
    proxy_app,
    store_of,
)

LIMIT = D("0.0005")


@pytest.fixture
def budgeted(sim: ServerThread, tmp_path: Path) -> Iterator[ServerThread]:
    limits = "budgets:\n  limits: [{scope: 'team:research', limit_usd: '0.0005', window: day}]"
    text = config(sim, limits).replace(
        "sim-small: {provider: sim}", "sim-small: {provider: sim, apis: [chat, completions]}"
    )
    text = text.replace(
        "sim-large-reasoner: {provider: sim,",
        "sim-large-reasoner: {provider: sim, apis: [chat, responses],",
    )
    with serving(proxy_app(tmp_path / "home", text)) as proxy:
        yield proxy


def responses_call(model: str) -> Callable[[openai.OpenAI, int], tuple[Any, int]]:
    def call(sdk: openai.OpenAI, i: int) -> tuple[Any, int]:
        raw = sdk.responses.with_raw_response.create(
            model=model,
            input=f"Name three rivers of Europe ({i}).",
            max_output_tokens=800,
            extra_body={"sim": {"completion_tokens": 120}},
        )
        answer = raw.parse()
        return raw, answer.usage.output_tokens

    return call


def completions_call(sdk: openai.OpenAI, i: int) -> tuple[Any, int]:
    raw = sdk.completions.with_raw_response.create(
        model="sim-small",
        prompt=f"Name three rivers of Europe ({i}).",
        max_tokens=800,
        extra_body={"sim": {"completion_tokens": 120}},
    )
    answer = raw.parse()
    return raw, answer.usage.completion_tokens


@pytest.mark.parametrize(
    ("endpoint", "call"),
    [
        ("responses", responses_call("sim-large-reasoner")),  # native
        ("responses", responses_call("sim-small")),  # translated (chat and completions only)
        ("completions", completions_call),
    ],
    ids=["responses-native", "responses-translated", "completions"],
)
def test_hard_budget_clamps_then_refuses(
    budgeted: ServerThread, endpoint: str, call: Callable[[openai.OpenAI, int], tuple[Any, int]]
) -> None:
    served, clamps = 0, []
    with client(budgeted, "research") as sdk:
        for i in range(200):
            try:
                raw, output_tokens = call(sdk, i)
            except openai.RateLimitError as exc:
                assert isinstance(exc.body, dict) and exc.body["code"] == "budget_exceeded"
                break
            served += 1
            note = raw.headers.get("x-tokenwise-budget")
            if note is not None:
                field = "max_output_tokens" if endpoint == "responses" else "max_tokens"
                assert note.startswith(f"clamped={field}:"), note  # the client's own field
                limit = int(note.rsplit(":", 1)[1])
                clamps.append(limit)
                assert output_tokens <= limit
        else:
            pytest.fail("the budget never ran out")
    assert served > 0 and clamps, "the budget ran out without ever lowering the output limit"
    records = ledger(budgeted, "research", served)
    assert len(records) == served
    assert {r.endpoint for r in records} == {endpoint}
    assert sum((r.cost_total for r in records), D(0)) <= LIMIT
    view = on_loop(budgeted, store_of(budgeted).spend("team:research", time.time()))
    assert view.in_flight == 0 and view.settled == counted(records)


def test_a_response_id_belongs_to_its_team(budgeted: ServerThread) -> None:
    with client(budgeted, "research") as research:
        made = research.responses.create(model="sim-large-reasoner", input="Hello.")
        assert research.responses.retrieve(made.id).id == made.id
    with client(budgeted, "ops") as ops:
        with pytest.raises(openai.NotFoundError):
            ops.responses.retrieve(made.id)
        with pytest.raises(openai.NotFoundError):
            ops.responses.delete(made.id)
        with pytest.raises(openai.BadRequestError) as caught:
            ops.responses.create(
                model="sim-large-reasoner", input="Hi", previous_response_id=made.id
            )
        assert caught.value.body["param"] == "previous_response_id"
    with client(budgeted, "research") as research:
        follow = research.responses.create(
            model="sim-large-reasoner", input="Again.", previous_response_id=made.id
        )
        assert follow.previous_response_id == made.id


@pytest.fixture
def rated(sim: ServerThread, tmp_path: Path) -> Iterator[ServerThread]:
    """Tokens per minute counted for team research: `x-ratelimit-remaining-tokens` shows what
    each request was estimated at (the same estimate a budget reserves)."""
    text = config(sim, "rate_limits:\n  teams: {research: {tpm: 100000000}}").replace(
        "sim-large-reasoner: {provider: sim,",
        "sim-large-reasoner: {provider: sim, apis: [chat, responses],",
    )
    with serving(proxy_app(tmp_path / "home", text)) as proxy:
        yield proxy


def test_a_native_continuation_reserves_for_the_conversation_upstream(
    rated: ServerThread,
) -> None:
    ask = {"model": "sim-large-reasoner", "input": "Name three rivers.", "max_output_tokens": 300}
    with client(rated, "research") as sdk:
        for _ in range(3):  # three requests inside one rate-limit minute (retried if not)
            minute = time.time() // 60
            first = sdk.responses.with_raw_response.create(**ask)
            made = first.parse()
            continued = sdk.responses.with_raw_response.create(**ask, previous_response_id=made.id)
            fresh = sdk.responses.with_raw_response.create(**ask)
            if time.time() // 60 == minute:
                break
        else:
            pytest.fail("no three requests fell inside one minute")
    left = [int(r.headers["x-ratelimit-remaining-tokens"]) for r in (first, continued, fresh)]
    continuation, fresh_request = left[0] - left[1], left[1] - left[2]
    assert made.usage is not None
    held = made.usage.input_tokens + made.usage.output_tokens
    assert held > 0
    assert continuation == fresh_request + held


def test_an_array_of_prompts_reserves_for_every_answer(budgeted: ServerThread) -> None:
    """Legacy completions with three prompts and `best_of` 2 make six answers, all billed: the
    reservation covers six, so a hard budget lowers `max_tokens` to what six can spend."""
    served, clamps = 0, []
    with client(budgeted, "research") as sdk:
        for i in range(200):
            try:
                raw = sdk.completions.with_raw_response.create(
                    model="sim-small",
                    prompt=[f"Name a river ({i}).", "Name a lake.", "Name a sea."],
                    best_of=2,
                    n=2,
                    max_tokens=800,
                    extra_body={"sim": {"completion_tokens": 120}},
                )
            except openai.RateLimitError as exc:
                assert isinstance(exc.body, dict) and exc.body["code"] == "budget_exceeded"
                break
            answer = raw.parse()
            served += 1
            assert len(answer.choices) == 6
            note = raw.headers.get("x-tokenwise-budget")
            if note is not None:
                clamps.append(int(note.rsplit(":", 1)[1]))
        else:
            pytest.fail("the budget never ran out")
    assert served > 0 and clamps
    records = ledger(budgeted, "research", served)
    assert sum((r.cost_total for r in records), D(0)) <= LIMIT
    view = on_loop(budgeted, store_of(budgeted).spend("team:research", time.time()))
    assert view.in_flight == 0 and view.settled == counted(records)


def test_legacy_completions_count_openais_default_output_and_take_zero(
    budgeted: ServerThread,
) -> None:
    """Without `max_tokens` the endpoint generates 16 tokens (OpenAI's default): that is what a
    hard budget reserves and caps at, not the chat default; `max_tokens: 0` (with `echo`, to
    score a prompt) is taken, as OpenAI takes it."""
    with client(budgeted, "research") as sdk:
        raw = sdk.completions.with_raw_response.create(model="sim-small", prompt="Once upon a time")
        assert raw.headers["x-tokenwise-budget"] == "capped=max_tokens:16"
        zero = sdk.completions.with_raw_response.create(
            model="sim-small", prompt="Score me", max_tokens=0, echo=True
        )
        assert zero.http_response.status_code == 200


def test_a_translated_response_shows_the_output_limit_a_budget_set(budgeted: ServerThread) -> None:
    """As a native upstream's answer does: the `response` echoes the limit the upstream got."""
    with client(budgeted, "research") as sdk:
        raw = sdk.responses.with_raw_response.create(
            model="sim-mini-reasoner", input="Name three rivers of Europe."
        )
        note = raw.headers["x-tokenwise-budget"]  # capped, or clamped to what is left
        assert note.split("=")[0] in ("capped", "clamped") and "max_output_tokens:" in note, note
        assert raw.parse().max_output_tokens == int(note.rsplit(":", 1)[1])
