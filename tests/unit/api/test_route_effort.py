"""`x-tokenwise-route` says who set an effort other than the policy's: the client, or a soft
budget that capped the client's."""

from __future__ import annotations

from decimal import Decimal

from router.api.chat import note_client_effort
from router.budget.admission import Admission
from router.policy.decide import Decision
from router.providers.base import ParamReport
from router.reasoning.effort import EffortChoice
from router.services import Route
from tests.unit.api.test_redact import target

DECISION = Decision("default", "chat", "trivial", 0.1, "m", "none", 100.0, Decimal(0), "cheapest")
ASKED = {"messages": [], "reasoning_effort": "high"}


def route_header(admission: Admission | None) -> str:
    headers: dict[str, str] = {}
    report = ParamReport("p", effort=EffortChoice("high", "low" if admission else "high"))
    note_client_effort(
        headers, Route(target(None), "auto", "auto", DECISION), ASKED, report, admission
    )
    return headers["x-tokenwise-route"]


def test_the_client_or_the_soft_budget_is_named() -> None:
    assert route_header(None).endswith("effort=high; reason=cheapest, effort set by the client")
    capped = Admission({**ASKED, "reasoning_effort": "low"}, {}, None, effort="low")
    assert route_header(capped).endswith(
        "effort=low; reason=cheapest, effort capped by a soft budget"
    )
