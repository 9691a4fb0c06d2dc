"""The classifier: request body -> `Classification`, pure and deterministic.

One linear model over the features of `router.classify.features`: a softmax over the seven
categories and a logistic difficulty in [0, 1], both read from the shipped artifact
(`router/data/classifier.json`, built by `scripts/train_classifier.py`). Build it once with
`load_classifier()` at start-up; `classify` then does no I/O and keeps no state that changes
its answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np

from router.classify.artifact import ArtifactError, Weights, decode
from router.classify.features import DENSE_NAMES, FeatureExtractor, Features
from router.classify.labels import (
    CATEGORIES,
    Classification,
    effort_for,
    tier_margin,
    tier_of,
)
from router.classify.request import RequestView, text_view, view

ARTIFACT: Final = "data/classifier.json"
TOP_FEATURES: Final = 6
_DIFFICULTY: Final = len(CATEGORIES)


class Classifier:
    """Scores requests with trained weights; safe to share between requests and threads."""

    def __init__(self, weights: Weights) -> None:
        self.weights = weights
        self._extractor = FeatureExtractor(weights.hash_dim)
        self._hashed = weights.hashed
        self._dense = weights.dense
        self._bias = weights.bias
        self._scale, self._shift = weights.calibration

    def classify(self, body: Mapping[str, Any]) -> Classification:
        """Classify an OpenAI chat request body (never raises on odd message shapes)."""
        return self._classify(view(body))

    def classify_text(self, text: str) -> Classification:
        """Classify a single user message."""
        return self._classify(text_view(text))

    def logits(self, features: Features) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Raw scores: seven category logits, then the difficulty logit."""
        dense = np.asarray(features.dense, dtype=np.float64)
        scores = self._bias + dense @ self._dense
        if features.ids:
            values = np.asarray(features.values, dtype=np.float64)
            scores = scores + values @ self._hashed[features.ids]
        return scores

    def features(self, request: RequestView) -> Features:
        return self._extractor.extract(request)

    def _classify(self, request: RequestView) -> Classification:
        features = self._extractor.extract(request)
        scores = self.logits(features)
        category_logits = scores[:_DIFFICULTY]
        best = int(np.argmax(category_logits))
        shifted = np.exp(category_logits - category_logits[best])
        probability = float(1.0 / shifted.sum())
        difficulty = _sigmoid(self._scale * float(scores[_DIFFICULTY]) + self._shift)
        category = CATEGORIES[best]
        tier = tier_of(difficulty)
        return Classification(
            category=category,
            tier=tier,
            difficulty=round(difficulty, 4),
            effort=effort_for(category, tier),
            confidence=round(probability * (0.5 + 0.5 * tier_margin(difficulty)), 4),
            features=self._drivers(features, best, request),
        )

    def _drivers(self, features: Features, best: int, request: RequestView) -> dict[str, float]:
        """The dense features that moved the category and difficulty most, with their values."""
        dense = features.dense
        weights = self._dense
        pushes = [
            (abs(value * weights[i, _DIFFICULTY]) + abs(value * weights[i, best]), i)
            for i, value in enumerate(dense)
            if value
        ]
        pushes.sort(key=lambda item: (-item[0], item[1]))
        drivers = {DENSE_NAMES[i]: round(dense[i], 3) for _, i in pushes[:TOP_FEATURES]}
        drivers["est_tokens"] = float(math.ceil(request.text_chars / 4))
        return drivers


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def load_classifier(path: str | Path | None = None) -> Classifier:
    """Read a classifier artifact: `path`, or the one shipped in the package when None."""
    try:
        if path is None:
            raw = resources.files("router").joinpath(ARTIFACT).read_bytes()
        else:
            raw = Path(path).read_bytes()
    except OSError as exc:
        where = path if path is not None else f"router/{ARTIFACT}"
        raise ArtifactError(f"cannot read classifier artifact {where}: {exc}") from exc
    return Classifier(decode(raw))
