"""The simulator served over loopback (uvicorn in a thread), and clients that talk to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from router.localserver import serving
from router.sim.app import create_sim_app
from router.sim.catalog import default_catalog
from router.sim.config import SimConfig, build_sim_config

SEED = 7
# Zero latency keeps the suite quick; latency tests ask for it per request (`sim` overrides).
FAST = {"ttft_ms": 0, "inter_chunk_ms": 0}


def fast_config() -> SimConfig:
    models: dict[str, Any] = {model.name: dict(FAST) for model in default_catalog()}
    models["sim-flaky"] = {**FAST, "base": "sim-small", "fault": {"status": 503, "fail_first": 1}}
    models["sim-dropper"] = {**FAST, "base": "sim-small", "fault": {"disconnect_after_chunks": 2}}
    return build_sim_config({"seed": SEED, "models": models})


@pytest.fixture(scope="session")
def sim_url() -> Iterator[str]:
    with serving(create_sim_app(fast_config())) as server:
        yield f"http://127.0.0.1:{server.port}/v1"


@pytest.fixture(scope="session")
def client(sim_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=sim_url, api_key="sim-key", max_retries=0, timeout=10)


@pytest.fixture
def raw(sim_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim_url, timeout=10) as http:
        yield http


@pytest.fixture
def sim_log(raw: httpx.Client) -> Any:
    """Entries of `GET /sim/log` (served at the root, beside /v1), the newest last."""

    def read(limit: int | None = None) -> list[dict[str, Any]]:
        url = str(raw.base_url).removesuffix("/v1/") + "/sim/log"
        params = {"limit": limit} if limit else {}
        entries: list[dict[str, Any]] = raw.get(url, params=params).json()["data"]
        return entries

    return read


def ask(text: str = "What is the capital of France?") -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]
