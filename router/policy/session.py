"""Which model a conversation is on: a bounded, expiring map from conversation id to `Pin`.

A conversation is identified by the client's `x-tokenwise-session` header, else by a stable
hash of its opening and `user` (within the caller's team). The opening is every message up to
and including the first user message (a system prompt, if any, and the first question): later
turns repeat it unchanged, so each turn finds the pin the first one left. Requests that share a
fixed opening (a few-shot prefix) share a pin; such clients name conversations with the header.
A pin is only read for a continuation (an earlier assistant turn in the messages, or the
header): two one-shot requests that happen to open with the same words are not a conversation.
Kept per process (per replica); a conversation that moves to another replica is decided afresh
there, which costs a prompt-cache miss, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from router.policy.decide import Pin

OPENING_LIMIT = 16  # messages before the first user message that enter the key, at most
STRING_EDGE = 4096  # characters of a long string's head and tail that enter the hash


def continues(header: str | None, messages: Sequence[Mapping[str, Any]]) -> bool:
    """Whether this request continues a conversation (so an existing pin applies)."""
    return bool(header) or any(m.get("role") == "assistant" for m in messages)


def conversation_key(
    header: str | None, messages: Sequence[Mapping[str, Any]], user: object, team: str = ""
) -> str | None:
    """The session id (within a team), or None when there is no user message to key on."""
    if header:
        return f"h:{team}:" + header[:200]
    opening = _opening(messages)
    if opening is None:
        return None
    digest = hashlib.blake2b(digest_size=16)
    digest.update(team.encode() + b"\x00" + repr(user).encode())
    for m in opening:
        digest.update(b"\x00" + str(m.get("role")).encode() + b"\x00")
        _feed(digest, m.get("content"))
    return "c:" + digest.hexdigest()


def _opening(messages: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]] | None:
    """The messages through the first user message (None when there is none); a long run of
    other messages before it is cut at OPENING_LIMIT."""
    for index, m in enumerate(messages):
        if m.get("role") == "user":
            return [*messages[: min(index, OPENING_LIMIT)], m]
    return None


def _feed(digest: Any, value: object) -> None:
    """Hash a message's content with a bounded cost: a long string (an image sent inline as a
    data URL can be megabytes) by its length, head and tail. Two openings that differ only in
    the middle of such a string share a pin, which costs at most a routing choice."""
    if isinstance(value, str):
        if len(value) > 2 * STRING_EDGE:
            value = f"{len(value)}:{value[:STRING_EDGE]}{value[-STRING_EDGE:]}"
        digest.update(value.encode("utf-8", "surrogatepass") + b"\x01")
    elif isinstance(value, list):
        for item in value:
            _feed(digest, item)
        digest.update(b"\x02")
    elif isinstance(value, Mapping):
        for key in sorted(value, key=str):
            digest.update(str(key).encode("utf-8", "surrogatepass") + b"\x03")
            _feed(digest, value[key])
        digest.update(b"\x04")
    else:
        digest.update(repr(value).encode() + b"\x05")


class Sessions:
    """Pins by conversation key, in little memory that stays put. A busy proxy fills the map to
    its capacity (every routed request leaves a pin), so an entry is two small ints: the key a
    64-bit digest of the conversation key, the value the expiry (milliseconds) packed with the
    index of the (model, effort, tier) triple, of which a catalog has few.

    Two generations of plain dicts, never an entry deleted: puts go to the young one; when it
    holds half the capacity it becomes the old one and the previous old one is dropped whole.
    So the map keeps at least the last capacity/2 pins and at most capacity, and its memory
    does not creep the way a dict churned by deletions does (it regrows its table past the
    live entries): 100,000 pins take about 12 MB, measured."""

    def __init__(self, capacity: int, ttl_s: float) -> None:
        self.capacity = capacity
        self.ttl_s = ttl_s
        self._half = max(1, capacity // 2)
        self._young: dict[int, int] = {}
        self._old: dict[int, int] = {}
        self._codes: dict[Pin, int] = {}
        self._kinds: list[Pin] = []

    def get(self, key: str, now: float | None = None) -> Pin | None:
        slot = _slot(key)
        packed = self._young.get(slot)
        if packed is None:
            packed = self._old.get(slot)
            if packed is None:
                return None
        if _ms(time.monotonic() if now is None else now) >= packed >> CODE_BITS:
            return None  # expired: it goes with its generation
        return self._kinds[packed & CODE_MASK]

    def put(self, key: str, pin: Pin, now: float | None = None) -> None:
        if self.capacity <= 0:
            return
        code = self._codes.get(pin)
        if code is None:
            if len(self._kinds) > CODE_MASK:  # never with a real catalog: start afresh
                self._young, self._old = {}, {}
                self._codes.clear()
                self._kinds.clear()
            code = self._codes[pin] = len(self._kinds)
            self._kinds.append(pin)
        expires = _ms((time.monotonic() if now is None else now) + self.ttl_s)
        self._young[_slot(key)] = expires << CODE_BITS | code
        if len(self._young) >= self._half:
            self._old, self._young = self._young, {}

    def __len__(self) -> int:
        """Pins held (a key in both generations counts once)."""
        young = self._young
        return len(young) + sum(1 for slot in self._old if slot not in young)


CODE_BITS = 16
CODE_MASK = (1 << CODE_BITS) - 1


def _slot(key: str) -> int:
    """A conversation key as a 64-bit int (collisions among 100,000 keys: about 3 in 10^10)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _ms(seconds: float) -> int:
    return math.ceil(seconds * 1000)
