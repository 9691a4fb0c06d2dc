"""The trained classifier on disk: one small JSON file, written and read here only.

Layout (`format: tokenwise-classifier/1`):

    hash_dim       size of the hashed part (a power of two)
    outputs        the 7 categories, then "difficulty"
    dense_names    names of the hand-made features, in the extractor's order
    hashed         base64 of little-endian float32, hash_dim x len(outputs), row-major
    dense          one list of len(outputs) weights per dense feature
    bias           len(outputs) weights
    calibration    [scale, shift]: difficulty = sigmoid(scale * logit + shift)
    training       how it was built (sources, example counts, excluded benchmarks, seed)

Columns 0-6 are the softmax logits of the categories; column 7 is the logit of the difficulty.
The encoding is canonical (sorted keys, fixed rounding), so the same weights give the same bytes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from router.classify.features import DENSE_NAMES
from router.classify.labels import CATEGORIES

FORMAT: Final = "tokenwise-classifier/1"
OUTPUTS: Final[tuple[str, ...]] = (*CATEGORIES, "difficulty")
DECIMALS: Final = 6

Matrix = npt.NDArray[np.float64]


class ArtifactError(ValueError):
    """The classifier file is missing, malformed, or built for other features."""


@dataclass(frozen=True)
class Weights:
    hash_dim: int
    hashed: Matrix  # (hash_dim, len(OUTPUTS))
    dense: Matrix  # (len(DENSE_NAMES), len(OUTPUTS))
    bias: Matrix  # (len(OUTPUTS),)
    calibration: tuple[float, float]
    training: dict[str, Any]


def encode(weights: Weights) -> bytes:
    """Canonical JSON bytes for `weights`."""
    hashed = np.ascontiguousarray(weights.hashed, dtype="<f4")
    document = {
        "format": FORMAT,
        "hash_dim": weights.hash_dim,
        "outputs": list(OUTPUTS),
        "dense_names": list(DENSE_NAMES),
        "hashed": base64.b64encode(hashed.tobytes()).decode("ascii"),
        "dense": [[round(float(x), DECIMALS) for x in row] for row in weights.dense],
        "bias": [round(float(x), DECIMALS) for x in weights.bias],
        "calibration": [round(float(x), DECIMALS) for x in weights.calibration],
        "training": weights.training,
    }
    return (json.dumps(document, sort_keys=True, indent=1) + "\n").encode("utf-8")


def decode(text: str | bytes) -> Weights:
    """Parse and check an artifact; raises `ArtifactError` naming what is wrong."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ArtifactError(f"classifier artifact is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ArtifactError(f"classifier artifact: expected format {FORMAT!r}")
    if document.get("outputs") != list(OUTPUTS):
        raise ArtifactError("classifier artifact: outputs differ from this version's categories")
    if document.get("dense_names") != list(DENSE_NAMES):
        raise ArtifactError("classifier artifact: built for other features; retrain it")
    dim = document.get("hash_dim")
    if not isinstance(dim, int) or dim < 2 or dim & (dim - 1):
        raise ArtifactError("classifier artifact: hash_dim must be a power of two")
    width = len(OUTPUTS)
    try:
        raw = base64.b64decode(document["hashed"], validate=True)
        hashed = np.frombuffer(raw, dtype="<f4").astype(np.float64).reshape(dim, width)
        dense = np.asarray(document["dense"], dtype=np.float64).reshape(len(DENSE_NAMES), width)
        bias = np.asarray(document["bias"], dtype=np.float64).reshape(width)
        scale, shift = (float(x) for x in document["calibration"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"classifier artifact: bad weights ({exc})") from exc
    finite = np.isfinite([scale, shift]).all() and np.isfinite(bias).all()
    if not (finite and np.isfinite(hashed).all() and np.isfinite(dense).all()):
        raise ArtifactError("classifier artifact: weights are not finite")
    training = document.get("training")
    extra = training if isinstance(training, dict) else {}
    return Weights(dim, hashed, dense, bias, (scale, shift), extra)
