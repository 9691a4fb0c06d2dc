"""Prior quality from outcomes: Wilson lower bounds, relative quality, evidence back-off."""

from __future__ import annotations

import pytest

from router.policy import evidence
from router.policy.evidence import Record


@pytest.mark.parametrize(
    ("record", "bound"),
    [
        (Record(0, 0), 0.0),  # no evidence, no credit
        (Record(2, 2), 0.5491),  # perfect on 2: about half
        (Record(3, 3), 0.6462),
        (Record(30, 30), 0.9481),
        (Record(45, 50), 0.8323),
        (Record(0, 10), 0.0),
        (Record(2.6, 3), 0.4967),  # fractional correctness (mean of judged runs)
    ],
)
def test_lower_bound_by_hand(record: Record, bound: float) -> None:
    assert evidence.lower_bound(record) == pytest.approx(bound, abs=1e-4)


def test_the_same_record_on_more_questions_counts_for_more() -> None:
    bounds = [evidence.lower_bound(Record(n, n)) for n in (1, 2, 5, 20, 100)]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)
    assert all(b < 1.0 for b in bounds)


@pytest.mark.parametrize(
    ("records", "quality"),
    [
        # the cheap model's perfect 2 of 2 does not match the big model's 90 of 90
        ({"cheap": Record(2, 2), "big": Record(90, 90)}, {"cheap": 0.5591, "big": 1.0}),
        # the same record gives the same quality: a no-loss floor keeps both
        ({"cheap": Record(20, 20), "big": Record(20, 20)}, {"cheap": 1.0, "big": 1.0}),
        # with equal evidence, the better record is the best
        ({"a": Record(9, 10), "b": Record(10, 10)}, {"a": 0.8354, "b": 1.0}),
        # a slightly worse record on much more evidence beats a perfect one on little
        ({"few": Record(3, 3), "many": Record(95, 100)}, {"few": 0.7070, "many": 1.0}),
        # nobody has a bound above 0: nothing to tell the models apart
        ({"a": Record(0, 4), "b": Record(0, 0)}, {"a": 1.0, "b": 1.0}),
    ],
)
def test_relative_quality_table(records: dict[str, Record], quality: dict[str, float]) -> None:
    assert evidence.relative_quality(records) == pytest.approx(quality, abs=1e-4)


def test_record_sums_correctness() -> None:
    assert evidence.record([1.0, 0.4, 0.0]) == Record(1.4, 3)
    assert evidence.record([]) == Record(0.0, 0)


@pytest.mark.parametrize("bad", [(-1.0, 2), (3.0, 2), (0.0, -1)])
def test_impossible_records_are_refused(bad: tuple[float, int]) -> None:
    with pytest.raises(ValueError, match="correct <= questions"):
        Record(*bad)


@pytest.mark.parametrize(
    ("sizes", "chosen"),
    [
        ((5, 10, 18), "cell"),  # the narrowest group with enough questions
        ((2, 10, 18), "category"),  # too few in the cell: back off
        ((2, 2, 18), "all"),
        ((0, 1, 2), "all"),  # the last group is used whatever its size
        ((3, 3, 3), "cell"),
    ],
)
def test_basis_backs_off_to_enough_evidence(sizes: tuple[int, int, int], chosen: str) -> None:
    names = ("cell", "category", "all")
    groups = [(name, list(range(n))) for name, n in zip(names, sizes, strict=True)]
    assert evidence.basis(groups)[0] == chosen


def test_basis_needs_a_group() -> None:
    with pytest.raises(ValueError, match="at least one group"):
        evidence.basis([])
