"""RouterBench routing: priors from the train split per classifier cell, test-split dollars."""

from __future__ import annotations

from router.classify.labels import Tier
from router.evaluate import routerbench, study
from router.evaluate.replay import Replayed
from tests.unit.evaluate.cases import bench_item, classified, replayed

NO_LOSS = study.floors_of("no-loss")


def split(n: int, name: str, cheap_right: bool, tier: Tier) -> list[Replayed]:
    rows = []
    for i in range(n):
        outcomes = {"gpt": (1.0, "0.01"), "tiny": (1.0 if cheap_right else 0.0, "0.0001")}
        item = bench_item(f"{name}-{tier}-{i}", name, outcomes)
        rows.append(replayed(item, classified("knowledge", tier)))
    return rows


def test_each_cell_routes_by_its_own_train_questions() -> None:
    train = split(30, "train", True, "trivial") + split(30, "train", False, "hard")
    test = split(5, "test", True, "trivial") + split(5, "test", False, "hard")
    report = routerbench.evaluate_routerbench(train + test, NO_LOSS, "no-loss", "test")
    assert report.routed_models == {"gpt": 5, "tiny": 5}
    assert report.routed.accuracy == 1.0
    assert report.best_model == "gpt" and report.cheapest_model == "tiny"
    assert report.always_cheapest.accuracy == 0.5
    assert report.routed.cost < report.always_best.cost


def test_a_small_cell_backs_off_to_its_category() -> None:
    train = split(30, "train", True, "trivial") + split(3, "train", False, "hard")
    test = split(4, "test", False, "hard")
    report = routerbench.evaluate_routerbench(train + test, NO_LOSS, "no-loss", "test")
    # 3 hard train questions are too few for a cell: the category's 33 give tiny 30/33, below
    # gpt's 33/33, so the no-loss floor keeps gpt.
    assert report.routed_models == {"gpt": 4}


def test_questions_missing_an_outcome_are_left_out() -> None:
    train = split(30, "train", True, "trivial")
    broken = bench_item("x", "test", {"gpt": (1.0, "0.01")})
    last = replayed(broken, classified("knowledge", "trivial"))
    test = [*split(2, "test", True, "trivial"), last]
    report = routerbench.evaluate_routerbench(train + test, NO_LOSS, "no-loss", "test")
    assert report.left_out == 1
    assert report.routed.questions == 2
