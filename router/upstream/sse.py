"""Server-sent events: split a byte stream into whole events, and read one event's data.

An event ends at a blank line (`\\n\\n`, or `\\r\\n\\r\\n` from some servers). The splitter keeps
only the incomplete tail, so an event is relayed as soon as its last byte arrives.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_BOUNDARY = re.compile(rb"\r?\n\r?\n")

DONE = b"[DONE]"


class SSESplitter:
    def __init__(self) -> None:
        self._tail = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Whole events completed by `data`, each without its terminating blank line."""
        buf = self._tail + data if self._tail else data
        parts = _BOUNDARY.split(buf) if b"\r" in buf else buf.split(b"\n\n")
        self._tail = parts.pop()
        return [p for p in parts if p]

    @property
    def pending(self) -> bytes:
        return self._tail


class Event:
    """One parsed event: its data field, and the JSON it holds when it holds JSON."""

    __slots__ = ("data", "json", "raw")

    def __init__(self, raw: bytes, data: bytes | None, json: Any) -> None:
        self.raw = raw
        self.data = data
        self.json = json

    @property
    def is_done(self) -> bool:
        return self.data == DONE

    @property
    def is_comment(self) -> bool:
        return self.data is None


class MalformedEvent(ValueError):
    pass


def parse_event(raw: bytes) -> Event:
    """Parse the fields of one event; a `data` payload other than `[DONE]` must be JSON."""
    if raw.startswith(b"data:") and b"\n" not in raw and b"\r" not in raw:
        data = raw[6:] if raw.startswith(b"data: ") else raw[5:]  # one line, the usual event
        return _with_data(raw, data)
    data_lines: list[bytes] = []
    for line in raw.splitlines():
        if not line or line.startswith(b":"):
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise MalformedEvent(f"SSE line without a field name: {line[:80]!r}")
        if name == b"data":
            data_lines.append(value[1:] if value.startswith(b" ") else value)
        elif name not in (b"event", b"id", b"retry"):
            raise MalformedEvent(f"unknown SSE field {name[:40]!r}")
    if not data_lines:
        return Event(raw, None, None)
    return _with_data(raw, b"\n".join(data_lines))


def _with_data(raw: bytes, data: bytes) -> Event:
    if data == DONE:
        return Event(raw, data, None)
    try:
        return Event(raw, data, orjson.loads(data))
    except orjson.JSONDecodeError:
        raise MalformedEvent(f"SSE data is not JSON: {data[:80]!r}") from None


def encode_event(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def encode_comment(text: str) -> bytes:
    return b": " + text.encode("utf-8") + b"\n\n"
