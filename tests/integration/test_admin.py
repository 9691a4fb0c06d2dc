"""The admin API and `tokenwise teams|keys|budgets`, against a real proxy and its SQLite store.

Isolation: only the master key opens `/admin/`; a team's key can neither read nor change any
team's keys, budgets or spend there, and it spends only its own team's budget. The command line
is checked on both paths: through a running server (`--url`, master key from the environment)
and on the store directly (where `--team` keeps a key command inside one team).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from router.api.admin import ROUTES
from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from tests.integration.configs import sim_models, write_config
from tests.processes import stop_process
from tests.redis_server import start as start_redis

MASTER = "tw-admin-master-key"
ASK = [{"role": "user", "content": "Say hello."}]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def config_file(sim: ServerThread, home: Path) -> Path:
    text = f"""
{sim_models(sim.port)}
auth:
  cache_seconds: 1
"""
    return write_config(home, text)


def env_for(home: Path, master: str | None = MASTER) -> dict[str, str]:
    env = {"TOKENWISE_HOME": str(home)}
    if master is not None:
        env["TOKENWISE_MASTER_KEY"] = master
    return env


@pytest.fixture
def proxy(config_file: Path, home: Path) -> Iterator[ServerThread]:
    settings = load_settings(str(config_file), env=env_for(home))
    with serving(create_app(settings)) as server:
        yield server


def admin(proxy: ServerThread, key: str | None = MASTER) -> httpx.Client:
    headers = {"authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.Client(base_url=f"http://127.0.0.1:{proxy.port}", headers=headers, timeout=10)


def cli(home: Path, config: Path, *args: str, master: str | None = None) -> tuple[int, Any, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
    env["TOKENWISE_HOME"] = str(home)
    if master is not None:
        env["TOKENWISE_MASTER_KEY"] = master
    done = subprocess.run(
        [sys.executable, "-m", "router", *args, "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = json.loads(done.stdout) if done.returncode == 0 else None
    return done.returncode, answer, done.stderr


def sdk(proxy: ServerThread, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{proxy.port}/v1", api_key=key, max_retries=0)


def test_teams_keys_and_budgets_through_the_admin_api(proxy: ServerThread) -> None:
    with admin(proxy) as http:
        created = http.post("/admin/teams", json={"name": "research", "policy": "economy"})
        assert created.status_code == 201 and created.json()["policy"] == "economy"
        made = http.post(
            "/admin/keys",
            json={
                "team": "research",
                "name": "ci",
                "models": ["sim-small"],
                "rpm": 100,
                "budget_usd": "0.5",
                "window": "day",
            },
        )
        assert made.status_code == 201
        key = made.json()
        listed = openai.OpenAI(
            base_url=f"http://127.0.0.1:{proxy.port}/v1", api_key=key["key"]
        ).models
        names = {m.id for m in listed.list()}
        assert "sim-small" in names and "sim-mini-reasoner" not in names  # its allow-list
        assert "auto" in names  # a virtual model routes among the models the key may use
        with pytest.raises(openai.NotFoundError):
            listed.retrieve("sim-mini-reasoner")
        before = len(http.get("/admin/keys", params={"team": "research"}).json()["keys"])
        for body, param in (
            ({"team": "research", "name": "typo", "colour": "red"}, "colour"),
            ({"team": "research", "name": "typo", "models": ["gpt-99"]}, "models"),
        ):
            refused = http.post("/admin/keys", json=body)
            assert refused.status_code == 400 and refused.json()["error"]["param"] == param
        after = http.get("/admin/keys", params={"team": "research"}).json()["keys"]
        assert len(after) == before  # a refused request made no key
        assert key["key"].startswith("tw-") and "key_sha256" not in key
        assert key["budget"]["scope"] == f"key:{key['key_id']}"
        shown = http.get(f"/admin/keys/{key['key_id']}").json()
        assert "key" not in shown and shown["budget"]["limit_usd"] == "0.5"
        budget = http.put(
            "/admin/budgets/team:research", json={"limit_usd": "2", "tz": "Asia/Tokyo"}
        )
        assert budget.status_code == 200 and budget.json()["tz"] == "Asia/Tokyo"
        bad = http.put("/admin/budgets/team:research", json={"limit_usd": "3", "windw": "day"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "windw"
        for amount in ("Infinity", "-inf", "NaN", "sNaN"):  # nothing to count a budget against
            endless = http.put("/admin/budgets/team:research", json={"limit_usd": amount})
            error = endless.json()["error"]
            assert endless.status_code == 400 and error["param"] == "limit_usd", endless.text
            assert error["code"] == "invalid_value" and "finite" in error["message"]
            keyed = http.post(
                "/admin/keys", json={"team": "research", "name": "x", "budget_usd": amount}
            )
            assert keyed.status_code == 400 and keyed.json()["error"]["param"] == "budget_usd"
        kept = http.get("/admin/budgets/team:research").json()
        assert kept["limit_usd"] == "2"  # the refused request changed nothing
        nowhere = http.put("/admin/budgets/research", json={"limit_usd": "2"})
        assert nowhere.status_code == 400 and nowhere.json()["error"]["param"] == "scope"
        assert "team:<name> or key:<key id>" in nowhere.json()["error"]["message"]
        with sdk(proxy, key["key"]) as client:
            client.chat.completions.create(model="sim-small", messages=ASK)
        spend = http.get("/admin/teams/research/spend").json()
        assert spend["ledger"]["requests"] == 1
        views = {v["scope"]: v for v in spend["budgets"]}
        assert set(views) == {"team:research", f"key:{key['key_id']}"}
        assert all(v["in_flight_usd"] == "0" for v in views.values())
        assert views["team:research"]["settled_usd"] == views[f"key:{key['key_id']}"]["settled_usd"]
        assert http.get("/admin/budgets", params={"team": "research"}).json()["budgets"]
        team = http.get("/admin/teams/research").json()
        assert [k["key_id"] for k in team["keys"]] == [key["key_id"]]
        assert http.delete("/admin/budgets/team:research").status_code == 200
        assert http.get("/admin/budgets/team:research").status_code == 404
        assert http.delete(f"/admin/keys/{key['key_id']}").json()["revoked"] is True
        with sdk(proxy, key["key"]) as client, pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="sim-small", messages=ASK)


def test_the_admin_api_refuses_everything_without_the_master_key(proxy: ServerThread) -> None:
    with admin(proxy) as http:
        http.post("/admin/teams", json={"name": "a"})
        team_key = http.post("/admin/keys", json={"team": "a"}).json()["key"]
    for key in (None, "wrong", team_key, MASTER + "x"):
        with admin(proxy, key) as http:
            for path, _, methods in ROUTES:
                concrete = path.format(name="a", key_id="k", scope="team:a")
                for method in methods:
                    resp = http.request(method, concrete, json={})
                    assert resp.status_code == 401, (key, method, concrete, resp.text)
                    assert resp.json()["error"]["code"] == "invalid_api_key"


def test_without_a_master_key_the_admin_api_is_off(config_file: Path, home: Path) -> None:
    settings = load_settings(str(config_file), env=env_for(home, master=None))
    with serving(create_app(settings)) as server, admin(server, "anything") as http:
        for path, _, methods in ROUTES:
            resp = http.request(methods[0], path.format(name="a", key_id="k", scope="team:a"))
            assert resp.status_code == 403
            assert resp.json()["error"]["code"] == "admin_disabled"


def test_a_teams_key_spends_only_its_own_team(proxy: ServerThread) -> None:
    with admin(proxy) as http:
        for team in ("a", "b"):
            http.post("/admin/teams", json={"name": team})
            http.put(f"/admin/budgets/team:{team}", json={"limit_usd": "1", "window": "day"})
        key_a = http.post("/admin/keys", json={"team": "a"}).json()["key"]
        with sdk(proxy, key_a) as client:
            for _ in range(3):
                client.chat.completions.create(model="sim-small", messages=ASK)
        spent = {t: http.get(f"/admin/teams/{t}/spend").json() for t in ("a", "b")}
    assert spent["a"]["ledger"]["requests"] == 3
    assert spent["b"]["ledger"] == {"since": None, "until": None, "requests": 0, "cost_usd": "0"}
    assert spent["b"]["budgets"][0]["settled_usd"] == "0"
    assert spent["a"]["budgets"][0]["settled_usd"] != "0"


def test_the_command_line_through_the_server_needs_the_master_key(
    proxy: ServerThread, home: Path, config_file: Path
) -> None:
    url = f"http://127.0.0.1:{proxy.port}/v1"
    code, answer, _ = cli(home, config_file, "teams", "create", "b", "--url", url, master=MASTER)
    assert code == 0 and answer["name"] == "b"
    code, made, _ = cli(
        home, config_file, "keys", "create", "--team", "b", "--url", url, master=MASTER
    )
    assert code == 0 and made["key"].startswith("tw-")
    with admin(proxy) as http:
        http.post("/admin/teams", json={"name": "a"})
        key_a = http.post("/admin/keys", json={"team": "a"}).json()["key"]
    for master in (key_a, None):
        for args in (
            ("keys", "list", "--team", "b"),
            ("budgets", "set", "team:b", "--limit", "100"),
            ("teams", "spend", "b"),
            ("keys", "revoke", made["key_id"]),
        ):
            code, _, err = cli(home, config_file, *args, "--url", url, master=master)
            assert code == 2, (args, master)
            assert ("401" in err) if master else ("TOKENWISE_MASTER_KEY" in err)
    with sdk(proxy, made["key"]) as client:
        assert client.chat.completions.create(model="sim-small", messages=ASK).choices


def test_the_command_line_on_the_store_and_a_running_server_agree(
    proxy: ServerThread, home: Path, config_file: Path
) -> None:
    assert cli(home, config_file, "teams", "create", "a")[0] == 0
    assert cli(home, config_file, "teams", "create", "b")[0] == 0
    code, key_a, _ = cli(home, config_file, "keys", "create", "--team", "a", "--rpm", "50")
    assert code == 0
    code, key_b, _ = cli(home, config_file, "keys", "create", "--team", "b")
    assert code == 0
    for args, words in (
        (("keys", "create", "--team", "b", "--models", "auto,gpt-99"), "No model named 'gpt-99'"),
        (("teams", "create", "c", "--policy", "lavish"), "No routing policy named 'lavish'"),
        (("budgets", "set", "b", "--limit", "1"), "names no team or key"),
        (("budgets", "set", "team:a", "--limit", "inf"), "--limit must be a finite decimal"),
        (("budgets", "set", "team:a", "--limit", "NaN"), "--limit must be a finite decimal"),
    ):
        code, _, err = cli(home, config_file, *args)
        assert code == 2 and words in err, (args, err)
    code, allowed, _ = cli(home, config_file, "keys", "create", "--team", "b", "--models", "auto")
    assert code == 0 and allowed["models"] == ["auto"]
    code, _, _ = cli(
        home,
        config_file,
        "budgets",
        "set",
        "team:a",
        "--limit",
        "0.25",
        "--window",
        "week",
        "--tz",
        "Europe/Paris",
    )
    assert code == 0
    with sdk(proxy, key_a["key"]) as client:  # made on the store, served by the server
        raw = client.chat.completions.with_raw_response.create(model="sim-small", messages=ASK)
        assert raw.headers["x-ratelimit-limit-requests"] == "50"
    code, spend, _ = cli(home, config_file, "teams", "spend", "a")
    assert code == 0 and spend["ledger"]["requests"] == 1
    # --team keeps a key command inside one team.
    code, _, err = cli(home, config_file, "keys", "revoke", key_b["key_id"], "--team", "a")
    assert code == 2 and "in team 'a'" in err
    code, _, err = cli(home, config_file, "keys", "show", key_b["key_id"], "--team", "a")
    assert code == 2
    code, listed, _ = cli(home, config_file, "keys", "list", "--team", "a")
    assert [k["key_id"] for k in listed["keys"]] == [key_a["key_id"]]
    assert all("key" not in k and "key_sha256" not in k for k in listed["keys"])
    code, revoked, _ = cli(home, config_file, "keys", "revoke", key_b["key_id"], "--team", "b")
    assert code == 0 and revoked["revoked"] is True
    deadline = time.monotonic() + 3
    with sdk(proxy, key_b["key"]) as client:
        while True:  # another process revoked it: refused within auth.cache_seconds
            try:
                client.chat.completions.create(model="sim-small", messages=ASK)
            except openai.AuthenticationError:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_without_virtual_models_the_command_line_refuses_what_the_server_does(
    sim: ServerThread, home: Path
) -> None:
    """A plain catalog (no routing roles): the server routes no virtual model and loads no
    policy, so `auto` in an allow-list and a team policy are refused on the store as they
    are by the admin API."""
    config = write_config(
        home,
        f"""
providers:
  sim: {{base_url: "http://127.0.0.1:{sim.port}/v1"}}
models:
  plain-small: {{provider: sim, upstream_id: sim-small, price: gpt-4.1-mini}}
""",
    )
    assert cli(home, config, "teams", "create", "a")[0] == 0
    code, _, err = cli(home, config, "keys", "create", "--team", "a", "--models", "auto")
    assert code == 2 and "No model named 'auto'" in err, err
    code, _, err = cli(home, config, "teams", "create", "b", "--policy", "economy")
    assert code == 2 and "No routing policy named 'economy'" in err, err
    assert "routes no virtual model" in err
    code, made, _ = cli(home, config, "keys", "create", "--team", "a", "--models", "plain-small")
    assert code == 0 and made["models"] == ["plain-small"]
    settings = load_settings(str(config), env=env_for(home))
    with serving(create_app(settings)) as server, admin(server) as http:
        keyed = http.post("/admin/keys", json={"team": "a", "name": "x", "models": ["auto"]})
        assert (
            keyed.status_code == 400 and "No model named 'auto'" in keyed.json()["error"]["message"]
        )
        team = http.post("/admin/teams", json={"name": "b", "policy": "economy"})
        assert team.status_code == 400
        assert "routes no virtual model" in team.json()["error"]["message"]


def test_creating_a_team_again_keeps_its_policy_unless_one_is_given(proxy: ServerThread) -> None:
    with admin(proxy) as http:
        assert http.post("/admin/teams", json={"name": "ops", "policy": "economy"}).is_success
        again = http.post("/admin/teams", json={"name": "ops"})
        assert again.json()["created"] is False and again.json()["policy"] == "economy"
        cleared = http.post("/admin/teams", json={"name": "ops", "policy": None})
        assert cleared.json()["policy"] is None


def test_a_key_that_would_be_born_expired_is_refused(
    proxy: ServerThread, home: Path, config_file: Path
) -> None:
    with admin(proxy) as http:
        http.post("/admin/teams", json={"name": "dated"})
        for moment in (-1, 1.0, time.time() - 5):
            made = http.post("/admin/keys", json={"team": "dated", "expires_at": moment})
            assert made.status_code == 400 and made.json()["error"]["param"] == "expires_at"
        later = http.post("/admin/keys", json={"team": "dated", "expires_at": time.time() + 60})
        assert later.status_code == 201
    for seconds in ("nan", "inf", "-5", "0"):
        code, _, err = cli(
            home, config_file, "keys", "create", "--team", "a", "--expires-in", seconds
        )
        assert code == 2 and "--expires-in must be a positive number" in err, (seconds, err)


def test_the_command_line_names_a_store_it_cannot_use(tmp_path: Path, config_file: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    for args in (("teams", "list"), ("keys", "list"), ("budgets", "list")):
        code, _, err = cli(tmp_path / "a-file", config_file, *args)
        assert code == 2 and "cannot use the store" in err and "Traceback" not in err, err
    for args in (("keys", "list", "--team", "ghost"), ("budgets", "list", "--team", "ghost")):
        code, _, err = cli(tmp_path / "home", config_file, *args)
        assert code == 2 and "No team named 'ghost'" in err, (args, err)


def test_admin_input_errors_name_their_own_field(proxy: ServerThread) -> None:
    with admin(proxy) as http:
        http.post("/admin/teams", json={"name": "fields"})
        cases = [
            ({"team": "fields", "budget_usd": "1", "window": "fortnight"}, "window"),
            ({"team": "fields", "budget_usd": "1", "tz": "Mars/Olympus"}, "tz"),
            ({"team": "fields", "budget_usd": "1", "tz": ""}, "tz"),
            ({"team": "fields", "name": "k" * 201}, "name"),
        ]
        for body, param in cases:
            made = http.post("/admin/keys", json=body)
            assert made.status_code == 400 and made.json()["error"]["param"] == param, made.text
        assert http.post("/admin/keys", json={"team": "fields", "name": "ci"}).status_code == 201
        twice = http.post("/admin/keys", json={"team": "fields", "name": "ci"})
        assert twice.status_code == 400 and "already has a key named 'ci'" in twice.text
        empty_tz = http.put("/admin/budgets/team:fields", json={"limit_usd": "1", "tz": ""})
        assert empty_tz.status_code == 400 and empty_tz.json()["error"]["param"] == "tz"
        huge = http.put("/admin/budgets/team:fields", json={"limit_usd": "1e999999"})
        assert huge.status_code == 400 and "from 0 to 1,000,000,000" in huge.text, huge.text
        assert http.get("/admin/budgets/team:fields").status_code == 404  # nothing was kept
        made = http.put("/admin/budgets/team:fields", json={"limit_usd": "1000000000"})
        assert made.status_code == 200, made.text
        assert http.get("/admin/teams/fields/spend").status_code == 200
    with admin(proxy, key="not-the-master") as http:
        refused = http.get("/admin/teams")
        assert refused.status_code == 401 and "not the master key" in refused.text


def test_reading_a_store_that_does_not_exist_creates_nothing(
    tmp_path: Path, config_file: Path
) -> None:
    fresh = tmp_path / "fresh-home"
    for args in (("teams", "list"), ("budgets", "list")):
        code, answer, err = cli(fresh, config_file, *args)
        assert code == 0 and answer == {args[0]: []}, (args, err)
    assert not fresh.exists(), "a read made the state folder"
    assert cli(fresh, config_file, "teams", "create", "t")[0] == 0  # a write does make it
    assert fresh.exists()


def test_the_admin_api_answers_503_while_the_store_is_down(
    sim: ServerThread, tmp_path: Path
) -> None:
    exe = shutil.which("redis-server")
    assert exe is not None, "redis-server is not on PATH (scripts/setup installs it)"
    redis, port = start_redis(exe, tmp_path)
    home = tmp_path / "home"
    config = write_config(
        home, f"store:\n  url: redis://127.0.0.1:{port}/0\n{sim_models(sim.port)}"
    )
    settings = load_settings(str(config), env=env_for(home))
    try:
        with serving(create_app(settings)) as server, admin(server) as http:
            assert http.post("/admin/teams", json={"name": "ops"}).status_code == 201
            stop_process(redis, timeout=5)
            for method, path in [("GET", "/admin/teams"), ("GET", "/admin/budgets")]:
                down = http.request(method, path)
                assert down.status_code == 503, down.text
                error = down.json()["error"]
                assert (
                    error["code"] == "overloaded" and "store cannot be reached" in error["message"]
                )
                assert down.headers["retry-after"] == "1"
    finally:
        stop_process(redis, timeout=5)
