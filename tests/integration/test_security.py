"""Security properties, against a real proxy in front of a hostile upstream (hostile_upstream.py).

- A planted provider key never leaves: not in response bodies or headers, error bodies, streams,
  logs (DEBUG, every logger), /metrics, nor any file under TOKENWISE_HOME (SQLite store, ledger
  spool, budget journals), even when the upstream echoes it back.
- The client's own key and its prompts are not logged.
- A client cannot choose the upstream: no body field or header naming a URL is honoured.
- /metrics can require a token; /admin/ requires the master key; a key is confined to its models.
- An upstream answer past server.response_limit_bytes is a clean 502 (in-band error in a stream).
- TLS to upstreams verifies certificates: a self-signed upstream is refused with a 502 naming
  TLS, and accepted when the provider names its CA bundle (providers.<name>.ca_bundle).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openai
import pytest

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from tests.integration.hostile_upstream import create_hostile_app

DEV_KEY = "tw-security-dev-key"
MASTER = "tw-security-master-key"
TEAM_KEY = "tw-security-team-a-key"
BROKE_KEY = "tw-security-team-broke-key"
METRICS_TOKEN = "tw-security-metrics-token"
MODELS = (
    "plain",
    "echo-401",
    "echo-200",
    "echo-ok",
    "echo-stream",
    "huge",
    "huge-chunked",
    "huge-stream",
)
# Also served as `native-<name>`: the same upstream model, with its Responses API and legacy
# completions declared (test_security_responses.py); the names above are chat-only.
NATIVE = ("plain", "echo-401", "echo-200", "echo-ok", "echo-stream")
PROMPT = "the secret plan is codeword-7f3a9"
Answers = TypeVar("Answers")


def config_text(upstream_port: int, extra_provider: str = "") -> str:
    models = "\n".join(f"  {m}: {{provider: hostile, price: sim-small}}" for m in MODELS)
    models += "".join(
        f"\n  native-{m}: {{provider: hostile, price: sim-small, upstream_id: {m},"
        " apis: [chat, responses, completions]}"
        for m in NATIVE
    )
    return f"""
server:
  response_limit_bytes: 200000
  metrics_token_env: TW_METRICS_TOKEN
providers:
  hostile:
    base_url: http://127.0.0.1:{upstream_port}/v1
    api_key_env: TW_PLANTED_KEY
{extra_provider}
models:
{models}
auth:
  keys:
    - {{team: dev, name: dev, key_env: TW_DEV_KEY}}
    - {{team: a, name: a, key_env: TW_TEAM_A_KEY, models: [plain]}}
    - {{team: broke, name: broke, key_env: TW_BROKE_KEY}}
responses:
  conversations: true
budgets:
  limits:
    - {{scope: "team:a", limit_usd: 5}}
    - {{scope: "team:broke", limit_usd: 0}}
"""


def env_for(home: Path, planted: str) -> dict[str, str]:
    return {
        "TOKENWISE_HOME": str(home),
        "TW_DEV_KEY": DEV_KEY,
        "TOKENWISE_MASTER_KEY": MASTER,
        "TW_PLANTED_KEY": planted,
        "TW_TEAM_A_KEY": TEAM_KEY,
        "TW_BROKE_KEY": BROKE_KEY,
        "TW_METRICS_TOKEN": METRICS_TOKEN,
    }


def seen(upstream: ServerThread) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = upstream.server.config.app.state.seen
    return found


def start_proxy(tmp: Path, upstream: ServerThread, planted: str) -> tuple[Any, Path]:
    home = tmp / "home"
    config = tmp / "tokenwise.yaml"
    config.write_text(config_text(upstream.port), encoding="utf-8")
    settings = load_settings(str(config), env=env_for(home, planted))
    return serving(create_app(settings)), home


def with_planted_key(
    tmp: Path,
    upstream: ServerThread,
    caplog: pytest.LogCaptureFixture,
    exchange: Callable[[str], Answers],
) -> tuple[str, Answers, dict[Path, bytes], Path]:
    """`exchange` run against a proxy holding a new provider key, every log record kept: the
    key, the answers, the proxy's home as it was while serving (spool, journals) and its path."""
    planted = "sk-planted-" + secrets.token_hex(16)
    caplog.set_level(logging.DEBUG)
    running, home = start_proxy(tmp, upstream, planted)
    with running as proxy:
        answers = exchange(f"http://127.0.0.1:{proxy.port}")
        during = snapshot(home)
    return planted, answers, during, home


def captured(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> dict[str, str]:
    """What was logged (every record) and printed so far, by where."""
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    return {"logs": logs, "output": "".join(capfd.readouterr())}


def assert_never_shown(
    planted: str, texts: Iterable[tuple[str, str]], files: Iterable[tuple[Path, bytes]]
) -> None:
    """Neither the key nor its tail in any text (by where), nor the key in any file."""
    for where, text in texts:
        assert planted not in text, where
        assert planted[-12:] not in text, where  # not even a tail of it
    for path, data in files:
        assert planted.encode() not in data, path


def exchange_everything(base: str) -> list[str]:
    """Every kind of answer the proxy gives, as text (status, headers, body)."""
    out: list[str] = []
    dev = {"authorization": f"Bearer {DEV_KEY}"}
    ask = [{"role": "user", "content": PROMPT}]

    def keep(r: httpx.Response) -> httpx.Response:
        out.append(f"{r.status_code} {dict(r.headers)} {r.text}")
        return r

    with httpx.Client(base_url=base, timeout=30) as http:
        for model in MODELS:
            keep(
                http.post(
                    "/v1/chat/completions", headers=dev, json={"model": model, "messages": ask}
                )
            )
            body = {"model": model, "messages": ask, "stream": True}
            keep(http.post("/v1/chat/completions", headers=dev, json=body))
        for model in ("plain", "echo-401"):
            keep(http.post("/v1/embeddings", headers=dev, json={"model": model, "input": PROMPT}))
        keep(http.post("/v1/chat/completions", headers=dev, json={"model": "plain"}))
        keep(http.post("/v1/chat/completions", headers=dev, content=b"{bad json"))
        keep(http.post("/v1/chat/completions", json={"model": "plain", "messages": ask}))
        keep(http.get("/v1/models", headers=dev))
        keep(http.get("/v1/nowhere", headers=dev))
        for path in ("/healthz", "/readyz", "/openapi.json"):
            keep(http.get(path))
        keep(http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}))
        master = {"authorization": f"Bearer {MASTER}"}
        for path in ("/admin/spend", "/admin/teams", "/admin/keys", "/admin/budgets"):
            keep(http.get(path, headers=master))
    # The official SDK too, streaming and not, including the error it raises.
    with openai.OpenAI(base_url=f"{base}/v1", api_key=DEV_KEY, max_retries=0) as client:
        out.append(client.chat.completions.create(model="plain", messages=ask).model_dump_json())
        with pytest.raises(openai.AuthenticationError) as raised:
            client.chat.completions.create(model="echo-401", messages=ask)
        out.append(str(raised.value))
    return out


def test_a_planted_provider_key_never_leaves(
    tmp_path: Path,
    hostile: ServerThread,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    planted, answers, during, home = with_planted_key(
        tmp_path, hostile, caplog, exchange_everything
    )
    # The key was really in play: the upstream received it on every call.
    calls = seen(hostile)
    assert calls and all(c["headers"].get("authorization") == f"Bearer {planted}" for c in calls)
    # ... and the upstream echoed it back, in errors, streams and answers.
    assert any("[redacted]" in a for a in answers)

    output = captured(caplog, capfd)
    after = snapshot(home)  # the store after shutdown
    assert any(p.name == "tokenwise.db" for p in after)
    assert any("spool" in p.parts for p in during)
    texts = [("answers", "\n".join(answers)), *output.items()]
    assert_never_shown(planted, texts, [*during.items(), *after.items()])
    # The client's key (its Authorization header) and its prompts are not logged either.
    for secret in (DEV_KEY, MASTER, PROMPT):
        assert secret not in output["logs"] and secret not in output["output"]


def snapshot(home: Path) -> dict[Path, bytes]:
    return {p.relative_to(home): p.read_bytes() for p in home.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, hostile: ServerThread) -> Iterator[str]:
    running, _ = start_proxy(tmp_path_factory.mktemp("security"), hostile, "sk-module-key")
    with running as server:
        yield f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def trap() -> Iterator[ServerThread]:
    """Where a client would like the proxy to send its request."""
    with serving(create_hostile_app()) as server:
        yield server


def test_a_client_cannot_choose_the_upstream(proxy: str, trap: ServerThread) -> None:
    there = f"http://127.0.0.1:{trap.port}/v1"
    fields = {"base_url": there, "api_base": there, "url": there, "endpoint": there}
    headers = {
        "authorization": f"Bearer {DEV_KEY}",
        "x-base-url": there,
        "x-tokenwise-base-url": there,
        "x-upstream-url": there,
        "x-forwarded-host": f"127.0.0.1:{trap.port}",
        "x-tokenwise-provider": "trap",
        "openai-base-url": there,
    }
    body = {"model": "plain", "messages": [{"role": "user", "content": "hi"}], **fields}
    answer = httpx.post(f"{proxy}/v1/chat/completions", json=body, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["x-tokenwise-provider"] == "hostile"
    assert seen(trap) == []


def test_metrics_can_require_a_token(proxy: str) -> None:
    assert httpx.get(f"{proxy}/metrics").status_code == 401
    for key in (DEV_KEY, TEAM_KEY, MASTER):
        answer = httpx.get(f"{proxy}/metrics", headers={"authorization": f"Bearer {key}"})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_api_key"
    ok = httpx.get(f"{proxy}/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200 and "tokenwise_" in ok.text


def test_admin_endpoints_need_the_master_key(proxy: str) -> None:
    for key in (None, DEV_KEY, TEAM_KEY, METRICS_TOKEN):
        headers = {"authorization": f"Bearer {key}"} if key else {}
        for method, path in (
            ("GET", "/admin/teams"),
            ("GET", "/admin/spend"),
            ("PUT", "/admin/budgets/team:a"),
            ("POST", "/admin/keys"),
            ("POST", "/admin/pricing/reload"),
        ):
            answer = httpx.request(method, f"{proxy}{path}", headers=headers, json={})
            assert answer.status_code == 401, (key, path, answer.text)


def assert_refused(proxy: str, key: str, path: str, body: Any, status: int, code: str) -> None:
    """POST `body` to `path` with `key`: refused with `status` and the error `code`."""
    answer = httpx.post(f"{proxy}{path}", headers={"authorization": f"Bearer {key}"}, json=body)
    assert answer.status_code == status, (path, answer.text)
    assert answer.json()["error"]["code"] == code


def test_a_team_key_is_confined_to_its_models(proxy: str) -> None:
    team = {"authorization": f"Bearer {TEAM_KEY}"}
    ask = [{"role": "user", "content": "hi"}]
    ok = httpx.post(
        f"{proxy}/v1/chat/completions", headers=team, json={"model": "plain", "messages": ask}
    )
    assert ok.status_code == 200
    for path, body in (
        ("/v1/chat/completions", {"model": "echo-ok", "messages": ask}),
        ("/v1/embeddings", {"model": "echo-ok", "input": "hi"}),  # regression: was not checked
    ):
        assert_refused(proxy, TEAM_KEY, path, body, 403, "model_not_allowed")
    # Its spend is its own team's: visible to the master key under team a only.
    spend = httpx.get(
        f"{proxy}/admin/teams/a/spend", headers={"authorization": f"Bearer {MASTER}"}
    ).json()
    assert "a" in str(spend)


def test_a_team_key_is_confined_to_its_budget(proxy: str) -> None:
    ask = [{"role": "user", "content": "hi"}]
    for path, body in (
        ("/v1/chat/completions", {"model": "plain", "messages": ask}),
        ("/v1/embeddings", {"model": "plain", "input": "hi"}),  # regression: was not reserved
    ):
        assert_refused(proxy, BROKE_KEY, path, body, 429, "budget_exceeded")


def test_an_answer_past_the_response_limit_is_a_clean_502(proxy: str) -> None:
    dev = {"authorization": f"Bearer {DEV_KEY}"}
    ask = [{"role": "user", "content": "hi"}]
    for model in ("huge", "huge-chunked"):  # the size declared, or known only once read
        answer = httpx.post(
            f"{proxy}/v1/chat/completions", headers=dev, json={"model": model, "messages": ask}
        )
        assert answer.status_code == 502, model
        assert answer.json()["error"]["code"] == "response_too_large", model
    body = {"model": "huge-stream", "messages": ask, "stream": True}
    with httpx.stream("POST", f"{proxy}/v1/chat/completions", headers=dev, json=body) as streamed:
        raw = streamed.read()
    blocks = raw.strip().split(b"\n\n")  # the error event, then the end every stream has
    assert b"response_too_large" in blocks[-2] and blocks[-1] == b"data: [DONE]"


# --- TLS ---------------------------------------------------------------------------------------


def tls_proxy(tmp: Path, port: int, ca_bundle: Path | None) -> Any:
    bundle = f"\n    ca_bundle: {ca_bundle}" if ca_bundle else ""
    config = tmp / "tokenwise.yaml"
    config.write_text(
        f"""
providers:
  tls:
    base_url: https://127.0.0.1:{port}/v1{bundle}
models:
  plain: {{provider: tls, price: sim-small}}
  native-plain:
    {{provider: tls, price: sim-small, upstream_id: plain, apis: [chat, responses, completions]}}
""",
        encoding="utf-8",
    )
    env = {"TOKENWISE_HOME": str(tmp / "home"), "TOKENWISE_DEV_KEY": DEV_KEY}
    return serving(create_app(load_settings(str(config), env=env)))


def ask_plain(port: int) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        headers={"authorization": f"Bearer {DEV_KEY}"},
        json={"model": "plain", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )


def test_an_upstream_with_an_untrusted_certificate_is_refused(
    tmp_path: Path, https_upstream: ServerThread
) -> None:
    with tls_proxy(tmp_path, https_upstream.port, None) as proxy:
        answer = ask_plain(proxy.port)
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error["code"] == "upstream_tls_error" and "TLS" in error["message"]


def test_a_provider_ca_bundle_makes_it_trusted(
    tmp_path: Path, https_upstream: ServerThread, self_signed: tuple[Path, Path]
) -> None:
    with tls_proxy(tmp_path, https_upstream.port, self_signed[0]) as proxy:
        answer = ask_plain(proxy.port)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "hello"


def test_a_missing_ca_bundle_does_not_boot(tmp_path: Path) -> None:
    from router.config.load import ConfigError

    config = tmp_path / "tokenwise.yaml"
    config.write_text(
        "providers:\n  tls: {base_url: 'https://x.test/v1', ca_bundle: /nonexistent.pem}\n"
        "models:\n  plain: {provider: tls, price: sim-small}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"providers\.tls\.ca_bundle"):
        load_settings(str(config), env={"TOKENWISE_HOME": str(tmp_path)})


def test_no_secret_in_a_repr(tmp_path: Path) -> None:
    config = tmp_path / "tokenwise.yaml"
    config.write_text(config_text(1), encoding="utf-8")
    settings = load_settings(str(config), env=env_for(tmp_path, "sk-in-a-repr"))
    text = repr(settings) + repr(list(settings.models.values()))
    for secret in ("sk-in-a-repr", MASTER, METRICS_TOKEN, DEV_KEY):
        assert secret not in text
    assert os.environ.get("TW_PLANTED_KEY") is None


def test_an_upstream_cookie_never_reaches_another_request(
    tmp_path: Path, hostile: ServerThread
) -> None:
    # By host name: HTTP clients keep no cookies for bare IP addresses anyway.
    config = tmp_path / "tokenwise.yaml"
    by_name = config_text(hostile.port).replace("http://127.0.0.1:", "http://localhost:")
    config.write_text(by_name, encoding="utf-8")
    settings = load_settings(str(config), env=env_for(tmp_path / "home", "sk-cookie-test"))
    ask = [{"role": "user", "content": "hi"}]
    dev = {"authorization": f"Bearer {DEV_KEY}"}
    with serving(create_app(settings)) as server, httpx.Client(timeout=30) as http:
        for user in ("alice", "bob"):
            body = {"model": "plain", "messages": ask, "user": user}
            url = f"http://127.0.0.1:{server.port}/v1/chat/completions"
            assert http.post(url, headers=dev, json=body).status_code == 200
    calls = [c for c in seen(hostile) if c["body"].get("user") in ("alice", "bob")]
    assert [c["body"]["user"] for c in calls] == ["alice", "bob"]
    # The upstream set a session cookie on alice's answer; bob's request does not carry it.
    assert all("cookie" not in c["headers"] for c in calls)
