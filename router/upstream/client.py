"""The only code that talks to providers: one pooled aiohttp session for the app's lifetime.

aiohttp, not httpx's default transport: measured here, a FastAPI pass-through on httpx.AsyncClient
fell from 633 req/s at one client to 54 at 64 (connection-pool scans and anyio locks), while the
same pass-through on aiohttp held 2,100-2,900 req/s (README, Performance).

Timeouts, each a named failure (`UpstreamTimeout`, 504):
- connect: opening the TCP/TLS connection;
- first byte: from sending the request to the response's status line and headers;
- idle: between two reads of the body (stream chunks included);
- total: the whole exchange, from send to the last byte.

An answer larger than `response_limit` bytes (a body, or a whole stream) is refused as an
`UpstreamProtocolError` (502, code `response_too_large`): a broken or hostile upstream cannot make
the proxy buffer without bound. TLS to upstreams verifies certificates (the system's CAs, or a
provider's own `ca_bundle` through `ssl`); a failed verification is a 502 that says so.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Mapping
from types import TracebackType

import aiohttp

from router.config.schema import Timeouts
from router.errors import UpstreamProtocolError, UpstreamTimeout

DEFAULT_RESPONSE_LIMIT = 64 * 1024 * 1024
IDLE_SLACK = 0.1  # a stream's idle timer may fire this share of `idle` late (see `_extend`)


@functools.cache
def tls_context(ca_bundle: str | None) -> ssl.SSLContext | None:
    """The TLS trust for a provider: its CA bundle (PEM file), or None for the system's CAs."""
    return None if ca_bundle is None else ssl.create_default_context(cafile=ca_bundle)


def why(exc: BaseException) -> str:
    """What went wrong with the upstream connection, in plain words (never a client library's
    own exception text, which reads like an HTTP 400 of ours)."""
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "its answer ended before the length it announced"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "it closed the connection"
    if isinstance(exc, ConnectionResetError | aiohttp.ClientOSError):
        return "the connection was reset"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "its answer was not valid HTTP"
    return type(exc).__name__


def too_large(limit: int) -> UpstreamProtocolError:
    return UpstreamProtocolError(
        f"The upstream provider's answer is larger than this proxy accepts ({limit} bytes; "
        "server.response_limit_bytes).",
        code="response_too_large",
    )


class UpstreamResponse:
    """An upstream response whose headers have arrived; the body is read with idle/total limits."""

    def __init__(
        self,
        resp: aiohttp.ClientResponse,
        timeouts: Timeouts,
        deadline: float,
        limit: int = DEFAULT_RESPONSE_LIMIT,
        until: float | None = None,
    ) -> None:
        self._resp = resp
        self._timeouts = timeouts
        self._deadline = deadline
        self._until = until  # the caller's own limit, until `lift` (see `Upstream.send`)
        self._limit_bytes = limit
        self.status = resp.status
        self.headers = resp.headers
        self.where = f"{resp.url.host}:{resp.url.port}"
        self._first: bytes | None = None  # read by `first_chunk`, yielded first by `chunks`

    @property
    def content_type(self) -> str:
        return self._resp.content_type

    def _limit(self, loop: asyncio.AbstractEventLoop) -> float:
        limit = min(self._deadline, loop.time() + self._timeouts.idle)
        return limit if self._until is None else min(limit, self._until)

    def _extend(self, cm: asyncio.Timeout, loop: asyncio.AbstractEventLoop) -> None:
        """Move a stream's timer after a chunk, lazily: the idle limit runs from the last chunk,
        but the timer moves only when it would fire before that limit, and then a little past
        it (`IDLE_SLACK`), so a fast stream re-arms it once in many chunks, not on each. The
        idle timeout thus fires between `idle` and `idle` x (1 + IDLE_SLACK) after the last
        chunk; the total deadline (and the caller's) stays exact."""
        when = cm.when()
        idle_limit = loop.time() + self._timeouts.idle
        if when is not None and when >= idle_limit:
            return
        cm.reschedule(min(self._limit(loop) + self._timeouts.idle * IDLE_SLACK, self._hard()))

    def _hard(self) -> float:
        return self._deadline if self._until is None else min(self._deadline, self._until)

    def lift(self) -> None:
        """Drop the caller's limit: from now on only this exchange's own timeouts apply (a
        stream whose start the caller waited for is relayed for as long as it lasts)."""
        self._until = None

    async def read(self) -> bytes:
        loop = asyncio.get_running_loop()
        declared = self._resp.content_length
        if declared is not None and declared > self._limit_bytes:
            raise too_large(self._limit_bytes)
        try:
            if self._first is None and self._resp.content.is_eof():
                return self._buffered()  # the whole body is here: reading cannot wait
            async with asyncio.timeout_at(self._limit(loop)):
                parts: list[bytes] = [self._first] if self._first else []
                size = len(self._first or b"")
                self._first = None
                while data := await self._resp.content.readany():
                    size += len(data)
                    if size > self._limit_bytes:
                        raise too_large(self._limit_bytes)
                    parts.append(data)
                return b"".join(parts)
        except TimeoutError:
            raise UpstreamTimeout(self._timeout_message(loop)) from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise UpstreamProtocolError(
                f"The upstream provider broke the connection while sending its answer ({why(exc)})."
            ) from None

    def _buffered(self) -> bytes:
        """The body, all of it received already (no timer: nothing to wait for)."""
        content = self._resp.content
        parts: list[bytes] = []
        size = 0
        while data := content.read_nowait():
            size += len(data)
            if size > self._limit_bytes:
                raise too_large(self._limit_bytes)
            parts.append(data)
        return b"".join(parts)

    async def first_chunk(self) -> bytes:
        """Read the body's first bytes now (b"": the body is empty), bounded like any read;
        `chunks` yields them first. A stream is checked this way before it is relayed."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(self._limit(loop)):
                self._first = await self._resp.content.readany()
        except TimeoutError:
            raise UpstreamTimeout(self._timeout_message(loop)) from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise UpstreamProtocolError(
                f"The upstream provider broke the connection before sending anything ({why(exc)})."
            ) from None
        return self._first

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive; each wait is bounded by the idle and total timeouts."""
        loop = asyncio.get_running_loop()
        content = self._resp.content
        size = 0
        if self._first is not None:
            first, self._first = self._first, None
            if not first:
                return
            size = len(first)
            if size > self._limit_bytes:
                raise too_large(self._limit_bytes)
            yield first
        try:
            async with asyncio.timeout_at(self._limit(loop)) as cm:
                while True:
                    data = await content.readany()
                    if not data:
                        return
                    size += len(data)
                    if size > self._limit_bytes:
                        raise too_large(self._limit_bytes)
                    yield data
                    self._extend(cm, loop)
        except TimeoutError:
            raise UpstreamTimeout(self._timeout_message(loop)) from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise UpstreamProtocolError(
                f"The upstream provider broke the connection mid-stream ({why(exc)})."
            ) from None

    def _timeout_message(self, loop: asyncio.AbstractEventLoop) -> str:
        if loop.time() >= self._deadline:
            return f"The upstream provider did not finish within {self._timeouts.total:g} s."
        return f"The upstream provider sent nothing for {self._timeouts.idle:g} s."

    def close(self) -> None:
        """Drop the connection (a body left half-read cannot go back to the pool)."""
        self._resp.close()

    def release(self) -> None:
        self._resp.release()

    async def __aenter__(self) -> UpstreamResponse:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Upstream:
    def __init__(self, timeouts: Timeouts, response_limit: int = DEFAULT_RESPONSE_LIMIT) -> None:
        self.timeouts = timeouts
        self.response_limit = response_limit
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=0, ttl_dns_cache=300, keepalive_timeout=30, enable_cleanup_closed=True
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None, connect=self.timeouts.connect, sock_connect=self.timeouts.connect
            ),
            auto_decompress=True,
            skip_auto_headers=("User-Agent",),
            cookie_jar=aiohttp.DummyCookieJar(),  # an upstream's cookies are nobody's business
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        *,
        tls: ssl.SSLContext | None = None,
        until: float | None = None,
    ) -> UpstreamResponse:
        """Send a request and wait for the status line and headers (the first byte).

        `tls`: the provider's own trust (its `ca_bundle`); None verifies with the system's CAs.
        `until` (event loop time): the caller's own limit, which bounds every wait of this
        exchange as well until `UpstreamResponse.lift`; a wait it cuts short raises
        `UpstreamTimeout` like the others, and the caller, who knows its limit passed, says so.
        """
        if self._session is None:
            raise RuntimeError("Upstream.start() was not awaited")
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + self.timeouts.total
        first_byte = min(deadline, now + self.timeouts.first_byte)
        if until is not None:
            first_byte = min(first_byte, until)
        try:
            async with asyncio.timeout_at(first_byte):
                resp = await self._session.request(
                    method, url, data=body, headers=headers, ssl=True if tls is None else tls
                )
        except TimeoutError:
            raise UpstreamTimeout(
                f"The upstream provider did not answer within {self.timeouts.first_byte:g} s."
            ) from None
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
            raise UpstreamProtocolError(
                f"TLS to the upstream provider at {exc.host}:{exc.port} failed: its certificate "
                "could not be verified. If it uses a private CA, name a CA bundle in the "
                "provider's ca_bundle.",
                code="upstream_tls_error",
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamProtocolError(
                f"Could not connect to the upstream provider at {exc.host}:{exc.port}."
            ) from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise UpstreamProtocolError(
                f"The upstream provider closed the connection before answering ({exc})."
            ) from None
        return UpstreamResponse(resp, self.timeouts, deadline, self.response_limit, until)
