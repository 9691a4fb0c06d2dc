"""Budget fixtures: settings from a real config file, a memory store with a team and a key."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from router.budget.service import BudgetService
from router.config.load import Settings, load_settings
from router.ledger.writer import LedgerWriter
from router.metering.tokens import default_counter
from router.store.base import KeyRecord, TeamRecord
from router.store.memory import MemoryStore

CONFIG = """
providers:
  sim: {base_url: "http://127.0.0.1:9/v1"}
models:
  sim-small: {provider: sim}
  sim-mini-reasoner:
    provider: sim
    reasoning: {efforts: [low, medium, high]}
"""

MakeSettings = Callable[[str], Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    def make(extra: str = "") -> Settings:
        path = tmp_path / "tokenwise.yaml"
        path.write_text(CONFIG + extra, encoding="utf-8")
        env = {"TOKENWISE_HOME": str(tmp_path / "home"), "TOKENWISE_DEV_KEY": "tw-dev"}
        return load_settings(str(path), env=env)

    return make


@pytest.fixture
async def memory() -> AsyncIterator[MemoryStore]:
    store = await MemoryStore().open()
    await store.put_team(TeamRecord("research", 0.0))
    digest = hashlib.sha256(b"k1").hexdigest()
    await store.put_key(KeyRecord("k1", "research", digest, None, 0.0))
    yield store
    await store.close()


StartService = Callable[[Settings], Awaitable[BudgetService]]


@pytest.fixture
async def start_service(memory: MemoryStore) -> AsyncIterator[StartService]:
    """Starts budget services over the shared memory store; closes them after the test."""
    made: list[tuple[BudgetService, LedgerWriter]] = []

    async def start(settings: Settings) -> BudgetService:
        ledger = LedgerWriter(memory, settings.home / "spool")
        await ledger.start()
        service = BudgetService(memory, settings, default_counter(), ledger, CollectorRegistry())
        await service.start()
        made.append((service, ledger))
        return service

    yield start
    for service, ledger in made:
        await service.close()
        await ledger.close()
