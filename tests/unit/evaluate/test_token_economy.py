"""Token-economy routing: leave-one-prompt-out priors through `decide`, real costs."""

from __future__ import annotations

from decimal import Decimal

from router.classify.public_data import Price
from router.evaluate import study, token_economy
from router.evaluate.economy_priors import CategoryFigures
from router.evaluate.replay import Replayed
from tests.unit.evaluate.cases import classified, economy_item, replayed

PRICES = {
    "big": Price(Decimal("2"), Decimal("10")),  # USD per million tokens
    "small": Price(Decimal("0.1"), Decimal("0.4")),
}
NO_LOSS = study.floors_of("no-loss")


def prompts(last_small: float = 1.0) -> list[Replayed]:
    rows = [("p1", 1.0), ("p2", 1.0), ("p3", 1.0), ("p4", last_small)]
    return [
        replayed(economy_item(p, {"big": (1.0, 1000.0), "small": (s, 800.0)}), classified())
        for p, s in rows
    ]


def test_a_cheaper_model_as_accurate_on_the_other_prompts_is_chosen() -> None:
    choices = token_economy.route(prompts(), ["big", "small"], PRICES, NO_LOSS, "big")
    assert [c.model for c in choices] == ["small"] * 4
    assert all(c.basis == "math/hard: 3 others" for c in choices)


def test_a_prompts_own_outcome_never_changes_its_decision() -> None:
    # small fails p4: p4's decision must not know, the others' decisions must.
    choices = token_economy.route(prompts(last_small=0.0), ["big", "small"], PRICES, NO_LOSS, "big")
    assert [c.model for c in choices] == ["big", "big", "big", "small"]
    assert choices[3].correct == 0.0


def test_a_cheap_model_perfect_on_too_few_prompts_is_not_trusted() -> None:
    # p1-p4 are hard math; "x" is a lone logic prompt whose 2 logic peers are too few to judge
    # by, so its priors back off to all other prompts, where small missed p4.
    rows = prompts(last_small=0.0)
    for name in ("x", "y", "z"):
        item = economy_item(name, {"big": (1.0, 1000.0), "small": (1.0, 800.0)})
        rows.append(replayed(item, classified("logic", "moderate")))
    choices = token_economy.route(rows, ["big", "small"], PRICES, NO_LOSS, "big")
    lone = choices[4]
    assert lone.basis == "all: 6 others"
    assert lone.model == "big"  # small: 2 of 2 on logic, but 5 of 6 on everything


def test_enough_evidence_in_the_cell_is_used() -> None:
    rows = prompts(last_small=0.0)
    for name in ("w", "x", "y", "z"):
        item = economy_item(name, {"big": (1.0, 1000.0), "small": (1.0, 800.0)})
        rows.append(replayed(item, classified("logic", "moderate")))
    choices = token_economy.route(rows, ["big", "small"], PRICES, NO_LOSS, "big")
    assert [c.basis for c in choices[4:]] == ["logic/moderate: 3 others"] * 4
    assert [c.model for c in choices[4:]] == ["small"] * 4  # 3 of 3, as good as big there


def test_costs_are_prices_times_prompt_estimate_and_real_tokens() -> None:
    choice = token_economy.route(prompts(), ["big", "small"], PRICES, NO_LOSS, "big")[0]
    prompt_tokens = 2 // 4 + 4  # "p1": 2 characters, one message
    expected = (Decimal("0.1") * prompt_tokens + Decimal("0.4") * 800) / 1_000_000
    assert choice.cost == expected
    assert choice.reference_cost == (Decimal(2) * prompt_tokens + Decimal(10) * 1000) / 1_000_000


def test_the_report_compares_with_the_most_accurate_model() -> None:
    # the roll-up: small right on 3 of the 4 math prompts, so only big is at the floor
    summary = {
        "math": {
            "big": CategoryFigures(4, 1000.0, 1.0),
            "small": CategoryFigures(4, 800.0, 0.75),
        }
    }
    report = token_economy.evaluate_economy(
        prompts(last_small=0.0), PRICES, NO_LOSS, "no-loss", "test", summary
    )
    assert report.reference == "big"
    assert report.always_reference.accuracy == 1.0
    assert [c.model for c in report.choices] == ["big"] * 4
    assert report.routed.accuracy == 1.0
    assert report.saving == 0.0
    # leave one prompt out: small looked perfect on the others each time but p4's
    assert [c.model for c in report.strict] == ["big", "big", "big", "small"]
    assert report.strict_routed.accuracy == 0.75
    assert report.best_per_category.cost == report.always_reference.cost  # small missed one
    assert [floor for floor, _ in report.sweep] == list(token_economy.SWEEP)
    # small matched big on p1-p3 and missed p4: on p4 no leave-one-out rule can tell them apart
    assert report.blind_spots == {"p4": ["small"]}


def test_blind_spots_need_the_reference_record_on_every_other_prompt() -> None:
    rows = prompts(last_small=0.0)
    items = [r.item for r in rows]
    assert token_economy.blind_spots(items, ["big", "small"], "big") == {"p4": ["small"]}
    worse = economy_item("p5", {"big": (1.0, 1000.0), "small": (0.8, 800.0)})
    assert token_economy.blind_spots([*items, worse], ["big", "small"], "big") == {}
