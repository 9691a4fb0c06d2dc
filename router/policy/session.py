"""Which model a conversation is on: a bounded, expiring map from conversation id to `Pin`.

A conversation is identified by the client's `x-tokenwise-session` header, else by a stable
hash of its first messages and `user` (within the caller's team): the first turn's system and
user messages are the same in every later turn, so each turn finds the pin the first one left.
A pin is only read for a continuation (an earlier assistant turn in the messages, or the
header): two one-shot requests that happen to open with the same words are not a conversation.
Kept per process (per replica); a conversation that moves to another replica is decided afresh
there, which costs a prompt-cache miss, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from router.policy.decide import Pin

OPENING_MESSAGES = 2


def continues(header: str | None, messages: Sequence[Mapping[str, Any]]) -> bool:
    """Whether this request continues a conversation (so an existing pin applies)."""
    return bool(header) or any(m.get("role") == "assistant" for m in messages)


def conversation_key(
    header: str | None, messages: Sequence[Mapping[str, Any]], user: object, team: str = ""
) -> str | None:
    """The session id (within a team), or None when there is no user message to key on."""
    if header:
        return f"h:{team}:" + header[:200]
    users = sum(1 for m in messages if m.get("role") == "user")
    if users < 1:
        return None
    digest = hashlib.blake2b(digest_size=16)
    digest.update(team.encode() + b"\x00" + repr(user).encode())
    for m in messages[:OPENING_MESSAGES]:
        digest.update(b"\x00" + str(m.get("role")).encode() + b"\x00")
        digest.update(repr(m.get("content")).encode())
    return "c:" + digest.hexdigest()


class Sessions:
    def __init__(self, capacity: int, ttl_s: float) -> None:
        self.capacity = capacity
        self.ttl_s = ttl_s
        self._pins: OrderedDict[str, tuple[Pin, float]] = OrderedDict()

    def get(self, key: str, now: float | None = None) -> Pin | None:
        entry = self._pins.get(key)
        if entry is None:
            return None
        pin, expires = entry
        if (time.monotonic() if now is None else now) >= expires:
            del self._pins[key]
            return None
        return pin

    def put(self, key: str, pin: Pin, now: float | None = None) -> None:
        if self.capacity <= 0:
            return
        self._pins[key] = (pin, (time.monotonic() if now is None else now) + self.ttl_s)
        self._pins.move_to_end(key)
        while len(self._pins) > self.capacity:
            self._pins.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pins)
