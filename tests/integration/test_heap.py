"""The start-up heap is kept out of garbage collections while the app runs (router/heap.py)."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx

from router.app import create_app
from router.config.load import load_settings
from router.localserver import serving


def test_the_start_up_heap_is_frozen_while_the_app_runs_and_thawed_after(home: Path) -> None:
    gc.unfreeze()
    settings = load_settings(None, env={"TOKENWISE_HOME": str(home)}, cwd=home)
    with serving(create_app(settings)) as server:
        assert httpx.get(f"http://127.0.0.1:{server.port}/readyz").status_code == 200
        frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the classifier, the config, the metrics: everything start-up made
    assert gc.get_freeze_count() == 0
