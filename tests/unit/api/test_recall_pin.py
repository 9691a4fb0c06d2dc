"""Finding where a response id lives: unknown ids, and a store that does not answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.api.stored_responses import recall_pin
from router.errors import Overloaded
from router.responses.memory import Pin, remember
from router.store.sqlite import SQLiteStore


async def test_a_kept_id_is_found_and_an_unknown_one_is_not(tmp_path: Path) -> None:
    store = await SQLiteStore(tmp_path / "store.db").open()
    try:
        await remember(store, "resp_1", Pin("sim-small", "research"), 60)
        assert await recall_pin(store, "resp_1") == Pin("sim-small", "research")
        assert await recall_pin(store, "resp_2") is None
    finally:
        await store.close()


async def test_a_store_that_does_not_answer_is_a_503(tmp_path: Path) -> None:
    store = await SQLiteStore(tmp_path / "store.db").open()
    await store.close()
    with pytest.raises(Overloaded) as caught:
        await recall_pin(store, "resp_1")
    assert caught.value.status == 503
    assert "not answering" in caught.value.message
