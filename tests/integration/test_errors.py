"""Every failure answers in OpenAI's error shape, with a status, type, code and useful message."""

from __future__ import annotations

import gzip
import json
import re
import socket
import time
from typing import Any

import httpx
import openai
import orjson
import pytest

from router.localserver import ServerThread
from tests.integration.conftest import DEV_KEY, url

AUTH = {"authorization": f"Bearer {DEV_KEY}"}
ASK = [{"role": "user", "content": "What is 2 + 2?"}]


def post(server: ServerThread, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return httpx.post(
        f"{url(server)}/chat/completions",
        content=content,
        headers={"content-type": "application/json", **AUTH, **(headers or {})},
        timeout=30,
    )


def error_of(resp: httpx.Response, status: int, type_: str, code: str | None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["x-request-id"]
    error: dict[str, Any] = resp.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == type_
    assert error["code"] == code
    assert "Traceback" not in error["message"]
    return error


@pytest.mark.parametrize(
    ("body", "param", "code", "words"),
    [
        (b'{"model": "sim-small", "messages": [', None, "invalid_json", "JSON"),
        (b"\xff\xfe not utf-8", None, "invalid_json", "it is not UTF-8 text"),
        (gzip.compress(b'{"model": "sim-small"}'), None, "invalid_json", "gzip-compressed"),
        (b"", None, "invalid_json", "empty"),
        (b"[1, 2]", None, "invalid_json", "JSON object"),
        ({"messages": ASK}, "model", "missing_required_parameter", "'model'"),
        ({"model": 42, "messages": ASK}, "model", "invalid_type", "'model'"),
        ({"model": "", "messages": ASK}, "model", "invalid_value", "the string is empty"),
        ({"model": "sim-small"}, "messages", "missing_required_parameter", "'messages'"),
        ({"model": "sim-small", "messages": "hi"}, "messages", "invalid_type", "array"),
        ({"model": "sim-small", "messages": []}, "messages", "invalid_value", "empty"),
        ({"model": "sim-small", "messages": [1]}, "messages[0]", "invalid_type", "object"),
        ({"model": "sim-small", "messages": [{}]}, "messages[0].role", None, "role"),
        (
            {"model": "sim-small", "messages": [{"role": "user"}]},
            "messages[0].content",
            "missing_required_parameter",
            "a user message needs",
        ),
        (
            {"model": "auto", "messages": [*ASK, {"role": "tool", "content": None}]},
            "messages[1].content",
            "missing_required_parameter",
            "'messages[1].content'",
        ),
        ({"model": "sim-small", "messages": ASK, "stream": "yes"}, "stream", "invalid_type", ""),
        (
            b'{"model": "sim-small", "messages": [{"role": "user", "content": "hi"}], '
            b'"max_tokens": 99999999999999999999999}',
            "max_tokens",
            "invalid_value",
            "out of range",
        ),
        (
            {"model": "sim-small", "messages": ASK, "stream_options": {"include_usage": "yes"}},
            "stream_options.include_usage",
            "invalid_type",
            "boolean",
        ),
        (
            {"model": "sim-small", "messages": [*ASK, {"role": "tool", "content": "4"}]},
            "messages[1].tool_call_id",
            "missing_required_parameter",
            "a tool message answers the call",
        ),
        (
            {"model": "sim-small", "messages": ASK, "tool_choice": "required"},
            "tool_choice",
            "invalid_value",
            "no 'tools' are given",
        ),
        (
            {"model": "sim-small", "messages": ASK, "stream_options": {"include_usage": True}},
            "stream_options",
            "invalid_value",
            "only allowed when 'stream' is enabled",
        ),
    ],
)
def test_bad_requests_are_400_naming_the_problem(
    proxy: ServerThread, body: Any, param: str | None, code: str | None, words: str
) -> None:
    resp = post(proxy, body)
    error = error_of(resp, 400, "invalid_request_error", code or resp.json()["error"]["code"])
    assert error["param"] == param
    assert words in error["message"]


def test_unknown_model_is_404(proxy: ServerThread) -> None:
    error = error_of(
        post(proxy, {"model": "gpt-99", "messages": ASK}),
        404,
        "invalid_request_error",
        "model_not_found",
    )
    assert "gpt-99" in error["message"] and error["param"] == "model"
    huge = post(proxy, {"model": "m" * 100_000, "messages": ASK})
    error = error_of(huge, 404, "invalid_request_error", "model_not_found")
    assert "m" * 200 + "..." in error["message"] and len(huge.content) < 1000


@pytest.mark.parametrize(
    "headers", [{}, {"authorization": "Bearer wrong-key"}, {"authorization": "Basic abc"}]
)
def test_missing_or_wrong_key_is_401(proxy: ServerThread, headers: dict[str, str]) -> None:
    resp = httpx.post(
        f"{url(proxy)}/chat/completions",
        json={"model": "sim-small", "messages": ASK},
        headers=headers,
    )
    error = error_of(resp, 401, "authentication_error", "invalid_api_key")
    assert "key" in error["message"].lower()


def test_sdk_sees_authentication_error(proxy: ServerThread) -> None:
    client = openai.OpenAI(base_url=url(proxy), api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="sim-small", messages=ASK)  # type: ignore[arg-type]


def test_body_over_limit_is_413(strict_proxy: ServerThread) -> None:
    big = {"model": "sim-small", "messages": [{"role": "user", "content": "x" * 70_000}]}
    error = error_of(post(strict_proxy, big), 413, "invalid_request_error", "request_too_large")
    assert "65536" in error["message"]


def test_a_body_that_stops_coming_is_408_and_frees_its_slot(strict_proxy: ServerThread) -> None:
    services = strict_proxy.server.config.app.state.services
    with socket.create_connection(("127.0.0.1", strict_proxy.port), timeout=5) as sock:
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\n"
            f"Authorization: {AUTH['authorization']}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"model":')  # 9 of the 1,000 bytes, then nothing
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            part = sock.recv(65536)
            if not part:
                break
            answer += part
    waited = time.monotonic() - started
    head_part, _, payload = answer.partition(b"\r\n\r\n")
    assert head_part.startswith(b"HTTP/1.1 408"), answer
    error = json.loads(payload)["error"]
    assert error["code"] == "request_timeout" and error["type"] == "invalid_request_error"
    assert "9 of 1000 bytes came" in error["message"] and "body_timeout_seconds" in error["message"]
    assert 0.4 < waited < 4, waited
    deadline = time.monotonic() + 5  # the slot goes once the answer is written
    while services.reliability.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert services.reliability.in_flight == 0


def test_upstream_slow_first_byte_is_504(strict_proxy: ServerThread) -> None:
    body = {"model": "sim-small", "messages": ASK, "sim": {"fault": {"slow_first_byte_ms": 2000}}}
    started = time.monotonic()
    error = error_of(post(strict_proxy, body), 504, "timeout_error", "upstream_timeout")
    assert time.monotonic() - started < 1.8
    assert "0.6 s" in error["message"]


@pytest.mark.parametrize(
    ("fault", "words"),
    [("malformed_json", "not valid JSON"), ("error_body_200", "answered 200 with an error")],
    ids=["malformed_json", "error_body_200"],
)
def test_upstream_broken_answer_is_502(strict_proxy: ServerThread, fault: str, words: str) -> None:
    body = {"model": "sim-small", "messages": ASK, "sim": {"fault": {fault: True}}}
    error = error_of(post(strict_proxy, body), 502, "upstream_error", "upstream_error")
    assert words in error["message"]


def test_a_cut_answer_is_a_502_in_plain_words(strict_proxy: ServerThread) -> None:
    body = {"model": "sim-small", "messages": ASK, "sim": {"fault": {"disconnect_after_chunks": 1}}}
    error = error_of(post(strict_proxy, body), 502, "upstream_error", "upstream_error")
    assert "broke the connection" in error["message"]
    assert "Error" not in error["message"] and "400" not in error["message"]


def test_upstream_error_status_passes_through(strict_proxy: ServerThread) -> None:
    fault = {"status": 503, "message": "simulated overload, try later"}
    body = {"model": "sim-small", "messages": ASK, "sim": {"fault": fault}}
    resp = post(strict_proxy, body)
    assert resp.status_code == 503
    error = resp.json()["error"]
    assert error["message"] == "simulated overload, try later"
    assert (error["type"], error["code"]) == ("server_error", None)  # the upstream's, null too
    assert resp.headers["x-tokenwise-model"] == "sim-small"


def test_connection_refused_is_502(strict_proxy: ServerThread) -> None:
    error = error_of(
        post(strict_proxy, {"model": "ghost", "messages": ASK}),
        502,
        "upstream_error",
        "upstream_error",
    )
    assert "Could not connect" in error["message"]


def stream_events(server: ServerThread, fault: dict[str, Any]) -> list[Any]:
    """The stream's data events; a failure's must come right after the cost comment."""
    body = {"model": "sim-small", "messages": ASK, "stream": True, "sim": {"fault": fault}}
    with httpx.stream(
        "POST", f"{url(server)}/chat/completions", json=body, headers=AUTH, timeout=30
    ) as resp:
        assert resp.status_code == 200
        text = resp.read().decode()
    blocks = text.strip().split("\n\n")
    assert blocks[-1] == "data: [DONE]", blocks[-3:]  # every stream ends with it, failed too
    if '"error"' in blocks[-2]:
        assert blocks[-3].startswith(": tokenwise {"), blocks[-4:]
        assert float(orjson.loads(blocks[-3].removeprefix(": tokenwise "))["cost_usd"]) > 0
    events = [e for e in blocks if e.startswith("data: ")]
    return [e[6:] if e == "data: [DONE]" else orjson.loads(e[6:]) for e in events]


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        (
            {"disconnect_after_chunks": 3},
            "upstream_error",
            "broke the connection mid-stream (its answer ended before the length it announced)",
        ),
        ({"malformed_sse": True}, "upstream_error", "malformed SSE"),
        ({"no_done": True}, "upstream_error", "no [DONE]"),
        ({"idle_after_chunks": 2, "idle_ms": 3000}, "upstream_timeout", "sent nothing for 0.6 s"),
    ],
)
def test_stream_failing_after_start_ends_with_error_event(
    strict_proxy: ServerThread, fault: dict[str, Any], code: str, words: str
) -> None:
    events = stream_events(strict_proxy, fault)
    assert any("choices" in e for e in events[:-1]), "content chunks arrived before the failure"
    assert events[-1] == "[DONE]"
    last = events[-2]
    assert last["error"]["code"] == code
    assert words in last["error"]["message"]


def test_sdk_raises_on_a_stream_that_fails(strict_proxy: ServerThread) -> None:
    client = openai.OpenAI(base_url=url(strict_proxy), api_key=DEV_KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="sim-small",
        messages=ASK,  # type: ignore[arg-type]
        stream=True,
        extra_body={"sim": {"fault": {"disconnect_after_chunks": 2}}},
    )
    with pytest.raises(openai.APIError, match="broke the connection"):
        for _ in stream:
            pass


def test_unknown_path_and_method(proxy: ServerThread) -> None:
    base = f"http://127.0.0.1:{proxy.port}"
    missing = error_of(httpx.get(f"{base}/v1/nothing"), 404, "invalid_request_error", "unknown_url")
    named = re.findall(r"/v1/[a-z/]+", missing["message"].split("serves", 1)[1])
    assert len(named) == 5
    for path in named:  # every path the message offers is one the proxy answers
        method = "GET" if path == "/v1/models" else "POST"
        answer = httpx.request(
            method, f"{base}{path}", headers={"Authorization": f"Bearer {DEV_KEY}"}
        )
        assert answer.status_code not in (404, 405), (path, answer.text)
    error_of(
        httpx.get(f"{base}/v1/chat/completions"),
        405,
        "invalid_request_error",
        "method_not_allowed",
    )


def test_a_trailing_slash_is_an_unknown_path_not_a_redirect(proxy: ServerThread) -> None:
    base = f"http://127.0.0.1:{proxy.port}"
    for path in ("/v1/chat/completions/", "/v1/embeddings/", "/v1/responses/", "/healthz/"):
        answer = httpx.post(
            f"{base}{path}",
            headers={"Authorization": f"Bearer {DEV_KEY}", "Host": "elsewhere.example"},
            json={},
        )
        error = error_of(answer, 404, "invalid_request_error", "unknown_url")
        assert path in error["message"] and "location" not in answer.headers


def test_client_disconnect_leaves_no_task_or_connection(strict_proxy: ServerThread) -> None:
    services = strict_proxy.server.config.app.state.services
    connector = services.upstream._session.connector
    baseline = len(strict_proxy.tasks())
    body = {
        "model": "sim-small",
        "messages": ASK,
        "stream": True,
        "sim": {"completion_tokens": 400, "inter_chunk_ms": 100},
    }
    with httpx.stream(
        "POST", f"{url(strict_proxy)}/chat/completions", json=body, headers=AUTH
    ) as resp:
        lines = resp.iter_lines()
        assert next(lines).startswith("data: ")
        assert len(connector._acquired) == 1  # the upstream stream is open
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if len(strict_proxy.tasks()) <= baseline and not connector._acquired:
            break
        time.sleep(0.05)
    assert len(connector._acquired) == 0, "the upstream connection outlived the client"
    assert len(strict_proxy.tasks()) <= baseline, "a task outlived the client"


def test_every_error_answer_to_a_model_call_is_counted(proxy: ServerThread) -> None:
    """Refusals never reach a model, so tokenwise_requests_total cannot count them: each error
    answer is counted by endpoint, status and code."""

    def counted(status: int, code: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{proxy.port}/metrics", timeout=10).text
        wanted = (
            f'tokenwise_error_responses_total{{code="{code}",endpoint="chat",status="{status}"}}'
        )
        found = [line for line in text.splitlines() if line.startswith(wanted)]
        return float(found[0].rsplit(" ", 1)[1]) if found else 0.0

    cases: list[tuple[Any, dict[str, str] | None, int, str]] = [
        ({"model": "gpt-99", "messages": ASK}, None, 404, "model_not_found"),
        ({"model": 42, "messages": ASK}, None, 400, "invalid_type"),
        (
            {"model": "sim-small", "messages": ASK},
            {"authorization": "Bearer no"},
            401,
            "invalid_api_key",
        ),
    ]
    for body, headers, status, code in cases:
        before = counted(status, code)
        answer = httpx.post(
            f"{url(proxy)}/chat/completions", json=body, headers=headers or AUTH, timeout=10
        )
        assert answer.status_code == status, answer.text
        assert counted(status, code) == before + 1, (status, code)
    before = counted(502, "upstream_error")  # a stream's error event, after it started
    events = stream_events(proxy, {"disconnect_after_chunks": 3})
    assert events[-2]["error"]["code"] == "upstream_error"
    deadline = time.monotonic() + 5  # counted as the stream closes, after its last byte
    while counted(502, "upstream_error") == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counted(502, "upstream_error") == before + 1
