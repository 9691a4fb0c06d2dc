"""A very cheap OpenAI-compatible fake upstream for the benchmarks.

asyncio.Protocol on uvloop with a hand-written HTTP/1.1 parser (keep-alive, pipelined requests
answered in order, Content-Length or chunked request bodies). Every response is pre-encoded
once per model name, so a request costs one JSON parse of the body and one or a few writes.

    POST /v1/chat/completions   fixed chat completion (~600 B, full usage) or an SSE stream:
                                role chunk, N content chunks, finish chunk, usage chunk (when
                                stream_options.include_usage), data: [DONE]
    GET  /v1/models, /healthz   for readiness checks

Timing: the response (or the role chunk plus the first content chunk) leaves `--latency-ms`
after the request arrived; each further content chunk `--chunk-ms` later; the finish chunk,
the usage chunk and [DONE] leave together `--chunk-ms` after the last content chunk.

    python bench/fake_upstream.py --port 18000 --latency-ms 50 --chunk-ms 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, cast

import orjson
import uvloop

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
MODEL_CACHE_SIZE = 64
WORDS = (
    " The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog",
    " while", " a", " proxy", " relays", " every", " token", " it", " is", " given",
    " without", " delay",
)  # fmt: skip
ANSWER = "The quick brown fox jumps over the lazy dog. A fixed answer: measure the proxy."


def _usage(completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": 31,
        "completion_tokens": completion_tokens,
        "total_tokens": 31 + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _http_head(status: str, content_type: bytes, length: int | None) -> bytes:
    framing = b"Transfer-Encoding: chunked" if length is None else b"Content-Length: %d" % length
    return (
        b"HTTP/1.1 " + status.encode() + b"\r\nContent-Type: " + content_type + b"\r\n"
        b"Connection: keep-alive\r\n" + framing + b"\r\n\r\n"
    )


def _json_response(status: str, payload: object) -> bytes:
    body = orjson.dumps(payload)
    return _http_head(status, b"application/json", len(body)) + body


def _http_chunk(payload: bytes) -> bytes:
    return b"%x\r\n" % len(payload) + payload + b"\r\n"


def _sse(payload: object) -> bytes:
    return _http_chunk(b"data: " + orjson.dumps(payload) + b"\n\n")


class Responses:
    """Pre-encoded answers for one model name."""

    def __init__(self, model: str, created: int, chunks: int) -> None:
        base = {"id": "chatcmpl-bench", "created": created, "model": model}
        fingerprint = {"system_fingerprint": "fp_bench"}
        message = {"role": "assistant", "content": ANSWER, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        self.completion = _json_response(
            "200 OK",
            {
                **base,
                "object": "chat.completion",
                "choices": [choice],
                "usage": _usage(24),
                "service_tier": "default",
                **fingerprint,
            },
        )
        self.stream_head = _http_head("200 OK", b"text/event-stream", None)
        self.plain = self._events(base | fingerprint, chunks, usage=False)
        self.with_usage = self._events(base | fingerprint, chunks, usage=True)

    @staticmethod
    def _events(base: dict[str, Any], chunks: int, *, usage: bool) -> list[bytes]:
        """[role + first content, content 2..N, finish + usage + DONE + end of body]."""
        extra: dict[str, Any] = {"usage": None} if usage else {}

        def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return _sse({**base, "object": "chat.completion.chunk", "choices": [choice], **extra})

        contents = [chunk({"content": WORDS[i % len(WORDS)]}, None) for i in range(chunks)]
        events = [chunk({"role": "assistant", "content": "", "refusal": None}, None) + contents[0]]
        events.extend(contents[1:])
        tail = chunk({}, "stop")
        if usage:
            final = {**base, "object": "chat.completion.chunk", "choices": [], "usage": None}
            final["usage"] = _usage(chunks)
            tail += _sse(final)
        events.append(tail + _http_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        return events


class Upstream:
    """Shared settings and the per-model response cache."""

    def __init__(self, latency_s: float, chunk_s: float, chunks: int) -> None:
        self.latency_s = latency_s
        self.chunk_s = chunk_s
        self.chunks = chunks
        self.created = int(time.time())
        self.cache: dict[str, Responses] = {}
        self.not_found = _json_response("404 Not Found", {"error": {"message": "not found"}})
        self.health = _json_response("200 OK", {"status": "ok"})
        self.models = _json_response(
            "200 OK",
            {"object": "list", "data": [{"id": "bench-model", "object": "model"}]},
        )

    def responses(self, model: str) -> Responses:
        found = self.cache.get(model)
        if found is None:
            found = Responses(model, self.created, self.chunks)
            if len(self.cache) < MODEL_CACHE_SIZE:
                self.cache[model] = found
        return found


def _bad_request(message: str) -> bytes:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return _json_response("400 Bad Request", {"error": error})


def _take_chunked(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at buf[start]; (body, end offset) or None if incomplete."""
    body = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)
            return (bytes(body), end + 4) if end >= 0 else None
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos : pos + size]
        pos += size + 2


def _content_length(head: bytes) -> int | None:
    """Content-Length from a lower-cased request head; 0 when absent, None when malformed."""
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    stop = head.find(b"\r\n", at + 2)
    try:
        return int(head[at + 17 : len(head) if stop < 0 else stop])
    except ValueError:
        return None


class UpstreamProtocol(asyncio.Protocol):
    """One client connection: parse requests, answer them one at a time, in order."""

    def __init__(self, upstream: Upstream) -> None:
        self.up = upstream
        self.loop = asyncio.get_running_loop()
        self.buf = bytearray()
        self.busy = False
        self.draining = False
        self.closing = False
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._drain()

    def _drain(self) -> None:
        self.draining = True
        try:
            while not self.busy and self.transport is not None:
                parsed = self._next_request()
                if parsed is None:
                    return
                method, path, body = parsed
                self._handle(method, path, body)
        finally:
            self.draining = False

    def _next_request(self) -> tuple[bytes, bytes, bytes] | None:
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                self._fail(_bad_request("request head too large"))
            return None
        head = bytes(buf[:end]).lower()
        request_line = head.split(b"\r\n", 1)[0].split(b" ")
        if len(request_line) != 3:
            self._fail(_bad_request("malformed request line"))
            return None
        method, path, version = request_line
        self.closing = b"\r\nconnection: close" in head or version == b"http/1.0"
        if b"\r\ntransfer-encoding: chunked" in head:
            try:
                taken = _take_chunked(buf, end + 4)
            except ValueError:
                self._fail(_bad_request("malformed chunked body"))
                return None
            if taken is None:
                return None
            body, consumed = taken
        else:
            length = _content_length(head)
            if length is None or length > MAX_BODY:
                self._fail(_bad_request("bad or too large Content-Length"))
                return None
            consumed = end + 4 + length
            if len(buf) < consumed:
                return None
            body = bytes(buf[end + 4 : consumed])
        del buf[:consumed]
        return method.upper(), path, body

    def _fail(self, response: bytes) -> None:
        if self.transport is not None:
            self.transport.write(response)
            self.transport.close()

    def _handle(self, method: bytes, path: bytes, body: bytes) -> None:
        if method == b"POST" and path in (b"/v1/chat/completions", b"/chat/completions"):
            self._chat(body)
        elif method == b"GET" and path == b"/healthz":
            self._send(self.up.health)
        elif method == b"GET" and path in (b"/v1/models", b"/models"):
            self._send(self.up.models)
        else:
            self._send(self.up.not_found)

    def _chat(self, body: bytes) -> None:
        try:
            request = orjson.loads(body)
            model = str(request.get("model") or "bench-model")
            stream = request.get("stream") is True
            options = request.get("stream_options") or {}
            include_usage = (
                stream and isinstance(options, dict) and bool(options.get("include_usage"))
            )
        except (orjson.JSONDecodeError, AttributeError):
            self._send(_bad_request("body is not a JSON object"))
            return
        answers = self.up.responses(model)
        if not stream:
            self._later(self.up.latency_s, lambda: self._send(answers.completion))
            return
        events = answers.with_usage if include_usage else answers.plain
        self.busy = True
        if self.up.chunk_s <= 0:
            blob = answers.stream_head + b"".join(events)
            self._later(self.up.latency_s, lambda: self._send(blob))
            return
        self._later(self.up.latency_s, lambda: self._stream(answers.stream_head, events, 0))

    def _stream(self, prefix: bytes, events: list[bytes], index: int) -> None:
        self.timer = None
        if self.transport is None:
            return
        if index == len(events) - 1:
            self._send(events[index])
            return
        self.transport.write(prefix + events[index])
        self._later(self.up.chunk_s, lambda: self._stream(b"", events, index + 1))

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        self.busy = True
        if delay <= 0:
            action()
        else:
            self.timer = self.loop.call_later(delay, action)

    def _send(self, response: bytes) -> None:
        """Write the last bytes of a response, then serve any request that queued behind it."""
        self.timer = None
        if self.transport is None:
            return
        self.transport.write(response)
        self.busy = False
        if self.closing:
            self.transport.close()
            return
        if self.buf and not self.draining:
            self._drain()


async def serve(host: str, port: int, upstream: Upstream) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: UpstreamProtocol(upstream), host, port, backlog=2048, reuse_address=True
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18000)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before the answer")
    parser.add_argument("--chunk-ms", type=float, default=0.0, help="delay between chunks")
    parser.add_argument("--chunks", type=int, default=20, help="content chunks per stream")
    args = parser.parse_args()
    if args.chunks < 1:
        parser.error("--chunks must be at least 1")
    upstream = Upstream(args.latency_ms / 1000, args.chunk_ms / 1000, args.chunks)
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.host, args.port, upstream))


if __name__ == "__main__":
    main()
