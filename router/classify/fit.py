"""Fit the classifier's weights with numpy alone, deterministically.

One linear map from features to eight outputs: seven category logits (weighted softmax cross
entropy) and one difficulty logit (weighted logistic loss against a soft target in [0, 1]).
Each head's loss is divided by its total weight; L2 penalties differ for hashed and dense
weights; the bias is not penalised. The optimiser is L-BFGS with a backtracking line search,
full batch. Sums run through `np.add.reduceat` over a fixed order (no threads, no BLAS
reductions over rows), so the same inputs give the same bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from router.classify.features import Features

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]
OUTPUTS = 8
CATEGORY_OUTPUTS = 7
_EMPTY_INDEX: Index = np.zeros(0, dtype=np.int64)
_EMPTY_VALUES: Array = np.zeros(0)


@dataclass(frozen=True)
class Design:
    """Training features: the hashed part as (row, column, value) triples, the dense part as a
    matrix. The bias is a separate, unpenalised output offset."""

    rows: Index
    columns: Index
    values: Array
    dense: Array  # (n_rows, n_dense)
    groups: Index  # difficulty offset group per row, -1 for none
    n_rows: int
    n_groups: int
    hash_dim: int


@dataclass(frozen=True)
class Targets:
    category: Index  # category index per row, -1 when the row has no category label
    category_weight: Array
    difficulty: Array  # soft target in [0, 1]
    difficulty_weight: Array


@dataclass(frozen=True)
class L2:
    """Penalties: hashed weights of the category head, of the difficulty head, dense weights."""

    hashed: float
    hashed_difficulty: float
    dense: float
    light: tuple[int, ...] = ()  # dense features penalised 100 times less


@dataclass(frozen=True)
class Params:
    hashed: Array  # (hash_dim, 8)
    dense: Array  # (n_dense, 8)
    bias: Array  # (8,)
    offsets: Array  # (n_groups,) difficulty offset per group; used in training only


def design(rows: Sequence[Features], hash_dim: int, groups: Sequence[int] | None = None) -> Design:
    """The training matrix. `groups` gives rows a shared difficulty offset that is fitted and
    then dropped, so a group's overall level does not leak into the feature weights: only
    differences inside the group do."""
    group_array = np.asarray(groups if groups is not None else [-1] * len(rows), dtype=np.int64)
    lengths = [len(features.ids) for features in rows]
    return Design(
        rows=np.repeat(np.arange(len(rows), dtype=np.int64), lengths),
        columns=np.concatenate([f.ids.astype(np.int64) for f in rows] or [_EMPTY_INDEX]),
        values=np.concatenate([f.values for f in rows] or [_EMPTY_VALUES]),
        dense=np.asarray([features.dense for features in rows], dtype=np.float64),
        groups=group_array,
        n_rows=len(rows),
        n_groups=int(group_array.max(initial=-1)) + 1,
        hash_dim=hash_dim,
    )


def _scores(x: Design, p: Params) -> Array:
    scores: Array = np.einsum("nm,mk->nk", x.dense, p.dense) + p.bias
    for k in range(OUTPUTS):
        entries = x.values * p.hashed[:, k][x.columns]
        scores[:, k] += np.bincount(x.rows, weights=entries, minlength=x.n_rows)
    grouped = x.groups >= 0
    scores[grouped, CATEGORY_OUTPUTS] += p.offsets[x.groups[grouped]]
    return scores


def _transpose_times(x: Design, d_scores: Array) -> Params:
    hashed = np.empty((x.hash_dim, OUTPUTS))
    for k in range(OUTPUTS):
        entries = x.values * d_scores[:, k][x.rows]
        hashed[:, k] = np.bincount(x.columns, weights=entries, minlength=x.hash_dim)
    dense = np.einsum("nm,nk->mk", x.dense, d_scores)
    grouped = x.groups >= 0
    offsets = np.bincount(
        x.groups[grouped], weights=d_scores[grouped, CATEGORY_OUTPUTS], minlength=x.n_groups
    )
    return Params(hashed, dense, d_scores.sum(axis=0), offsets.astype(np.float64))


def _unflatten(x: Design, flat: Array) -> Params:
    n_hashed = x.hash_dim * OUTPUTS
    n_dense = x.dense.shape[1] * OUTPUTS
    n_fixed = n_hashed + n_dense + OUTPUTS
    return Params(
        flat[:n_hashed].reshape(x.hash_dim, OUTPUTS),
        flat[n_hashed : n_hashed + n_dense].reshape(-1, OUTPUTS),
        flat[n_hashed + n_dense : n_fixed],
        flat[n_fixed:],
    )


def _flatten(p: Params) -> Array:
    return np.concatenate([p.hashed.ravel(), p.dense.ravel(), p.bias, p.offsets])


def _penalty(x: Design, l2: L2) -> Array:
    hashed = np.full((x.hash_dim, OUTPUTS), l2.hashed)
    hashed[:, CATEGORY_OUTPUTS] = l2.hashed_difficulty
    dense = np.full((x.dense.shape[1], OUTPUTS), l2.dense)
    dense[list(l2.light)] = l2.dense / 100
    offsets = np.full(x.n_groups, l2.dense)
    return np.concatenate([hashed.ravel(), dense.ravel(), np.zeros(OUTPUTS), offsets])


def loss_and_gradient(x: Design, y: Targets, flat: Array, penalty: Array) -> tuple[float, Array]:
    """The joint loss at `flat` (flattened weights) and its gradient."""
    scores = _scores(x, _unflatten(x, flat))
    logits = scores[:, :CATEGORY_OUTPUTS]
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    total = exp.sum(axis=1)
    labelled = y.category >= 0
    cw = np.where(labelled, y.category_weight, 0.0)
    cw = cw / max(float(cw.sum()), 1e-12)
    picked = np.where(labelled, y.category, 0)
    rows = np.arange(x.n_rows)
    category_loss = -float((cw * (logits[rows, picked] - np.log(total))).sum())
    d_category = exp / total[:, None]
    d_category[rows, picked] -= 1.0
    d_category *= cw[:, None]

    z = scores[:, CATEGORY_OUTPUTS]
    dw = y.difficulty_weight / max(float(y.difficulty_weight.sum()), 1e-12)
    softplus = np.logaddexp(0.0, z)
    difficulty_loss = float((dw * (softplus - y.difficulty * z)).sum())
    d_difficulty = dw * (np.exp(z - softplus) - y.difficulty)

    d_scores = np.concatenate([d_category, d_difficulty[:, None]], axis=1)
    gradient = _flatten(_transpose_times(x, d_scores)) + penalty * flat
    regulariser = 0.5 * float((penalty * flat * flat).sum())
    return category_loss + difficulty_loss + regulariser, gradient


def fit(
    x: Design,
    y: Targets,
    l2: L2,
    *,
    iterations: int = 300,
    history: int = 10,
    tolerance: float = 1e-7,
) -> tuple[Params, dict[str, Any]]:
    """L-BFGS on the joint loss; returns the weights and a small report."""
    penalty = _penalty(x, l2)
    flat = np.zeros(len(penalty))
    loss, gradient = loss_and_gradient(x, y, flat, penalty)
    steps: list[tuple[Array, Array]] = []
    done = 0
    while done < iterations:
        done += 1
        direction = _direction(gradient, steps)
        slope = _dot(gradient, direction)
        if slope >= 0:
            direction, steps = -gradient, []
            slope = -_dot(gradient, gradient)
        step = 1.0 if steps else min(1.0, 1.0 / max(float(np.abs(gradient).sum()), 1e-12))
        for _ in range(40):
            candidate = flat + step * direction
            new_loss, new_gradient = loss_and_gradient(x, y, candidate, penalty)
            if new_loss <= loss + 1e-4 * step * slope:
                break
            step *= 0.5
        s, g_change = candidate - flat, new_gradient - gradient
        if _dot(s, g_change) > 1e-12:
            steps = [*steps[-(history - 1) :], (s, g_change)]
        improvement = loss - new_loss
        flat, loss, gradient = candidate, new_loss, new_gradient
        if improvement < tolerance * max(1.0, abs(loss)):
            break
    return _unflatten(x, flat), {"iterations": done, "loss": round(loss, 6)}


def _dot(a: Array, b: Array) -> float:
    """Inner product by numpy's pairwise sum: no BLAS, so no thread-count dependence."""
    return float(np.sum(a * b))


def _direction(gradient: Array, steps: list[tuple[Array, Array]]) -> Array:
    """The L-BFGS two-loop recursion: an approximate Newton step from recent history."""
    q = -gradient
    alphas = []
    for s, g_change in reversed(steps):
        rho = 1.0 / _dot(s, g_change)
        alpha = rho * _dot(s, q)
        q = q - alpha * g_change
        alphas.append((rho, alpha))
    if steps:
        s, g_change = steps[-1]
        q = q * (_dot(s, g_change) / _dot(g_change, g_change))
    for (s, g_change), (rho, alpha) in zip(steps, reversed(alphas), strict=True):
        beta = rho * _dot(g_change, q)
        q = q + (alpha - beta) * s
    return q


def difficulty_logits(x: Design, params: Params) -> Array:
    """The difficulty logit of every training row (before calibration, without offsets)."""
    no_offsets = Params(params.hashed, params.dense, params.bias, np.zeros_like(params.offsets))
    return _scores(x, no_offsets)[:, CATEGORY_OUTPUTS]


def calibrate(logits: Array, targets: Array, iterations: int = 50) -> tuple[float, float]:
    """Scale and shift of the difficulty logit that best fit `targets` (logistic loss).

    The joint fit shares weights with public data whose labels spread less than the hand-made
    tiers, which squeezes difficulties towards the middle. A monotone map fitted on the
    hand-labelled rows restores the tier bands without changing the order of any two requests.
    """
    a, b = 1.0, 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(a * logits + b)))
        r = p - targets
        h = p * (1.0 - p) + 1e-9
        g_a, g_b = float(np.sum(r * logits)), float(np.sum(r))
        h_aa, h_ab, h_bb = (
            float(np.sum(h * logits * logits)),
            float(np.sum(h * logits)),
            float(np.sum(h)),
        )
        det = h_aa * h_bb - h_ab * h_ab
        if det <= 1e-12:
            break
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        a, b = a - step_a, b - step_b
        if abs(step_a) + abs(step_b) < 1e-10:
            break
    return a, b
