"""What the simulator saw and did: a bounded in-memory log, read at `GET /sim/log`.

Besides the fault applied, each entry keeps the effort and category the simulator ran with,
so a test can check that a proxy's intent arrived (the conformance question "did the effort
reach the upstream?"). Also the counter behind the `fail_first` fault.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

LOG_SIZE = 10_000


class RequestLog:
    def __init__(self, size: int = LOG_SIZE) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._failures: OrderedDict[bytes, int] = OrderedDict()
        self._size = size
        self._next_id = 0

    def new_request_id(self) -> str:
        self._next_id += 1
        return f"simreq-{self._next_id:08d}"

    def record(self, entry: dict[str, Any]) -> None:
        self._entries.append(entry)

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        items = list(self._entries)
        return items[-limit:] if limit else items

    def clear(self) -> None:
        self._entries.clear()
        self._failures.clear()

    def should_fail(self, key: bytes, first: int | None) -> bool:
        """True for the first `first` requests with this key (every request when None)."""
        if first is None:
            return True
        seen = self._failures.pop(key, 0) + 1
        self._failures[key] = seen
        while len(self._failures) > self._size:
            self._failures.popitem(last=False)
        return seen <= first
