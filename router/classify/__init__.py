"""Difficulty classifier: request body -> category, tier, difficulty, effort, confidence.

classifier = load_classifier()          # once, at start-up (reads the shipped artifact)
result = classifier.classify(body)      # pure, sub-millisecond
"""

from router.classify.artifact import ArtifactError
from router.classify.labels import CATEGORIES, EFFORTS, TIERS, Classification
from router.classify.model import Classifier, load_classifier

__all__ = [
    "CATEGORIES",
    "EFFORTS",
    "TIERS",
    "ArtifactError",
    "Classification",
    "Classifier",
    "load_classifier",
]
