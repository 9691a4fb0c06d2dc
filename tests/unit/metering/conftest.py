"""A small price table for the metering tests, loaded through `load_pricing` like the real one.

The figures are those of pricing.json (reasoning-params.md section 0.4), except
`grok-4.cached_input`, a test-only figure: no cited source gives xAI's cache-read price.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from router.metering.pricing import PriceTable, load_pricing

SOURCE = {"source": "https://example.test/prices", "date": "2026-11-22"}

TEST_MODELS: dict[str, dict[str, Any]] = {
    "o4-mini": {"input": 1.10, "cached_input": 0.275, "output": 4.40},
    "gpt-5": {
        "input": 1.25,
        "cached_input": 0.125,
        "output": 10.00,
        "batch": {"input": 0.625, "output": 5.00},
        "fees": {"per_web_search": 0.01},
    },
    "claude-sonnet-4-5": {
        "input": 3.00,
        "cached_input": 0.30,
        "cache_write": {"5m": 3.75, "1h": 6.00},
        "output": 15.00,
        "batch": {
            "input": 1.50,
            "cached_input": 0.15,
            "cache_write": {"5m": 1.875, "1h": 3.00},
            "output": 7.50,
        },
        "long_context": [
            {
                "above_input_tokens": 200000,
                "input": 6.00,
                "cached_input": 0.60,
                "cache_write": {"5m": 7.50, "1h": 12.00},
                "output": 22.50,
            }
        ],
        "fees": {"per_web_search": 0.01},
    },
    "claude-short-write-only": {
        "input": 3.00,
        "cached_input": 0.30,
        "cache_write": {"5m": 3.75},
        "output": 15.00,
    },
    "gemini-2.5-flash": {"input": 0.30, "cached_input": 0.03, "output": 2.50},
    "deepseek-reasoner": {"input": 0.28, "cached_input": 0.028, "output": 0.42},
    "gpt-oss-120b": {
        "providers": {
            "openrouter": {"input": 0.039, "output": 0.19},
            "groq": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
        }
    },
    "llama-3.1-8b": {"input": 0.05, "output": 0.08},
    "grok-4": {"input": 3.00, "cached_input": 0.75, "output": 15.00},
}


def write_price_file(path: Path, models: dict[str, dict[str, Any]]) -> Path:
    body = {
        "version": 1,
        "currency": "USD",
        "unit": "per_million_tokens",
        "models": {key: {**SOURCE, **entry} for key, entry in models.items()},
    }
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def prices(tmp_path: Path) -> PriceTable:
    return load_pricing(str(write_price_file(tmp_path / "prices.json", TEST_MODELS)))
