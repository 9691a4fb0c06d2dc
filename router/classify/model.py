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
from router.classify.features import (
    DENSE_NAMES,
    QUESTION_MARKS,
    FeatureExtractor,
    Features,
    last_question,
)
from router.classify.labels import (
    CATEGORIES,
    Classification,
    effort_for,
    tier_margin,
    tier_of,
)
from router.classify.material import instruction_of
from router.classify.request import RequestView, text_view, view

ARTIFACT: Final = "data/classifier.json"
TOP_FEATURES: Final = 6
PREAMBLE_CHARS: Final = 300
_DIFFICULTY: Final = len(CATEGORIES)
_TAIL_LOOKUP: Final = DENSE_NAMES.index("tail_lookup")
# What works on given text: a summary or a translation of a long text is no harder for its
# length. A problem statement is not material (its length is part of the problem), nor is a
# greeting around it ("Problem: ... Thanks!").
_REWORK: Final = frozenset({CATEGORIES.index("transform"), CATEGORIES.index("writing")})


class Classifier:
    """Scores requests with trained weights; safe to share between requests and threads."""

    def __init__(self, weights: Weights) -> None:
        self.weights = weights
        self._extractor = FeatureExtractor(weights.hash_dim)
        self._hashed = weights.hashed
        self._dense = weights.dense
        self._dense_abs = np.abs(weights.dense)
        self._bias = weights.bias
        self._scale, self._shift = weights.calibration

    def classify(self, body: Mapping[str, Any], *, explain: bool = True) -> Classification:
        """Classify an OpenAI chat request body (never raises on odd message shapes);
        `explain` False leaves `features` empty (the request path, which never shows them)."""
        return self._classify(view(body), explain)

    def classify_text(self, text: str, *, explain: bool = True) -> Classification:
        """Classify a single user message."""
        return self._classify(text_view(text), explain)

    def logits(self, features: Features) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Raw scores: seven category logits, then the difficulty logit."""
        scores = self._bias + np.asarray(features.dense) @ self._dense
        if len(features.ids):
            scores = scores + features.values @ self._hashed[features.ids]
        return scores

    def features(self, request: RequestView) -> Features:
        return self._extractor.extract(request)

    def _score(self, request: RequestView) -> tuple[Features, int, float, float]:
        """Features, best category index, its probability, and the difficulty."""
        features = self._extractor.extract(request)
        scores: list[float] = self.logits(features).tolist()
        category_logits = scores[:_DIFFICULTY]
        top = max(category_logits)
        best = category_logits.index(top)
        probability = 1.0 / sum(math.exp(z - top) for z in category_logits)
        difficulty = _sigmoid(self._scale * scores[_DIFFICULTY] + self._shift)
        return features, best, probability, difficulty

    def _classify(self, request: RequestView, explain: bool) -> Classification:
        features, best, probability, difficulty = self._score(request)
        drivers = self._drivers(features, best, request) if explain else {}
        plain = self._plain_question(request, features)
        worked = None if plain is not None else self._worked_text(request)
        if plain is not None:
            if explain:
                drivers["last_question"] = round(plain, 4)
            difficulty = (difficulty + plain) / 2
        elif worked is not None:
            best, probability, alone = worked
            if explain:
                drivers["instruction"] = round(alone, 4)
            difficulty = (difficulty + alone) / 2
        category = CATEGORIES[best]
        tier = tier_of(difficulty)
        return Classification(
            category=category,
            tier=tier,
            difficulty=round(difficulty, 4),
            effort=effort_for(category, tier),
            confidence=round(probability * (0.5 + 0.5 * tier_margin(difficulty)), 4),
            features=drivers,
        )

    def _plain_question(self, request: RequestView, features: Features) -> float | None:
        """A long preamble does not make a plain question harder.

        When a long message ends with a question phrased as a lookup ("which currency...", "who
        wrote...") and that question alone classifies as trivial or simple, the result is the
        mean of the two difficulties. Returns the question's own difficulty, or None.
        """
        long_enough = request.text_chars > PREAMBLE_CHARS
        asked = request.text.rstrip()[-1:] in QUESTION_MARKS
        if not (long_enough and features.dense[_TAIL_LOOKUP] and asked):
            return None
        span = last_question(request.text)
        if span is None:
            return None
        question = request.text[span[0] : span[1] + 1]
        difficulty = self._score(text_view(question))[3]
        return difficulty if tier_of(difficulty) in ("trivial", "simple") else None

    def _worked_text(self, request: RequestView) -> tuple[int, float, float] | None:
        """Pasted text does not make reworking it harder.

        When a long message is an instruction plus the text it works on
        (router.classify.material) and the instruction alone classifies as `transform` or
        `writing` at trivial or simple, the request takes the instruction's category (the
        pasted text's words are not the question) and the mean of the two difficulties.
        Returns the instruction's category index, probability and difficulty, or None.
        """
        if request.text_chars <= PREAMBLE_CHARS:
            return None
        instruction = instruction_of(request.text)
        if instruction is None:
            return None
        _, best, probability, difficulty = self._score(text_view(instruction))
        if best not in _REWORK or tier_of(difficulty) not in ("trivial", "simple"):
            return None
        return best, probability, difficulty

    def _drivers(self, features: Features, best: int, request: RequestView) -> dict[str, float]:
        """The dense features that moved the category and difficulty most, with their values."""
        dense = np.asarray(features.dense)
        push = dense * (self._dense_abs[:, _DIFFICULTY] + self._dense_abs[:, best])
        order = np.argsort(-push, kind="stable")[:TOP_FEATURES]
        drivers = {DENSE_NAMES[i]: round(float(dense[i]), 3) for i in order.tolist() if dense[i]}
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
