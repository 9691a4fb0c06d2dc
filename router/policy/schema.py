"""The shape of a policy file (`policies/*.yaml`): every key, nothing else.

    virtual_model: auto                # the model name clients use for this policy
    description: ...
    reference: large                   # the counterfactual for savings: a role or a model
    floor: 0.7                         # minimum quality a candidate must declare ...
    floors: {hard: 0.9}                # ... per tier, overriding `floor`
    tiers:                             # every tier: trivial, simple, moderate, hard
      simple:
        any:                           # candidates for categories not listed
          - {model: small, effort: none, quality: 0.8}
        math:
          - {model: reasoner, effort: low, quality: 0.9, fallbacks: [large]}

A candidate names a role (mapped to a catalog model by `routing.roles` in the config) or a
catalog model, the effort to send, the quality it is trusted with (default 1.0), and the
models to fall back to, in order, when it fails (README, "Reliability"). The
decision keeps the candidates at or above the floor and picks the lowest expected cost.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["trivial", "simple", "moderate", "hard"]
TIERS: tuple[Tier, ...] = ("trivial", "simple", "moderate", "hard")
CATEGORIES = ("knowledge", "chat", "writing", "transform", "code", "math", "logic")
ANY = "any"
Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CandidateFile(Strict):
    model: str = Field(min_length=1)
    effort: Effort = "none"
    quality: float = Field(1.0, ge=0.0, le=1.0)
    fallbacks: tuple[str, ...] = ()  # roles or catalog models to try when this one fails


class PolicyFile(Strict):
    virtual_model: str = Field(min_length=1)
    description: str = ""
    reference: str = Field(min_length=1)
    floor: float = Field(0.0, ge=0.0, le=1.0)
    floors: dict[Tier, float] = {}
    tiers: dict[Tier, dict[str, tuple[CandidateFile, ...]]]
