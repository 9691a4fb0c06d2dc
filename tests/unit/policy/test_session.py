"""Conversation ids and the bounded, expiring pin map."""

from __future__ import annotations

from typing import Any

from router.policy.decide import Pin
from router.policy.session import Sessions, conversation_key

FIRST = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
LATER = [*FIRST, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "more"}]


def test_later_turns_find_the_first_turns_key() -> None:
    assert conversation_key(None, FIRST, "u1") == conversation_key(None, LATER, "u1")
    assert conversation_key(None, FIRST, "u1") != conversation_key(None, FIRST, "u2")
    assert conversation_key("abc", FIRST, None) == "h::abc"
    assert conversation_key(None, [{"role": "system", "content": "x"}], None) is None


def opening(image: str, question: str = "What is this?") -> list[dict[str, Any]]:
    parts = [{"type": "text", "text": question}, {"type": "image_url", "image_url": {"url": image}}]
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": parts}]


def test_an_inline_image_is_keyed_by_its_length_head_and_tail() -> None:
    """A data URL can be megabytes: the key hashes a long string's length, head and tail, so
    its cost is bounded; any other difference in the opening still tells conversations apart."""
    head = "data:image/png;base64," + "A" * 5_000
    image = head + "B" * 1_000_000 + "C" * 5_000
    same_edges = head + "D" * 1_000_000 + "C" * 5_000
    assert conversation_key(None, opening(image), "u") == conversation_key(
        None, opening(image), "u"
    )
    assert conversation_key(None, opening(image), "u") == conversation_key(
        None, opening(same_edges), "u"
    )
    others = [
        opening("data:image/png;base64," + "Z" * 5_000 + "B" * 1_000_000 + "C" * 5_000),
        opening(image + "C"),  # one character longer
        opening(image[:-1] + "E"),  # another tail
        opening(image, "What is that?"),
    ]
    keys = {conversation_key(None, o, "u") for o in [opening(image), *others]}
    assert len(keys) == 5


def test_the_map_keeps_the_last_half_of_its_capacity_at_least_and_never_more() -> None:
    sessions = Sessions(capacity=8, ttl_s=100)
    small, large = Pin("small", "none", "trivial"), Pin("large", "high", "hard")
    for n in range(4):  # the young generation fills, and becomes the old one
        sessions.put(f"k{n}", large if n % 2 else small, now=0)
    sessions.put("k0", large, now=0)  # put again: young, with its new pin
    for n in range(4, 6):
        sessions.put(f"k{n}", small, now=0)
    assert len(sessions) == 6  # k0 is in both generations and counts once
    assert sessions.get("k0", now=1) is large  # the young entry wins, the stored pin itself
    assert sessions.get("k1", now=1) == large and sessions.get("k5", now=1) == small
    sessions.put("k6", small, now=0)  # the young generation is full: k1, k2, k3 go
    assert len(sessions) == 4 and sessions.get("k1", now=1) is None
    for n in range(7, 20):
        sessions.put(f"k{n}", small, now=0)
        assert 4 <= len(sessions) <= 8
    assert sessions.get("k1", now=1) is None and sessions.get("k19", now=1) == small
    assert sessions.get("k19", now=100) is None  # expired
    off = Sessions(capacity=0, ttl_s=100)
    off.put("a", small, now=0)
    assert len(off) == 0 and off.get("a", now=0) is None


def test_pins_expire_and_the_map_is_bounded() -> None:
    sessions = Sessions(capacity=2, ttl_s=10)
    pin = Pin("m", "low", "simple")
    sessions.put("a", pin, now=0)
    assert sessions.get("a", now=5) == pin
    assert sessions.get("a", now=10) is None
    for key in "bcd":
        sessions.put(key, pin, now=0)
    assert len(sessions) <= 2 and sessions.get("b", now=1) is None


def test_only_a_continuation_reads_a_pin() -> None:
    from router.policy.session import continues

    assert not continues(None, FIRST)
    assert continues(None, LATER)
    assert continues("abc", FIRST)
    assert conversation_key(None, FIRST, None, "team-a") != conversation_key(
        None, FIRST, None, "team-b"
    )


def test_the_opening_is_everything_through_the_first_user_message() -> None:
    """Without a system prompt, a later turn's second message is the assistant's answer: the key
    must not take it in, or no such conversation would ever find its pin again."""
    bare = [{"role": "user", "content": "hi"}]
    bare_later = [
        *bare,
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "x"},
    ]
    assert conversation_key(None, bare, "u") == conversation_key(None, bare_later, "u")
    greeted = [{"role": "assistant", "content": "How can I help?"}, *bare]
    greeted_later = [*greeted, {"role": "assistant", "content": "hello"}]
    assert conversation_key(None, greeted, "u") == conversation_key(None, greeted_later, "u")
    assert conversation_key(None, greeted, "u") != conversation_key(None, bare, "u")
    assert conversation_key(None, FIRST, "u") != conversation_key(None, bare, "u")
    two_systems = [{"role": "system", "content": "a"}, {"role": "developer", "content": "b"}, *bare]
    other_second = [
        {"role": "system", "content": "a"},
        {"role": "developer", "content": "c"},
        *bare,
    ]
    assert conversation_key(None, two_systems, "u") != conversation_key(None, other_second, "u")
