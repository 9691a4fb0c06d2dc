"""App factory for multi-worker serving: each worker loads the settings from its environment.

`tokenwise serve --workers N` hands uvicorn the import string of `app_from_env`; the parent has
already validated the config, and passes its path and the development key through the
environment so every worker serves the same catalog and accepts the same key.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from router.app import create_app
from router.config.load import load_settings


def app_from_env() -> FastAPI:
    return create_app(load_settings(os.environ.get("TOKENWISE_CONFIG") or None))
