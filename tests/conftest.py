"""Shared fixtures: a clean environment, and the proxy served over loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.redis_server"]

DEV_KEY = "tw-test-dev-key"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TOKENWISE_* variable from the caller's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("TOKENWISE_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def public_data() -> Path:
    """The public per-query data (../shared/data or $TOKENWISE_DATA_DIR); tests that read it are
    skipped, by name, on a checkout that has none beside it."""
    from router.classify.public_data import default_data_dir

    found = default_data_dir()
    if not (found / "token-economy" / "prompts.jsonl").is_file():
        pytest.skip(f"public data not found at {found} (set TOKENWISE_DATA_DIR)")
    return found


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def write_config(tmp_path: Path) -> Iterator[object]:
    def write(text: str, name: str = "tokenwise.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    yield write
