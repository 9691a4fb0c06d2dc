"""One multiplexed Redis connection for the two round trips of the request path.

A redis-py pipeline costs about 70 us of CPU per round trip here (a pooled connection taken and
given back, a command stack, response callbacks, a timeout per read); the reservation and the
settlement each make one. `Wire` keeps one connection for the process and writes every
pipeline to it as soon as it is built: replies come back in the order the commands went out, so
each caller waits for its own `len(commands)` replies in a FIFO of waiters. The same round trip
costs about 12 us. Everything else the store does still goes through redis-py.

- Commands are packed here (`Commands`: the few the request path sends) and replies parsed by
  hiredis, decoded as UTF-8 like the store's redis-py client (`decode_responses=True`). An error
  reply comes back in its place as an exception (`NoScriptError` for NOSCRIPT, else
  `ResponseError`), as `pipeline.execute(raise_on_error=False)` gives it.
- The connection opens on first use, with AUTH and SELECT from the store URL (`redis://` or
  `unix://`; the store uses redis-py alone for TLS, Sentinel and a client it is given). A lost
  connection fails every waiter with redis-py's `ConnectionError` (the store answers
  `StoreUnavailable`, as before) and the next call connects again.
- A caller that stops waiting (cancelled, timed out) leaves its place in the FIFO; its replies
  are read and dropped. A connection with a reply outstanding for longer than `stall_seconds`
  is closed, so a server that stopped answering does not hold every later call.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlparse

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

SCHEMES = ("redis", "unix")


class ReplyError(Exception):
    """What hiredis makes of an error reply, before `_error` names it as redis-py would."""


def _error(reply: ReplyError) -> ResponseError:
    message = str(reply)
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    return ResponseError(message)


def _bulk(value: object) -> bytes:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
    return b"$%d\r\n%s\r\n" % (len(data), data)


def pack(*args: object) -> bytes:
    """One command in RESP: an array of bulk strings."""
    return b"*%d\r\n" % len(args) + b"".join(map(_bulk, args))


class Commands:
    """The commands of one round trip (the few a pipeline on the request path holds), for
    `Wire.execute` or, with TLS or Sentinel, `execute_command` on a redis-py pipeline."""

    def __init__(self) -> None:
        self.queued: list[tuple[object, ...]] = []

    def __len__(self) -> int:
        return len(self.queued)

    def set(self, name: str, value: object, ex: int | None = None) -> None:
        extra = () if ex is None else ("EX", ex)
        self.queued.append(("SET", name, value, *extra))

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: object) -> None:
        self.queued.append(("EVALSHA", sha, numkeys, *keys_and_args))

    def sadd(self, name: str, *values: object) -> None:
        self.queued.append(("SADD", name, *values))

    def delete(self, *names: str) -> None:
        self.queued.append(("DEL", *names))


class _Waiter:
    __slots__ = ("count", "future", "replies", "sent")

    def __init__(self, future: asyncio.Future[list[Any]], count: int) -> None:
        self.future = future
        self.count = count
        self.replies: list[Any] = []
        self.sent = time.monotonic()


class _Protocol(asyncio.Protocol):
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.wire._received(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.wire._lost(self, exc)


class Wire:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 6379,
        path: str | None = None,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        stall_seconds: float = 5.0,
        connect_seconds: float = 5.0,
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.db, self.username, self.password = db, username, password
        self.stall_seconds = stall_seconds
        self.connect_seconds = connect_seconds
        self._transport: asyncio.Transport | None = None
        self._protocol: _Protocol | None = None
        self._reader: Any = None
        self._waiting: deque[_Waiter] = deque()
        self._connecting: asyncio.Future[None] | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, stall_seconds: float = 5.0) -> Wire | None:
        """A wire for a `redis://` or `unix://` URL; None for any other (TLS, Sentinel)."""
        parsed = urlparse(url)
        if parsed.scheme not in SCHEMES:
            return None
        username = unquote(parsed.username) if parsed.username else None
        password = unquote(parsed.password) if parsed.password else None
        query = dict(part.split("=", 1) for part in parsed.query.split("&") if "=" in part)
        if parsed.scheme == "unix":
            db = int(query.get("db", 0))
            return cls(
                path=parsed.path,
                db=db,
                username=username,
                password=password,
                stall_seconds=stall_seconds,
            )
        db_text = parsed.path.lstrip("/") or query.get("db", "0")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 6379,
            db=int(db_text),
            username=username,
            password=password,
            stall_seconds=stall_seconds,
        )

    async def execute(self, commands: Sequence[tuple[object, ...]]) -> list[Any]:
        """Send `commands` as one write; their replies, errors in place as exceptions."""
        if not commands:
            return []
        if self._transport is not None and self._stalled():
            self._drop(RedisConnectionError("Redis stopped answering"))
        if self._transport is None:
            await self._connect()
        transport = self._transport
        if transport is None:
            raise RedisConnectionError("Redis connection lost while connecting")
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiter(future, len(commands)))
        transport.write(b"".join([pack(*command) for command in commands]))
        return await future

    async def close(self) -> None:
        self._closed = True
        self._drop(RedisConnectionError("Redis connection closed"))

    async def _connect(self) -> None:
        if self._closed:
            raise RedisConnectionError("Redis connection closed")
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
            # read here, so a failure every caller stopped waiting for is never left unread
            self._connecting.add_done_callback(lambda done: done.cancelled() or done.exception())
        connecting = self._connecting
        try:
            await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_seconds):
                if self.path is not None:
                    transport, protocol = await loop.create_unix_connection(
                        lambda: _Protocol(self), self.path
                    )
                else:
                    transport, protocol = await loop.create_connection(
                        lambda: _Protocol(self), self.host, self.port
                    )
        except (OSError, TimeoutError) as exc:
            where = self.path or f"{self.host}:{self.port}"
            raise RedisConnectionError(f"Error connecting to Redis at {where}: {exc}") from exc
        self._reader = hiredis.Reader(encoding="utf-8", replyError=ReplyError)
        self._protocol = protocol  # replies are read from here on; calls wait for `_transport`
        hello = []
        if self.password is not None:
            who = () if self.username is None else (self.username,)
            hello.append(pack("AUTH", *who, self.password))
        if self.db:
            hello.append(pack("SELECT", self.db))
        if hello:
            future: asyncio.Future[list[Any]] = loop.create_future()
            self._waiting.append(_Waiter(future, len(hello)))
            transport.write(b"".join(hello))
            for reply in await future:
                if isinstance(reply, Exception):
                    self._drop(RedisConnectionError(f"Redis refused the connection: {reply}"))
                    raise RedisConnectionError(f"Redis refused the connection: {reply}")
        self._transport = transport

    def _received(self, protocol: _Protocol, data: bytes) -> None:
        if protocol is not self._protocol:
            return
        reader = self._reader
        reader.feed(data)
        waiting = self._waiting
        while True:
            try:
                reply = reader.gets()
            except hiredis.ProtocolError as exc:
                self._drop(RedisConnectionError(f"Redis protocol error: {exc}"))
                return
            if reply is False:
                return
            if not waiting:  # a reply nobody asked for: the stream is out of step
                self._drop(RedisConnectionError("Redis sent a reply nobody waited for"))
                return
            waiter = waiting[0]
            waiter.replies.append(_error(reply) if isinstance(reply, ReplyError) else reply)
            if len(waiter.replies) == waiter.count:
                waiting.popleft()
                if not waiter.future.done():
                    waiter.future.set_result(waiter.replies)

    def _lost(self, protocol: _Protocol, exc: Exception | None) -> None:
        if protocol is not self._protocol:
            return
        self._transport = self._protocol = None
        self._fail(RedisConnectionError(f"Redis connection lost: {exc or 'closed by the server'}"))

    def _drop(self, exc: Exception) -> None:
        """Close the connection and fail everything still waiting on it."""
        protocol = self._protocol
        self._transport = self._protocol = None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()
        self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        waiting, self._waiting = self._waiting, deque()
        for waiter in waiting:
            if not waiter.future.done():
                waiter.future.set_exception(exc)

    def _stalled(self) -> bool:
        """An outstanding reply older than `stall_seconds`: the server stopped answering."""
        return bool(self._waiting) and time.monotonic() - self._waiting[0].sent > self.stall_seconds
