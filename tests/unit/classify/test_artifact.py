import json
from pathlib import Path

import numpy as np
import pytest

from router.classify.artifact import ArtifactError, decode, encode
from router.classify.model import load_classifier
from router.classify.train import HASH_DIM, REPO

SHIPPED = REPO / "router" / "data" / "classifier.json"


def test_shipped_artifact_loads_and_is_small() -> None:
    assert SHIPPED.stat().st_size < 2_000_000
    classifier = load_classifier()
    assert classifier.weights.hash_dim == HASH_DIM == 32768
    assert classifier.weights.training["public"] is True
    assert classifier.weights.training["excluded"] == []


def test_encoding_is_canonical() -> None:
    raw = SHIPPED.read_bytes()
    assert encode(decode(raw)) == raw


def _document() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(SHIPPED.read_bytes())
    return loaded


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other/2"}, "expected format"),
        ({"outputs": ["a"]}, "outputs differ"),
        ({"dense_names": ["x"]}, "other features"),
        ({"hash_dim": 1000}, "power of two"),
        ({"hashed": "!!!"}, "bad weights"),
        ({"bias": [1.0]}, "bad weights"),
        ({"calibration": [float("nan"), 0.0]}, "not finite"),
    ],
)
def test_broken_artifacts_are_refused(change: dict[str, object], message: str) -> None:
    document = {**_document(), **change}
    with pytest.raises(ArtifactError, match=message):
        decode(json.dumps(document))


def test_unreadable_artifacts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="cannot read"):
        load_classifier(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ArtifactError, match="not JSON"):
        load_classifier(tmp_path / "bad.json")


def test_weights_round_trip_through_a_file(tmp_path: Path) -> None:
    weights = decode(SHIPPED.read_bytes())
    path = tmp_path / "copy.json"
    path.write_bytes(encode(weights))
    again = load_classifier(path).weights
    assert np.array_equal(again.hashed, weights.hashed)
    assert again.calibration == weights.calibration
