"""The price file: the shipped one is valid and honest; a bad one is refused with file and key."""

from __future__ import annotations

import copy
import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from router.metering.pricing import PriceNotFound, PriceTable, PricingError, load_pricing
from tests.unit.metering.conftest import TEST_MODELS, write_price_file

REPO_PRICING = Path(__file__).resolve().parents[3] / "pricing.json"
SIMULATED = {
    "sim-small": ("gpt-4.1-nano", None),
    "sim-mini-reasoner": ("qwen3-30b-a3b", "openrouter"),
    "sim-large-reasoner": ("deepseek-reasoner", None),
    "sim-think": ("qwen3-235b-a22b-thinking-2507", "fireworks"),
    "sim-harmony": ("gpt-oss-120b", "groq"),
    "sim-plain-usage": ("llama-3.1-8b-instant", "groq"),
    "sim-effort-deaf": ("gpt-oss-20b", "groq"),
}


def refused(tmp_path: Path, models: dict[str, dict[str, Any]]) -> PricingError:
    path = write_price_file(tmp_path / "bad-prices.json", models)
    with pytest.raises(PricingError) as caught:
        load_pricing(str(path))
    assert str(path) in str(caught.value)
    return caught.value


def test_shipped_file_loads_when_no_path_is_given() -> None:
    table = load_pricing()
    assert len(table) >= 40
    assert table.path.endswith("pricing.json")
    assert table.lookup("o4-mini").rates.output == Decimal("4.40")


def test_every_shipped_entry_is_sourced_and_dated() -> None:
    table = load_pricing(str(REPO_PRICING))
    for key in table:
        entry = table.entry(key)
        prices = [entry.default] if entry.default else []
        prices += list(entry.providers.values())
        assert prices, key
        for price in prices:
            assert price.source.startswith("https://"), (key, price.provider)
            assert datetime.date(2025, 1, 1) <= price.date <= datetime.date(2026, 12, 31)


@pytest.mark.parametrize("sim", sorted(SIMULATED))
def test_simulated_models_copy_the_model_they_imitate(sim: str) -> None:
    table = load_pricing(str(REPO_PRICING))
    price = table.lookup(sim)
    real_key, real_provider = SIMULATED[sim]
    assert (price.imitates, price.imitates_provider) == (real_key, real_provider)
    real = table.lookup(real_key, real_provider)
    assert price.rates == real.rates
    assert price.batch == real.batch
    assert (price.source, price.date) == (real.source, real.date)


def test_lookup_prefers_the_provider_block_and_names_what_is_missing(prices: PriceTable) -> None:
    assert prices.lookup("gpt-oss-120b", "groq").rates.input == Decimal("0.15")
    assert prices.lookup("gpt-oss-120b", "openrouter").rates.input == Decimal("0.039")
    assert prices.lookup("o4-mini", "azure").provider is None  # own prices serve any host
    with pytest.raises(PriceNotFound, match=r"'gpt-oss-120b' at provider 'cerebras'.*groq"):
        prices.lookup("gpt-oss-120b", "cerebras")
    with pytest.raises(KeyError) as caught:
        prices.lookup("no-such-model")
    assert str(caught.value).startswith("no price for model 'no-such-model'")
    assert prices.has("o4-mini") and not prices.has("gpt-oss-120b")


def test_unknown_keys_are_refused_with_their_path(tmp_path: Path) -> None:
    models = copy.deepcopy(TEST_MODELS)
    models["o4-mini"]["inptu"] = 1.0
    models["gpt-oss-120b"]["providers"]["groq"]["cache_write"] = {"24h": 1.0}
    error = refused(tmp_path, models)
    assert any(p.startswith("models.o4-mini.inptu: unknown key") for p in error.problems)
    assert any(
        p.startswith("models.gpt-oss-120b.providers.groq.cache_write.24h: unknown key")
        for p in error.problems
    )


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    path = write_price_file(tmp_path / "p.json", TEST_MODELS)
    body = json.loads(path.read_text())
    body["currency_note"] = "x"
    path.write_text(json.dumps(body))
    with pytest.raises(PricingError, match=r"p\.json: currency_note: unknown key"):
        load_pricing(str(path))


def test_negative_prices_are_refused_with_their_path(tmp_path: Path) -> None:
    models = copy.deepcopy(TEST_MODELS)
    models["gpt-5"]["batch"]["output"] = -5
    models["claude-sonnet-4-5"]["long_context"][0]["cache_write"]["1h"] = -0.01
    error = refused(tmp_path, models)
    assert "models.gpt-5.batch.output: price must be >= 0 (got -5)" in error.problems
    assert (
        "models.claude-sonnet-4-5.long_context[0].cache_write.1h: price must be >= 0 (got -0.01)"
        in error.problems
    )


def test_missing_prices_are_named(tmp_path: Path) -> None:
    models = copy.deepcopy(TEST_MODELS)
    del models["o4-mini"]["output"]
    del models["gpt-5"]["batch"]["input"]
    del models["gpt-oss-120b"]["providers"]["groq"]["input"]
    models["grok-4"]["cached_input"] = None
    error = refused(tmp_path, models)
    assert set(error.problems) >= {
        "models.o4-mini.output: missing price",
        "models.gpt-5.batch.input: missing price",
        "models.gpt-oss-120b.providers.groq.input: missing price",
        "models.grok-4.cached_input: missing price",
    }


def test_source_and_date_are_required(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    body = {
        "version": 1,
        "currency": "USD",
        "unit": "per_million_tokens",
        "models": {"m": {"input": 1, "output": 2, "date": "22/11/2026"}},
    }
    path.write_text(json.dumps(body))
    with pytest.raises(PricingError) as caught:
        load_pricing(str(path))
    assert "models.m.source: missing" in caught.value.problems
    assert "models.m.date: must be a YYYY-MM-DD date ('22/11/2026')" in caught.value.problems


def test_non_numeric_price_and_wrong_unit_are_refused(tmp_path: Path) -> None:
    path = write_price_file(tmp_path / "p.json", {"m": {"input": "1.0", "output": True}})
    body = json.loads(path.read_text())
    body["unit"] = "per_thousand_tokens"
    path.write_text(json.dumps(body))
    with pytest.raises(PricingError) as caught:
        load_pricing(str(path))
    assert set(caught.value.problems) >= {
        "models.m.input: price must be a number (got '1.0')",
        "models.m.output: price must be a number (got True)",
        "unit: must be 'per_million_tokens' (got 'per_thousand_tokens')",
    }


def test_imitation_must_name_a_real_entry(tmp_path: Path) -> None:
    models = copy.deepcopy(TEST_MODELS)
    models["sim-x"] = {"input": 1, "output": 1, "imitates": "gpt-9"}
    models["sim-y"] = {"input": 1, "output": 1, "imitates": "gpt-oss-120b"}
    error = refused(tmp_path, models)
    assert "models.sim-x.imitates: names no other price entry ('gpt-9')" in error.problems
    assert (
        "models.sim-y.imitates_provider: 'gpt-oss-120b' is priced per provider only"
        in error.problems
    )


def test_broken_json_and_duplicate_keys_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1,\n "models": {,}}')
    with pytest.raises(PricingError, match=r"broken\.json: line 2 column 13"):
        load_pricing(str(broken))
    twice = tmp_path / "twice.json"
    twice.write_text('{"version": 1, "version": 1}')
    with pytest.raises(PricingError, match=r"twice\.json: duplicate key 'version'"):
        load_pricing(str(twice))
    with pytest.raises(PricingError, match=r"absent\.json: cannot read"):
        load_pricing(str(tmp_path / "absent.json"))


def test_pricing_error_is_a_value_error() -> None:
    assert issubclass(PricingError, ValueError)
    assert issubclass(PriceNotFound, KeyError)


def test_long_context_tiers_are_sorted_by_bound(tmp_path: Path) -> None:
    models = {
        "m": {
            "input": 1,
            "output": 2,
            "long_context": [
                {"above_input_tokens": 500000, "input": 3, "output": 4},
                {"above_input_tokens": 200000, "input": 2, "output": 3},
            ],
        }
    }
    table = load_pricing(str(write_price_file(tmp_path / "p.json", models)))
    bounds = [tier.above_input_tokens for tier in table.lookup("m").long_context]
    assert bounds == [200000, 500000]
