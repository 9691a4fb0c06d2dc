"""The provider test catalog (tests/fixtures/providers/catalog.yaml), loaded through the real
config path: schema validation, reasoning blocks, dialect defaults, prices."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from router.config.load import ModelSpec, load_settings

FIXTURES = Path(__file__).parents[2] / "fixtures" / "providers"
CATALOG = FIXTURES / "catalog.yaml"
TEST_KEY = "test-key-123"


@functools.cache
def catalog() -> Mapping[str, ModelSpec]:
    env = {"TEST_KEY": TEST_KEY, "TOKENWISE_DEV_KEY": "tw-test", "TOKENWISE_HOME": "/nonexistent"}
    return load_settings(str(CATALOG), env=env).models
