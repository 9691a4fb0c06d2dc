"""Real servers on loopback: the proxy (uvicorn) in front of the simulator (uvicorn)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import openai
import pytest

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from router.sim.app import create_sim_app
from router.sim.config import load_sim_config
from tests.integration.hostile_upstream import create_hostile_app
from tests.processes import free_port

DEV_KEY = "tw-integration-key"


@pytest.fixture(scope="session")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """The embedded default: no config; the proxy starts its own simulator in-process."""
    home = tmp_path_factory.mktemp("home")
    env = {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": DEV_KEY}
    settings = load_settings(None, env=env, cwd=home)
    with serving(create_app(settings)) as server:
        yield server


@pytest.fixture(scope="session")
def sim() -> Iterator[ServerThread]:
    """A simulator of its own, for proxies configured by a test."""
    with serving(create_sim_app(load_sim_config(None))) as server:
        yield server


@pytest.fixture(scope="session")
def strict_proxy(
    sim: ServerThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    """A proxy with short timeouts and a small body limit, over the shared simulator."""
    home = tmp_path_factory.mktemp("strict")
    config = home / "tokenwise.yaml"
    config.write_text(
        f"""
server:
  body_limit_bytes: 65536
  body_timeout_seconds: 0.5
  timeouts: {{connect: 2, first_byte: 0.6, idle: 0.6, total: 5}}
reliability:  # its tests fail upstreams on purpose, one after another: no breaker opens here
  breaker: {{min_requests: 100000}}
providers:
  sim:
    base_url: http://127.0.0.1:{sim.port}/v1
  dead:
    base_url: http://127.0.0.1:{closed_port()}/v1
models:
  sim-small:
    provider: sim
  sim-mini-reasoner:
    provider: sim
    reasoning: {{efforts: [low, medium, high]}}
  ghost:
    provider: dead
    price: sim-small
""",
        encoding="utf-8",
    )
    env = {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": DEV_KEY}
    with serving(create_app(load_settings(str(config), env=env))) as server:
        yield server


def url(server: ServerThread) -> str:
    return f"http://127.0.0.1:{server.port}/v1"


@pytest.fixture
def client(proxy: ServerThread) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=url(proxy), api_key=DEV_KEY, max_retries=0) as client:
        yield client


@pytest.fixture
async def aclient(proxy: ServerThread) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=url(proxy), api_key=DEV_KEY, max_retries=0)
    yield client
    await client.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    return free_port()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no system trusts, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def hostile() -> Iterator[ServerThread]:
    """The hostile upstream (hostile_upstream.py) over plain HTTP."""
    with serving(create_hostile_app()) as server:
        yield server


@pytest.fixture(scope="module")
def https_upstream(self_signed: tuple[Path, Path]) -> Iterator[ServerThread]:
    cert, key = self_signed
    with serving(create_hostile_app(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        yield server
