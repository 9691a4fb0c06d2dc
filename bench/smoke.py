"""Smoke check before measuring a target: is it really answering chat completions?

One non-streaming request must return content and a full usage block; one stream must carry
content, a usage chunk (the request asks for it) and end with `data: [DONE]`. SSE comment lines
(`: ...`) are allowed anywhere.
"""

from __future__ import annotations

import http.client
from typing import Any

import orjson
from loadgen import request_body

TIMEOUT_S = 10.0
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _post(port: int, body: bytes, key: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _usage_ok(usage: Any) -> bool:
    return isinstance(usage, dict) and all(isinstance(usage.get(k), int) for k in USAGE_KEYS)


def check_completion(status: int, body: bytes) -> str | None:
    """The problem with a non-streaming answer, or None."""
    if status != 200:
        return f"non-streaming: HTTP {status}: {body[:160]!r}"
    try:
        answer = orjson.loads(body)
        content = answer["choices"][0]["message"]["content"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return f"non-streaming: no choices[0].message.content in {body[:160]!r}"
    if not isinstance(content, str) or not content:
        return "non-streaming: empty content"
    if not _usage_ok(answer.get("usage")):
        return f"non-streaming: usage incomplete: {answer.get('usage')!r}"
    return None


def check_stream(status: int, body: bytes) -> str | None:
    """The problem with a streamed answer, or None."""
    if status != 200:
        return f"stream: HTTP {status}: {body[:160]!r}"
    payloads = [
        line[5:].strip()
        for line in body.replace(b"\r\n", b"\n").split(b"\n")
        if line.startswith(b"data:")
    ]
    if not payloads or payloads[-1] != b"[DONE]":
        return f"stream: does not end with data: [DONE] (tail {body[-160:]!r})"
    content = False
    usage = False
    for payload in payloads[:-1]:
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return f"stream: event is not JSON: {payload[:160]!r}"
        choices = chunk.get("choices") or []
        if choices and (choices[0].get("delta") or {}).get("content"):
            content = True
        if _usage_ok(chunk.get("usage")):
            usage = True
    if not content:
        return "stream: no event carried delta.content"
    if not usage:
        return "stream: no usage chunk although stream_options.include_usage was set"
    return None


def smoke_check(port: int, key: str, model: str) -> list[str]:
    """Problems found with the target on 127.0.0.1:port (empty when it works)."""
    problems = []
    for stream, check in ((False, check_completion), (True, check_stream)):
        try:
            status, body = _post(port, request_body(model, stream=stream), key)
        except (OSError, http.client.HTTPException) as exc:
            kind = "stream" if stream else "non-streaming"
            problems.append(f"{kind}: request failed: {exc!r}")
            continue
        problem = check(status, body)
        if problem is not None:
            problems.append(problem)
    return problems
