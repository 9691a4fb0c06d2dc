"""Conversation ids and the bounded, expiring pin map."""

from __future__ import annotations

from router.policy.decide import Pin
from router.policy.session import Sessions, conversation_key

FIRST = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
LATER = [*FIRST, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "more"}]


def test_later_turns_find_the_first_turns_key() -> None:
    assert conversation_key(None, FIRST, "u1") == conversation_key(None, LATER, "u1")
    assert conversation_key(None, FIRST, "u1") != conversation_key(None, FIRST, "u2")
    assert conversation_key("abc", FIRST, None) == "h::abc"
    assert conversation_key(None, [{"role": "system", "content": "x"}], None) is None


def test_pins_expire_and_the_map_is_bounded() -> None:
    sessions = Sessions(capacity=2, ttl_s=10)
    pin = Pin("m", "low", "simple")
    sessions.put("a", pin, now=0)
    assert sessions.get("a", now=5) == pin
    assert sessions.get("a", now=10) is None
    for key in "bcd":
        sessions.put(key, pin, now=0)
    assert len(sessions) == 2 and sessions.get("b", now=1) is None


def test_only_a_continuation_reads_a_pin() -> None:
    from router.policy.session import continues

    assert not continues(None, FIRST)
    assert continues(None, LATER)
    assert continues("abc", FIRST)
    assert conversation_key(None, FIRST, None, "team-a") != conversation_key(
        None, FIRST, None, "team-b"
    )
