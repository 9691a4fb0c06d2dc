"""`POST /v1/embeddings`: deterministic unit vectors in OpenAI's shape. Pure.

The vector of a text depends only on the seed, the model and the text, so equal inputs embed
equally across requests. `encoding_format: base64` (what the OpenAI SDK asks for by default)
returns little-endian float32, as OpenAI does.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from collections.abc import Mapping
from typing import Any

import orjson

from router.errors import InvalidRequest
from router.sim.words import estimate_tokens

DEFAULT_DIMENSIONS = 256
MAX_DIMENSIONS = 3072
MAX_INPUTS = 2048


def embeddings_body(body: Mapping[str, Any], model: str, seed: int) -> dict[str, Any]:
    texts = _inputs(body.get("input"))
    dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
    if isinstance(dimensions, bool) or not isinstance(dimensions, int):
        raise InvalidRequest("'dimensions' must be an integer.", param="dimensions")
    if not 1 <= dimensions <= MAX_DIMENSIONS:
        raise InvalidRequest(
            f"'dimensions' must be from 1 to {MAX_DIMENSIONS}.", param="dimensions"
        )
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise InvalidRequest(
            "'encoding_format' must be 'float' or 'base64'.", param="encoding_format"
        )
    data = []
    for index, text in enumerate(texts):
        vector = _vector(text, model, seed, dimensions)
        value: Any = vector
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(_tokens(item) for item in _items(body.get("input")))
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _inputs(raw: Any) -> list[str]:
    """Strings as they are; token-id arrays as their JSON text (deterministic all the same)."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(item, int) and not isinstance(item, bool) for item in raw):
            return [orjson.dumps(raw).decode()]  # one input, however many ids
        if len(raw) <= MAX_INPUTS and all(isinstance(item, str | list) for item in raw):
            return [item if isinstance(item, str) else orjson.dumps(item).decode() for item in raw]
    raise InvalidRequest(
        f"'input' must be a string or a non-empty array of at most {MAX_INPUTS} inputs.",
        param="input",
    )


def _items(raw: Any) -> list[Any]:
    """The inputs as given (`_inputs` has checked them): one array of ids is one input."""
    if isinstance(raw, list) and not all(isinstance(item, int) for item in raw):
        return raw
    return [raw]


def _tokens(item: Any) -> int:
    """An input's tokens: a text estimated, an array of token ids counted, as an upstream
    bills them."""
    return len(item) if isinstance(item, list) else estimate_tokens(item)


def _vector(text: str, model: str, seed: int, dimensions: int) -> list[float]:
    key = hashlib.blake2b(f"{seed}\x00{model}\x00{text}".encode(), digest_size=16).digest()
    rng = random.Random(key)
    raw = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]
