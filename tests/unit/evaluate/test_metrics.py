"""RouteLLM's metrics on tiny cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from router.evaluate import metrics
from router.evaluate.metrics import Point

# Four questions; GPT-4 gets all right, Mixtral only the first two (scores 1 and 2).
STRONG = [1.0, 1.0, 1.0, 1.0]
WEAK = [1.0, 1.0, 0.0, 0.0]
PERFECT = [1.0, 2.0, 3.0, 4.0]  # highest scores where the weak model fails
INVERSE = [4.0, 3.0, 2.0, 1.0]


def test_thresholds_are_the_quantile_bin_edges() -> None:
    # pd.qcut([1, 2, 3, 4], 4, retbins=True)[1] == [1, 1.75, 2.5, 3.25, 4]
    edges = metrics.quantile_thresholds(PERFECT, bins=4)
    assert edges.tolist() == [1.0, 1.75, 2.5, 3.25, 4.0]


def test_curve_runs_from_all_weak_to_all_strong() -> None:
    curve = metrics.threshold_curve(PERFECT, STRONG, WEAK, bins=4)
    assert [p.share for p in curve] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [p.quality for p in curve] == [0.5, 0.75, 1.0, 1.0, 1.0]


def test_apgr_of_a_perfect_router() -> None:
    curve = metrics.threshold_curve(PERFECT, STRONG, WEAK, bins=4)
    # PGR 0, .5, 1, 1, 1 at shares 0, .25, .5, .75, 1: area .0625 + .1875 + .25 + .25
    assert metrics.apgr(curve, 1.0, 0.5) == pytest.approx(0.75)


def test_apgr_of_the_inverse_router_mirrors_the_perfect_one() -> None:
    curve = metrics.threshold_curve(INVERSE, STRONG, WEAK, bins=4)
    assert [p.quality for p in curve] == [0.5, 0.5, 0.5, 0.75, 1.0]
    assert metrics.apgr(curve, 1.0, 0.5) == pytest.approx(0.25)


def test_cpt_interpolates_the_share_where_pgr_is_reached() -> None:
    curve = metrics.threshold_curve(PERFECT, STRONG, WEAK, bins=4)
    assert metrics.cpt(curve, 0.5, 1.0, 0.5) == pytest.approx(0.25)  # exactly on a point
    # 80%: quality 0.9, between (0.25, 0.75) and (0.5, 1.0)
    assert metrics.cpt(curve, 0.8, 1.0, 0.5) == pytest.approx(0.40)
    inverse = metrics.threshold_curve(INVERSE, STRONG, WEAK, bins=4)
    assert metrics.cpt(inverse, 0.5, 1.0, 0.5) == pytest.approx(0.75)
    assert metrics.cpt(inverse, 0.8, 1.0, 0.5) == pytest.approx(0.90)


def test_cpt_matches_numpy_interp_on_a_monotone_curve() -> None:
    curve = metrics.threshold_curve(PERFECT, STRONG, WEAK, bins=4)
    quality = [p.quality for p in curve[:3]]  # strictly increasing part
    share = [p.share for p in curve[:3]]
    for fraction in (0.1, 0.3, 0.6, 0.9):
        expected = float(np.interp(0.5 + fraction * 0.5, quality, share))
        assert metrics.cpt(curve, fraction, 1.0, 0.5) == pytest.approx(expected)


def test_cpt_takes_the_first_crossing_of_a_curve_that_dips() -> None:
    curve = [Point(0.0, 0.5), Point(0.3, 0.8), Point(0.6, 0.6), Point(1.0, 1.0)]
    assert metrics.cpt(curve, 0.5, 1.0, 0.5) == pytest.approx(0.25)  # not the later 0.6..1.0


def test_the_expected_random_router_scores_one_half() -> None:
    curve = metrics.random_curve(0.86, 0.64)
    summary = metrics.summarise(curve, 0.86, 0.64)
    assert summary.apgr == pytest.approx(0.5)
    assert summary.cpt50 == pytest.approx(0.5)
    assert summary.cpt80 == pytest.approx(0.8)


def test_seeded_random_routers_average_about_one_half() -> None:
    generator = np.random.default_rng(7)
    strong = (generator.random(3000) < 0.85).astype(float)
    weak = (generator.random(3000) < 0.65).astype(float)
    mean, low, high = metrics.random_apgr_spread(strong, weak, seeds=40)
    assert abs(mean - 0.5) < 0.03
    assert low < mean < high


def test_a_score_that_knows_the_answers_beats_random() -> None:
    generator = np.random.default_rng(3)
    strong = (generator.random(2000) < 0.85).astype(float)
    weak = (generator.random(2000) < 0.65).astype(float)
    knows = (strong - weak) + generator.random(2000) * 0.01  # strong-only first, weak-only last
    curve = metrics.threshold_curve(knows, strong, weak)
    assert metrics.apgr(curve, strong.mean(), weak.mean()) > 0.9


def test_oracle_quality_upgrades_only_where_the_strong_model_alone_is_right() -> None:
    strong = [1.0, 1.0, 0.0, 1.0]
    weak = [0.0, 1.0, 1.0, 0.0]  # two questions only GPT-4 gets right
    assert metrics.oracle_quality(0.0, strong, weak) == pytest.approx(0.5)
    assert metrics.oracle_quality(0.25, strong, weak) == pytest.approx(0.75)
    assert metrics.oracle_quality(1.0, strong, weak) == pytest.approx(1.0)


def test_pgr_is_undefined_without_a_gap() -> None:
    with pytest.raises(ValueError):
        metrics.pgr(0.7, 0.6, 0.6)


def test_curve_inputs_must_line_up() -> None:
    with pytest.raises(ValueError):
        metrics.threshold_curve([1.0, 2.0], [1.0], [0.0, 1.0])
