"""The security properties of `/v1/responses` and `/v1/completions` (test_security.py has chat's
and embeddings'), against a real proxy in front of the hostile upstream that echoes its key:

- a planted provider key never reaches the client from a Responses upstream (`native-*`
  models: JSON, events, errors, `GET /v1/responses/{id}`), from a chat upstream the proxy
  translates for (JSON, events, errors, and the conversation it keeps in the store and serves
  again), nor from legacy completions (JSON, stream, errors); nor any log or file;
- a key is confined to its models and budgets on these endpoints too;
- TLS: the provider's `ca_bundle` is used here too (a self-signed upstream is refused without
  it and trusted with it, on every new endpoint).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from router.localserver import ServerThread
from tests.integration.hostile_upstream import RESPONSE_ID
from tests.integration.test_security import (
    BROKE_KEY,
    DEV_KEY,
    NATIVE,
    PROMPT,
    TEAM_KEY,
    assert_never_shown,
    assert_refused,
    captured,
    seen,
    snapshot,
    start_proxy,
    tls_proxy,
    with_planted_key,
)

REDACTED = "[redacted]"
DEV = {"authorization": f"Bearer {DEV_KEY}"}
ECHOING = ("echo-401", "echo-200", "echo-ok")


def streamed(http: httpx.Client, path: str, body: dict[str, object]) -> str:
    with http.stream("POST", path, headers=DEV, json={**body, "stream": True}) as answer:
        return f"{answer.status_code} {dict(answer.headers)} {answer.read().decode()}"


def shown(answer: httpx.Response) -> str:
    return f"{answer.status_code} {dict(answer.headers)} {answer.text}"


def exchange_responses(base: str) -> dict[str, str]:
    """Every kind of answer the new endpoints give, by what was asked (status, headers, body)."""
    out: dict[str, str] = {}
    with httpx.Client(base_url=base, timeout=30) as http:
        for model in [*NATIVE, *(f"native-{m}" for m in NATIVE)]:
            body = {"model": model, "input": PROMPT}
            out[f"responses {model}"] = shown(http.post("/v1/responses", headers=DEV, json=body))
            out[f"responses stream {model}"] = streamed(http, "/v1/responses", body)
        for model in ("native-plain", "native-echo-401", "native-echo-ok", "native-echo-stream"):
            body = {"model": model, "prompt": PROMPT}
            out[f"completions {model}"] = shown(
                http.post("/v1/completions", headers=DEV, json=body)
            )
            out[f"completions stream {model}"] = streamed(http, "/v1/completions", body)
        # The stored answers: a Responses upstream's (passed through, which echoes), and a
        # conversation the proxy kept itself for a chat upstream (served from the store).
        native = http.post(
            "/v1/responses", headers=DEV, json={"model": "native-echo-ok", "input": "x"}
        )
        assert native.json()["id"] == RESPONSE_ID
        out["stored native"] = shown(http.get(f"/v1/responses/{RESPONSE_ID}", headers=DEV))
        kept = http.post("/v1/responses", headers=DEV, json={"model": "echo-ok", "input": "x"})
        out["stored translated"] = shown(
            http.get(f"/v1/responses/{kept.json()['id']}", headers=DEV)
        )
    with openai.OpenAI(base_url=f"{base}/v1", api_key=DEV_KEY, max_retries=0) as client:
        for model in ("echo-ok", "native-echo-ok"):
            out[f"sdk responses {model}"] = client.responses.create(
                model=model, input=PROMPT
            ).output_text
            events = client.responses.create(model=model, input=PROMPT, stream=True)
            deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
            out[f"sdk responses stream {model}"] = "".join(deltas)
        completion = client.completions.create(model="native-echo-ok", prompt=PROMPT)
        out["sdk completions"] = completion.choices[0].text
        with pytest.raises(openai.AuthenticationError) as raised:
            client.responses.create(model="native-echo-401", input=PROMPT)
        out["sdk responses 401"] = str(raised.value)
    return out


def test_a_planted_provider_key_never_leaves_responses_or_completions(
    tmp_path: Path,
    hostile: ServerThread,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    planted, answers, during, home = with_planted_key(tmp_path, hostile, caplog, exchange_responses)
    calls = seen(hostile)
    paths = {c["path"] for c in calls}
    assert {"/v1/responses", "/v1/completions", "/v1/chat/completions"} <= paths
    assert f"/v1/responses/{RESPONSE_ID}" in paths
    assert all(c["headers"].get("authorization") == f"Bearer {planted}" for c in calls)
    # Every echoing answer came back, with the key blanked, through every path.
    echoed = [
        *(f"responses {m}" for m in ECHOING),
        *(f"responses native-{m}" for m in ECHOING),
        "responses stream echo-stream",
        "responses stream native-echo-ok",
        "responses stream native-echo-stream",
        "completions native-echo-401",
        "completions native-echo-ok",
        "completions stream native-echo-ok",
        "stored native",
        "stored translated",
        "sdk responses echo-ok",
        "sdk responses native-echo-ok",
        "sdk responses stream native-echo-ok",
        "sdk completions",
        "sdk responses 401",
    ]
    for name in echoed:
        assert REDACTED in answers[name], (name, answers[name])
    output = captured(caplog, capfd)
    files = [*during.items(), *snapshot(home).items()]
    assert any(p.name == "tokenwise.db" for p, _ in files)
    # The conversation kept in the store is clean too.
    assert_never_shown(planted, [*answers.items(), *output.items()], files)


def test_a_chat_only_model_has_no_legacy_completions(tmp_path: Path, hostile: ServerThread) -> None:
    running, _ = start_proxy(tmp_path, hostile, "sk-unused")
    with running as proxy:
        answer = httpx.post(
            f"http://127.0.0.1:{proxy.port}/v1/completions",
            headers=DEV,
            json={"model": "plain", "prompt": "hi"},
        )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unsupported_api"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, hostile: ServerThread) -> Iterator[str]:
    running, _ = start_proxy(tmp_path_factory.mktemp("security"), hostile, "sk-module-key")
    with running as server:
        yield f"http://127.0.0.1:{server.port}"


def test_a_team_key_is_confined_to_its_models_and_budget(proxy: str) -> None:
    team = {"authorization": f"Bearer {TEAM_KEY}"}
    assert httpx.post(
        f"{proxy}/v1/responses", headers=team, json={"model": "plain", "input": "hi"}
    ).is_success
    for path, body in (
        ("/v1/responses", {"model": "native-plain", "input": "hi"}),
        ("/v1/completions", {"model": "native-plain", "prompt": "hi"}),
    ):
        assert_refused(proxy, TEAM_KEY, path, body, 403, "model_not_allowed")
        assert_refused(proxy, BROKE_KEY, path, body, 429, "budget_exceeded")


# --- TLS ---------------------------------------------------------------------------------------


def ask_everything(port: int) -> dict[str, httpx.Response]:
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, headers=DEV, timeout=30) as http:
        return {
            "translated": http.post("/v1/responses", json={"model": "plain", "input": "hi"}),
            "native": http.post("/v1/responses", json={"model": "native-plain", "input": "hi"}),
            "completions": http.post(
                "/v1/completions", json={"model": "native-plain", "prompt": "hi"}
            ),
        }


def test_the_new_endpoints_refuse_an_untrusted_certificate(
    tmp_path: Path, https_upstream: ServerThread
) -> None:
    with tls_proxy(tmp_path, https_upstream.port, None) as proxy:
        answers = ask_everything(proxy.port)
    for name, answer in answers.items():
        assert answer.status_code == 502, (name, answer.text)
        assert answer.json()["error"]["code"] == "upstream_tls_error", name


def test_the_new_endpoints_use_the_provider_ca_bundle(
    tmp_path: Path, https_upstream: ServerThread, self_signed: tuple[Path, Path]
) -> None:
    with tls_proxy(tmp_path, https_upstream.port, self_signed[0]) as proxy:
        answers = ask_everything(proxy.port)
        stored = httpx.get(
            f"http://127.0.0.1:{proxy.port}/v1/responses/{RESPONSE_ID}", headers=DEV, timeout=30
        )
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.text)
    assert answers["native"].json()["output"][0]["content"][0]["text"] == "hello"
    assert answers["translated"].json()["output"][0]["content"][0]["text"] == "hello"
    assert answers["completions"].json()["choices"][0]["text"] == "hello"
    assert stored.status_code == 200, stored.text  # GET passes through over the same trust
