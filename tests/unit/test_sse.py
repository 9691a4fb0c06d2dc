"""The SSE splitter hands on whole events, however the bytes were cut."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.upstream.sse import MalformedEvent, SSESplitter, encode_event, parse_event

EVENTS = [
    encode_event({"id": "c1", "choices": [{"delta": {"content": "héllo\n"}}]}),
    b": keep-alive comment\n\n",
    b'event: message\ndata: {"a": 1}\n\n',
    encode_event({"usage": {"prompt_tokens": 3}}),
    b"data: [DONE]\n\n",
]
STREAM = b"".join(EVENTS)


def split_all(data: bytes, cuts: list[int]) -> list[bytes]:
    splitter = SSESplitter()
    out: list[bytes] = []
    last = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        out += splitter.feed(data[last:cut])
        last = cut
    assert splitter.pending == b""
    return out


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30))
def test_any_cut_gives_the_same_events(cuts: list[int]) -> None:
    assert split_all(STREAM, cuts) == [e[:-2] for e in EVENTS]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=10))
def test_crlf_boundaries(cuts: list[int]) -> None:
    crlf = STREAM.replace(b"\n", b"\r\n")
    events = split_all(crlf, cuts)
    assert len(events) == len(EVENTS)
    assert parse_event(events[-1]).is_done


def test_event_is_withheld_until_complete() -> None:
    splitter = SSESplitter()
    assert splitter.feed(b'data: {"a":') == []
    assert splitter.feed(b" 1}\n") == []
    assert splitter.feed(b"\n") == [b'data: {"a": 1}']


def test_parse_kinds() -> None:
    assert parse_event(b"data: [DONE]").is_done
    assert parse_event(b": ping").is_comment
    assert parse_event(b'data: {"x": [1, 2]}').json == {"x": [1, 2]}
    multi = parse_event(b'data: {"x":\ndata: 1}')
    assert multi.json == {"x": 1}


@pytest.mark.parametrize(
    "raw",
    [b"data: {not json", b"garbage line without colon", b"bogus: field", b"data: [DON"],
)
def test_malformed_events_are_named(raw: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(raw)


def outcome(raw: bytes) -> tuple[object, ...]:
    try:
        event = parse_event(raw)
    except MalformedEvent:
        return ("malformed",)
    return (event.data, event.json, event.is_done, event.is_comment)


one_line_data = st.binary(max_size=60).filter(lambda b: b"\n" not in b and b"\r" not in b)


@given(payload=one_line_data, space=st.booleans())
def test_a_one_line_data_event_reads_as_it_does_among_other_fields(
    payload: bytes, space: bool
) -> None:
    """A lone `data:` line takes a shorter path; an `id:` line before it takes the general one.
    Both must read the same data, JSON and failures."""
    raw = b"data:" + (b" " if space else b"") + payload
    assert outcome(raw) == outcome(b"id: 7\n" + raw)


@given(
    pieces=st.lists(st.sampled_from([b"data: 1", b"\n", b"\r\n", b"\r", b"x", b":"]), max_size=30)
)
def test_the_splitter_cuts_where_a_blank_line_ends_an_event(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    parts = re.split(rb"\r?\n\r?\n", data)
    assert SSESplitter().feed(data) == [p for p in parts[:-1] if p]
