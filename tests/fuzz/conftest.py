"""The fuzz suite's proxy (the embedded default over loopback) and its reproducible settings.

Every fuzz test runs under `FUZZ`: derandomized (the same examples on every run, in CI and on a
laptop), no example database, no deadline (a loaded CI machine is slow, not wrong). The example
counts are chosen so the suite sends more than 2,000 generated requests in all (README,
Hardening).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, settings

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving

DEV_KEY = "tw-fuzz-key"
MASTER_KEY = "tw-fuzz-master"

# Requests sent by the fuzz tests, by test and status; reported at the end of the session.
SENT: Counter[str] = Counter()

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="session")
def fuzz_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    home = tmp_path_factory.mktemp("fuzz")
    env = {
        "TOKENWISE_HOME": str(home),
        "TOKENWISE_DEV_KEY": DEV_KEY,
        "TOKENWISE_MASTER_KEY": MASTER_KEY,
    }
    with serving(create_app(load_settings(None, env=env, cwd=home))) as server:
        yield server


@pytest.fixture(scope="session")
def base_url(fuzz_proxy: ServerThread) -> str:
    return f"http://127.0.0.1:{fuzz_proxy.port}"


@pytest.fixture(scope="session")
def http(base_url: str) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {DEV_KEY}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SENT:
        total = sum(SENT.values())
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(SENT.items()))
        terminalreporter.write_line(f"fuzz: {total} generated requests ({detail})")
