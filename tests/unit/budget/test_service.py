"""`BudgetService.admit`: reserve, clamp, cap, refuse, settle, over a real memory store."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from router.auth import Principal
from router.budget.admission import Pressure
from router.budget.refusals import BudgetRefused
from router.budget.service import BudgetService
from router.config.load import ModelSpec
from router.errors import RateLimited
from router.store.base import BudgetRecord
from router.store.memory import MemoryStore
from tests.unit.budget.conftest import MakeSettings, StartService

D = Decimal
WHO = Principal("research", "k1")
MESSAGES = [{"role": "user", "content": "What is the capital of Australia?"}]


async def test_no_budget_and_no_limit_touch_nothing(
    make_settings: MakeSettings, start_service: StartService, memory: MemoryStore
) -> None:
    settings = make_settings("")
    service = await start_service(settings)
    model = settings.models["sim-small"]
    body = {"model": "sim-small", "messages": MESSAGES}
    admission = await service.admit(WHO, model, "r1", body, MESSAGES)
    assert admission.hold is None
    assert admission.body == body
    assert admission.headers == {}
    assert service.settler.in_flight == 0


async def test_reserve_clamp_refuse_and_settle(
    make_settings: MakeSettings, start_service: StartService, memory: MemoryStore
) -> None:
    settings = make_settings("")
    service = await start_service(settings)
    model = settings.models["sim-small"]
    body = {"model": "sim-small", "messages": MESSAGES, "max_tokens": 2000}
    est, _ = service.measure(model, body, MESSAGES, None)
    limit = (est.amount * D("2.5")).quantize(D("0.000001"))
    await memory.put_budget(BudgetRecord("team:research", limit, window="day"))

    first = await service.admit(WHO, model, "r1", body, MESSAGES)
    second = await service.admit(WHO, model, "r2", body, MESSAGES)
    assert first.body == body and "x-tokenwise-budget" not in first.headers
    assert first.hold is not None and first.hold.granted >= est.amount
    third = await service.admit(WHO, model, "r3", body, MESSAGES)
    clamped = third.body["max_tokens"]
    assert 16 <= clamped < 2000
    assert third.headers["x-tokenwise-budget"] == f"clamped=max_tokens:{clamped}"
    assert third.hold is not None
    assert est.base + clamped * est.per_output_token <= third.hold.granted

    with pytest.raises(BudgetRefused) as refused:
        await service.admit(WHO, model, "r4", body, MESSAGES)
    detail = refused.value.detail
    assert D(detail["settled_usd"]) == 0
    assert D(detail["in_flight_usd"]) + D(detail["requested_usd"]) > limit
    assert "held by requests in flight" in refused.value.message

    for admission in (first, second, third):
        assert admission.hold is not None
        admission.hold.closing(D("0.00001"))
        await admission.hold.settle(D("0.00001"))
        await admission.hold.settle(D("5"))  # once only
    await service.settler.drain()
    view = await memory.spend("team:research", time.time())
    assert view is not None
    assert (view.settled, view.in_flight) == (D("0.00003"), 0)
    assert service.settler.in_flight == 0
    again = await service.admit(WHO, model, "r5", body, MESSAGES)
    assert again.body == body


async def test_a_hard_budget_bounds_a_request_that_names_no_limit(
    make_settings: MakeSettings, start_service: StartService, memory: MemoryStore
) -> None:
    settings = make_settings("budgets: {expected_output_tokens: {plain: 300, reasoning: 900}}\n")
    service = await start_service(settings)
    await memory.put_budget(BudgetRecord("team:research", D(100)))
    small, reasoner = settings.models["sim-small"], settings.models["sim-mini-reasoner"]
    plain = await service.admit(WHO, small, "r1", {"messages": MESSAGES}, MESSAGES)
    assert plain.body["max_tokens"] == 300
    assert plain.headers["x-tokenwise-budget"] == "capped=max_tokens:300"
    thinking = await service.admit(WHO, reasoner, "r2", {"messages": MESSAGES}, MESSAGES)
    assert thinking.body["max_completion_tokens"] == 900
    soft_only = await start_service(make_settings("budgets: {cap_output: false}\n"))
    free = await soft_only.admit(WHO, small, "r3", {"messages": MESSAGES}, MESSAGES)
    assert "max_tokens" not in free.body and free.hold is not None


async def test_rate_limits_refuse_in_the_same_step(
    make_settings: MakeSettings, start_service: StartService
) -> None:
    settings = make_settings("rate_limits: {default_key: {rpm: 2}}\n")
    service = await start_service(settings)
    model = settings.models["sim-small"]
    body = {"messages": MESSAGES, "max_tokens": 10}
    first = await service.admit(WHO, model, "r1", body, MESSAGES)
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    await service.admit(WHO, model, "r2", body, MESSAGES)
    with pytest.raises(RateLimited) as limited:
        await service.admit(WHO, model, "r3", body, MESSAGES)
    assert limited.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert "key:k1" in limited.value.message


async def test_soft_pressure_switches_policy_and_caps_effort(
    make_settings: MakeSettings, start_service: StartService, memory: MemoryStore
) -> None:
    settings = make_settings("")
    service = await start_service(settings)
    budget = BudgetRecord(
        "team:research", D(1), hard=False, soft_threshold=D("0.5"), soft_policy="economy"
    )
    await memory.put_budget(budget)
    assert (await service.pressure(WHO)).policy_override is None
    service.cache.forget()
    rid = "spent"
    await memory.reserve(rid, ["team:research"], D("0.6"), 60, time.time())
    await memory.settle(rid, D("0.6"), time.time())
    pressure = await service.pressure(WHO)
    assert isinstance(pressure, Pressure) and pressure.policy_override == "economy"
    assert service.metrics.soft_alerts.labels("research")._value.get() == 1
    model = settings.models["sim-mini-reasoner"]
    body = {"messages": MESSAGES, "reasoning_effort": "high"}
    admission = await service.admit(WHO, model, "r1", body, MESSAGES, pressure=pressure)
    assert admission.body["reasoning_effort"] == "low" and admission.effort == "low"
    header = admission.headers["x-tokenwise-budget"]
    assert header.startswith("state=soft; scope=team:research; used=0.60; policy=economy")
    await service.pressure(WHO)
    assert service.metrics.soft_alerts.labels("research")._value.get() == 1  # once a window


async def sim_small(
    make_settings: MakeSettings, start_service: StartService
) -> tuple[BudgetService, ModelSpec]:
    """A service with no budget configured, and the model to estimate for."""
    settings = make_settings("")
    return await start_service(settings), settings.models["sim-small"]


async def test_known_tokens_and_answers_enter_the_estimate(
    make_settings: MakeSettings, start_service: StartService
) -> None:
    """Prompt tokens given as ids count as they are (no margin); `answers` replaces `n`."""
    service, model = await sim_small(make_settings, start_service)
    body = {"model": "sim-small", "prompt": [[1, 2, 3]], "max_tokens": 100, "n": 2}
    plain, _ = service.measure(model, body, MESSAGES, None)
    more, _ = service.measure(model, body, MESSAGES, None, known_tokens=500, answers=6)
    assert more.prompt_tokens == plain.prompt_tokens + 500
    assert (plain.n, more.n) == (2, 6)
    assert more.output_tokens == plain.output_tokens  # per answer
    assert more.amount > plain.amount * 3


async def test_a_structured_output_schema_is_part_of_the_prompt(
    make_settings: MakeSettings, start_service: StartService
) -> None:
    """The upstream puts a json_schema response format (and tool definitions) into the model's
    prompt and bills it as input: the estimate counts it."""
    service, model = await sim_small(make_settings, start_service)
    properties = {f"field_{i}": {"type": "string", "description": "x " * 20} for i in range(40)}
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    plain = {"model": "sim-small", "messages": MESSAGES}
    shaped = {
        **plain,
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
    }
    without, _ = service.measure(model, plain, MESSAGES, None)
    with_schema, _ = service.measure(model, shaped, MESSAGES, None)
    assert with_schema.prompt_tokens > without.prompt_tokens + 1000
