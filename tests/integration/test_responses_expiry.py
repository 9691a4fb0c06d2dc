"""Response ids and kept conversations leave the store after `responses.ttl_seconds`.

A proxy with a one-second ttl over the SQLite store (the embedded default's) and the simulator:
a translated conversation (chat-only `sim-small`, `responses.conversations: true`) and a native
response (`sim-large-reasoner` speaks Responses) are remembered, then forgotten: `GET` is a 404,
`previous_response_id` a 400, and their rows are gone from the SQLite file, not merely ignored.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from router.localserver import ServerThread
from tests.integration.conftest import DEV_KEY, url
from tests.integration.served import serve_config
from tests.integration.test_responses import config_text


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("expiry")


@pytest.fixture(scope="module")
def proxy(sim: ServerThread, home: Path) -> Iterator[ServerThread]:
    text = config_text(sim.port, native_small=False, native_large=True, conversations=True)
    text += "  ttl_seconds: 1\n"
    with serve_config(home, text, {"TOKENWISE_DEV_KEY": DEV_KEY}) as server:
        yield server


def kept(home: Path) -> set[str]:
    """The response namespaces the SQLite file holds."""
    (db,) = home.rglob("tokenwise.db")
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT DISTINCT namespace FROM state WHERE namespace LIKE 'r%'")
        return {row[0] for row in found}


def gone(http: httpx.Client, response_id: str, polls: int = 200) -> bool:
    """True once GET /v1/responses/{id} is a 404 (looked at every 50 ms, for 10 s at most)."""
    for _ in range(polls):
        if http.get(f"responses/{response_id}").status_code == 404:
            return True
        time.sleep(0.05)
    return False


def test_responses_are_forgotten_after_the_ttl(proxy: ServerThread, home: Path) -> None:
    client = openai.OpenAI(base_url=url(proxy), api_key=DEV_KEY, max_retries=0)
    headers = {"authorization": f"Bearer {DEV_KEY}"}
    with client, httpx.Client(base_url=url(proxy), headers=headers, timeout=30) as http:
        first = client.responses.create(model="sim-small", input="Name a colour.")
        second = client.responses.create(
            model="sim-small", input="And another?", previous_response_id=first.id
        )
        native = client.responses.create(model="sim-large-reasoner", input="hi")
        assert client.responses.retrieve(second.id).id == second.id
        assert http.get(f"responses/{native.id}").status_code == 200  # passed through
        held = {f"responses:{r.id}" for r in (first, second, native)}
        assert held <= kept(home)

        assert gone(http, second.id) and gone(http, native.id)
        with pytest.raises(openai.BadRequestError) as refused:
            client.responses.create(
                model="sim-small", input="Once more?", previous_response_id=second.id
            )
        assert refused.value.code == "previous_response_not_found"
        # Any later write purges what expired: only the newest response is left in the file.
        latest = client.responses.create(model="sim-small", input="A fresh start.")
        assert kept(home) == {f"responses:{latest.id}"}
