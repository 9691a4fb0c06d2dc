"""Each fault knob, observed by a real client over loopback."""

from __future__ import annotations

import itertools
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import openai
import orjson
import pytest

from tests.unit.sim.conftest import ask


def chat(fault: dict[str, Any], stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "sim-small",
        "messages": ask(f"fault test {sorted(fault.items())}"),
        "sim": {"fault": fault, "completion_tokens": 64},
        **extra,
    }
    if stream:
        body["stream"] = True
    return body


def events(text: str) -> list[str]:
    return [line.removeprefix("data: ") for line in text.split("\n\n") if line]


def test_status_fault(raw: httpx.Client, client: openai.OpenAI) -> None:
    response = raw.post(
        "/chat/completions", json=chat({"status": 503, "message": "down", "retry_after_s": 2})
    )
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert response.json() == {
        "error": {"message": "down", "type": "server_error", "param": None, "code": None}
    }
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model="sim-small", messages=ask(), extra_body={"sim": {"fault": {"status": 429}}}
        )
    assert caught.value.code == "rate_limit_exceeded"


def test_fail_first_then_succeed(raw: httpx.Client) -> None:
    body = chat({"status": 502, "fail_first": 2})
    statuses = [raw.post("/chat/completions", json=body).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    flaky = {"model": "sim-flaky", "messages": ask("flaky model")}
    assert [raw.post("/chat/completions", json=flaky).status_code for _ in range(2)] == [503, 200]


def test_stream_disconnect_is_an_incomplete_read(raw: httpx.Client) -> None:
    received = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        raw.stream(
            "POST", "/chat/completions", json=chat({"disconnect_after_chunks": 3}, True)
        ) as r,
    ):
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                received.append(line)
    assert len(received) == 3 and "data: [DONE]" not in received


def test_disconnect_drops_the_tcp_connection(sim_url: str) -> None:
    """Below any HTTP library: the server closes the socket before the terminating chunk."""
    address = urlsplit(sim_url)
    payload = orjson.dumps(chat({"disconnect_after_chunks": 2}, True))
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert body.count(b"data: ") == 2
    assert not body.endswith(b"0\r\n\r\n") and b"[DONE]" not in body


def test_model_level_disconnect(raw: httpx.Client) -> None:
    body = {"model": "sim-dropper", "messages": ask(), "stream": True}
    with pytest.raises(httpx.RemoteProtocolError):
        raw.post("/chat/completions", json=body)


def test_non_stream_disconnect_cuts_the_body(raw: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        raw.post("/chat/completions", json=chat({"disconnect_after_chunks": 0}))


def test_slow_first_byte(raw: httpx.Client) -> None:
    started = time.monotonic()
    with raw.stream("POST", "/chat/completions", json=chat({"slow_first_byte_ms": 300}, True)) as r:
        waited = time.monotonic() - started
        r.read()
    assert waited >= 0.3
    started = time.monotonic()
    assert raw.post("/chat/completions", json=chat({"slow_first_byte_ms": 200})).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_idle_mid_stream(raw: httpx.Client) -> None:
    stamps = []
    fault = {"idle_after_chunks": 2, "idle_ms": 300}
    with raw.stream("POST", "/chat/completions", json=chat(fault, True)) as r:
        for line in r.iter_lines():
            if line:
                stamps.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert gaps[1] >= 0.27  # the 300 ms stall, less jitter in receiving the event before it
    assert max(gaps[:1] + gaps[2:]) < 0.2


def test_latency_is_paced_and_relayed_incrementally(raw: httpx.Client) -> None:
    body = chat({}, True)
    body["sim"].update(ttft_ms=150, inter_chunk_ms=40, tokens_per_chunk=16)
    started = time.monotonic()
    stamps = []
    with raw.stream("POST", "/chat/completions", json=body) as r:
        for line in r.iter_lines():
            if line:
                stamps.append(time.monotonic() - started)
    assert stamps[0] >= 0.15
    assert stamps[-1] - stamps[0] >= 0.04 * 4
    assert stamps[-1] - stamps[0] >= 0.1 + (stamps[1] - stamps[0])


def test_malformed_sse(raw: httpx.Client) -> None:
    text = raw.post("/chat/completions", json=chat({"malformed_sse": True}, True)).text
    lines = events(text)
    bad = [line for line in lines if line != "[DONE]" and not _is_json(line)]
    assert len(bad) == 1 and lines.index(bad[0]) == 1
    assert lines[-1] == "[DONE]"


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def test_malformed_json(raw: httpx.Client) -> None:
    response = raw.post("/chat/completions", json=chat({"malformed_json": True}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text.startswith('{"id":"chatcmpl-') and not _is_json(response.text)


def test_error_body_200(raw: httpx.Client) -> None:
    response = raw.post("/chat/completions", json=chat({"error_body_200": True, "message": "x"}))
    assert response.status_code == 200 and response.json()["error"]["message"] == "x"
    streamed = raw.post("/chat/completions", json=chat({"error_body_200": True}, True))
    assert streamed.status_code == 200
    assert [orjson.loads(e)["error"]["type"] for e in events(streamed.text)] == ["server_error"]


def test_no_done(raw: httpx.Client) -> None:
    lines = events(raw.post("/chat/completions", json=chat({"no_done": True}, True)).text)
    assert "[DONE]" not in lines
    assert orjson.loads(lines[-1])["choices"][0]["finish_reason"] == "stop"


def test_no_usage(raw: httpx.Client) -> None:
    assert "usage" not in raw.post("/chat/completions", json=chat({"no_usage": True})).json()
    fault = chat({"no_usage": True}, True, stream_options={"include_usage": True})
    chunks = [orjson.loads(e) for e in events(raw.post("/chat/completions", json=fault).text)[:-1]]
    assert all("usage" not in c and c["choices"] for c in chunks)


def test_include_usage_shapes(raw: httpx.Client) -> None:
    plain = events(raw.post("/chat/completions", json=chat({}, True)).text)
    assert all("usage" not in orjson.loads(e) for e in plain[:-1])
    asked = chat({}, True, stream_options={"include_usage": True})
    chunks = [orjson.loads(e) for e in events(raw.post("/chat/completions", json=asked).text)[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 64


def test_faults_are_logged_and_checked(raw: httpx.Client, sim_log: Any) -> None:
    response = raw.post("/chat/completions", json=chat({"no_done": True, "idle_ms": 1}, True))
    entry = sim_log(1)[0]
    assert entry["request_id"] == response.headers["x-sim-request-id"]
    assert entry["fault"] == ["idle_ms", "no_done"] and entry["stream"] is True
    root = str(raw.base_url).removesuffix("/v1/")
    assert raw.delete(f"{root}/sim/log").json() == {"cleared": True}
    assert sim_log() == []
    unknown = raw.post("/chat/completions", json=chat({"explode": True}))
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "sim.fault.explode"
