"""Closed-loop load generator for chat completions, streaming or not.

N keep-alive connections over raw sockets (asyncio.Protocol on uvloop, httptools for response
framing); each sends its next request as soon as the previous response has ended. Latency runs
from the write of the request to the end of the response; time to first token (TTFT) runs to
the first SSE event whose `choices[0].delta.content` is non-empty. A response is an error when
its status is not 200, when the connection drops, or (streams) when it carries no content or
does not end with `data: [DONE]`.

    python bench/loadgen.py --url http://127.0.0.1:18000/v1/chat/completions \
        --connections 16 --duration 4 --stream

prints one JSON object: requests, errors, rps, p50_ms, p99_ms, mean_ms, ttft_p50_ms, ttft_p99_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import cast
from urllib.parse import urlsplit

import httptools
import orjson
import uvloop

DEFAULT_KEY = "tw-bench-0123456789abcdef"
DEFAULT_MODEL = "bench-model"
REQUEST_TIMEOUT_S = 30.0


def bench_key() -> str:
    """The API key every benchmark client sends: $TOKENWISE_BENCH_KEY or a fixed bench key."""
    return os.environ.get("TOKENWISE_BENCH_KEY") or DEFAULT_KEY


def request_body(model: str, *, stream: bool) -> bytes:
    """The benchmark request: system + user message, temperature, max_tokens (+ stream usage)."""
    payload: dict[str, object] = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "Name three primary colours and one fact about each."},
        ],
        "temperature": 0.2,
        "max_tokens": 64,
    }
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    return orjson.dumps(payload)


@dataclass(frozen=True)
class LoadSpec:
    url: str  # several, comma-separated: connection i goes to the (i mod n)-th (replicas)
    connections: int
    body: bytes
    stream: bool
    key: str
    duration_s: float | None = None
    requests: int | None = None
    vary_from: int | None = None  # set: request n names end user `user-<from+n>` and case n


def varied(body: bytes, n: int) -> bytes:
    """`body` as request `n` of a stream of distinct conversations: its own end user, and its
    last message asking about its own case (so every per-conversation structure sees a new one)."""
    payload = orjson.loads(body)
    payload["user"] = f"user-{n}"
    last = payload["messages"][-1]
    last["content"] = f"{last['content']} (case {n})"
    return orjson.dumps(payload)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    duration_s: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    ttft_p50_ms: float | None
    ttft_p99_ms: float | None
    first_error: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile_ms(sorted_s: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted seconds, in milliseconds (None when empty)."""
    if not sorted_s:
        return None
    rank = max(1, math.ceil(q * len(sorted_s)))
    return round(sorted_s[rank - 1] * 1000, 3)


@dataclass
class _Outcome:
    ok: bool
    ttft_at: float | None
    error: str | None
    keep_alive: bool


class _Client(asyncio.Protocol):
    """One connection; one request in flight at a time."""

    def __init__(self, stream: bool) -> None:
        self.stream = stream
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[_Outcome] | None = None
        self.sse = bytearray()
        self.tail = b""
        self.ttft_at: float | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._finish(_Outcome(False, None, f"bad HTTP response: {exc}", False))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._finish(_Outcome(False, None, f"connection lost: {exc or 'closed by peer'}", False))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.sse.clear()
        self.tail = b""
        self.ttft_at = None

    def on_body(self, body: bytes) -> None:
        if not self.stream:
            return
        self.tail = (self.tail + body)[-64:]
        if self.ttft_at is None:
            self.sse += body
            self._scan_events()

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        keep_alive = self.parser.should_keep_alive()
        if status != 200:
            self._finish(_Outcome(False, None, f"HTTP {status}", keep_alive))
        elif self.stream and self.ttft_at is None:
            self._finish(_Outcome(False, None, "stream carried no content", keep_alive))
        elif self.stream and not self.tail.rstrip().endswith(b"data: [DONE]"):
            self._finish(_Outcome(False, None, "stream did not end with [DONE]", keep_alive))
        else:
            self._finish(_Outcome(True, self.ttft_at, None, keep_alive))

    def _scan_events(self) -> None:
        """Parse complete SSE events until one carries non-empty delta.content."""
        data = bytes(self.sse).replace(b"\r\n", b"\n")
        events = data.split(b"\n\n")
        self.sse = bytearray(events.pop())
        for event in events:
            for line in event.split(b"\n"):
                if line.startswith(b"data:") and _has_content(line[5:].strip()):
                    self.ttft_at = time.perf_counter()
                    self.sse.clear()
                    return

    def send(self, request: bytes) -> asyncio.Future[_Outcome]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def _finish(self, outcome: _Outcome) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _has_content(payload: bytes) -> bool:
    if payload == b"[DONE]":
        return False
    try:
        choices = orjson.loads(payload).get("choices")
        return bool(choices and choices[0].get("delta", {}).get("content"))
    except (orjson.JSONDecodeError, AttributeError, TypeError, IndexError):
        return False


@dataclass
class _Stats:
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    issued: int = 0
    sent: int = 0

    def error(self, message: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or message


def _raw_request(spec: LoadSpec, index: int, body: bytes | None = None) -> tuple[str, int, bytes]:
    body = spec.body if body is None else body
    urls = spec.url.split(",")
    parts = urlsplit(urls[index % len(urls)])
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {spec.key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return host, port, head.encode() + body


async def _worker(spec: LoadSpec, stats: _Stats, deadline: float, index: int) -> None:
    loop = asyncio.get_running_loop()
    host, port, request = _raw_request(spec, index)
    client: _Client | None = None
    try:
        while time.perf_counter() < deadline:
            if spec.requests is not None:
                if stats.issued >= spec.requests:
                    return
                stats.issued += 1
            if client is None or client.transport is None:
                try:
                    _, client = await loop.create_connection(
                        lambda: _Client(spec.stream), host, port
                    )
                except OSError as exc:
                    stats.error(f"connect: {exc}")
                    client = None
                    await asyncio.sleep(0.01)
                    continue
            if spec.vary_from is not None:
                n = spec.vary_from + stats.sent
                stats.sent += 1
                request = _raw_request(spec, index, varied(spec.body, n))[2]
            started = time.perf_counter()
            try:
                outcome = await asyncio.wait_for(client.send(request), REQUEST_TIMEOUT_S)
            except TimeoutError:
                outcome = _Outcome(False, None, f"no response in {REQUEST_TIMEOUT_S:.0f} s", False)
            ended = time.perf_counter()
            if ended > deadline:
                return
            if not outcome.ok:
                stats.error(outcome.error or "error")
            else:
                stats.latencies.append(ended - started)
                if outcome.ttft_at is not None:
                    stats.ttfts.append(outcome.ttft_at - started)
            if not (outcome.ok and outcome.keep_alive):
                client.close()
                client = None
    finally:
        if client is not None:
            client.close()


async def run_load(spec: LoadSpec) -> LoadResult:
    """Run the closed loop until the duration ends or `requests` responses have been issued."""
    if spec.duration_s is None and spec.requests is None:
        raise ValueError("give a duration or a number of requests")
    stats = _Stats()
    started = time.perf_counter()
    deadline = started + (spec.duration_s if spec.duration_s is not None else math.inf)
    workers = [
        asyncio.create_task(_worker(spec, stats, deadline, i)) for i in range(spec.connections)
    ]
    if spec.duration_s is not None:
        await asyncio.wait(workers, timeout=spec.duration_s)
        for task in workers:
            task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    elapsed = min(time.perf_counter(), deadline) - started
    return _summarise(stats, elapsed)


def _summarise(stats: _Stats, elapsed: float) -> LoadResult:
    latencies = sorted(stats.latencies)
    ttfts = sorted(stats.ttfts)
    return LoadResult(
        requests=len(latencies),
        errors=stats.errors,
        duration_s=round(elapsed, 3),
        rps=round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        p50_ms=percentile_ms(latencies, 0.50),
        p99_ms=percentile_ms(latencies, 0.99),
        mean_ms=round(sum(latencies) / len(latencies) * 1000, 3) if latencies else None,
        ttft_p50_ms=percentile_ms(ttfts, 0.50),
        ttft_p99_ms=percentile_ms(ttfts, 0.99),
        first_error=stats.first_error,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        default="http://127.0.0.1:18000/v1/chat/completions",
        help="several comma-separated: connections are spread over them in turn",
    )
    parser.add_argument("--connections", "-c", type=int, default=16)
    parser.add_argument("--duration", type=float, help="seconds (default 4 unless --requests)")
    parser.add_argument("--requests", type=int, help="stop after this many requests")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--key", help="API key (default: $TOKENWISE_BENCH_KEY or the bench key)")
    parser.add_argument("--print-body", action="store_true", help="print the body and exit")
    args = parser.parse_args()
    if args.print_body:
        sys.stdout.buffer.write(request_body(args.model, stream=args.stream) + b"\n")
        return
    duration = args.duration if args.duration is not None or args.requests else 4.0
    spec = LoadSpec(
        url=args.url,
        connections=args.connections,
        body=request_body(args.model, stream=args.stream),
        stream=args.stream,
        key=args.key or bench_key(),
        duration_s=duration,
        requests=args.requests,
    )
    result = uvloop.run(run_load(spec))
    sys.stdout.write(orjson.dumps(result.as_dict()).decode() + "\n")


if __name__ == "__main__":
    main()
