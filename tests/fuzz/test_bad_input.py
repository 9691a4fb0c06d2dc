"""Hostile request bodies: each gets a 4xx OpenAI-shaped error, within the body limit.

Named cases (invalid UTF-8, deep nesting, huge strings, out-of-range numbers, a wrong type for
every field, message arrays past 1 MB) and hypothesis-generated bodies: arbitrary JSON values
in every field the proxy reads, and arbitrary bytes as a body.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ, SENT

CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
GOOD: dict[str, Any] = {"model": "sim-small", "messages": [{"role": "user", "content": "hi"}]}


def check_client_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    error: dict[str, Any] = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str)
    assert set(error) == {"message", "type", "param", "code"}
    return error


def check_never_a_server_error(response: httpx.Response, tally: str, *context: Any) -> None:
    """Counted under `tally`; below 500, and a 4xx is an OpenAI-shaped error (else `context`)."""
    SENT.update([f"{tally} {response.status_code}"])
    assert response.status_code < 500, (*context, response.text[:300])
    if response.status_code >= 400:
        check_client_error(response)


def post_raw(http: httpx.Client, path: str, raw: bytes) -> httpx.Response:
    return http.post(path, content=raw, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "sim-small", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
        b'{"model": "\xc3\x28", "messages": []}',
        b"\xef\xbb\xbf\x00\x00",
        b'{"model": "sim-small", "messages": [{"role": "user", "content": "\\ud800"}]}',
    ],
    ids=["bad-byte", "bad-sequence", "bom-and-nul", "lone-surrogate"],
)
def test_invalid_utf8_is_a_400(http: httpx.Client, raw: bytes) -> None:
    error = check_client_error(post_raw(http, CHAT, raw), 400)
    assert error["code"] == "invalid_json"


@pytest.mark.parametrize("depth", [200, 1_000, 100_000])
def test_deeply_nested_json_is_a_400(http: httpx.Client, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    raw = b'{"model": "sim-small", "messages": [{"role": "user", "content": ' + nested + b"}]}"
    response = post_raw(http, CHAT, raw)
    assert 400 <= response.status_code < 500
    check_client_error(response)


@pytest.mark.parametrize("depth", [300, 1_000])
def test_deep_nesting_in_a_forwarded_field_is_a_400(http: httpx.Client, depth: int) -> None:
    # Regression: 300 levels parse (orjson reads 1024) but could not be serialised again for
    # the upstream (orjson writes 254): the proxy answered 500.
    nested = b'{"a":' * depth + b"1" + b"}" * depth
    raw = orjson.dumps(GOOD)[:-1] + b', "response_format": ' + nested + b"}"
    error = check_client_error(post_raw(http, CHAT, raw), 400)
    assert "nested" in error["message"] or error["code"] == "invalid_json"


def test_moderate_nesting_is_still_forwarded(http: httpx.Client) -> None:
    value: Any = "x"
    for _ in range(100):
        value = {"a": value}
    response = http.post(CHAT, json={**GOOD, "metadata": {"deep": value}})
    assert response.status_code == 200, response.text[:300]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_tokens", 10**30),
        ("max_tokens", -(10**30)),
        ("max_tokens", 2**63),
        ("temperature", 1e308 * 10),
        ("seed", 10**40),
        ("n", 10**20),
        ("top_p", -1e300),
    ],
)
def test_numbers_out_of_range_are_a_400(http: httpx.Client, field: str, value: Any) -> None:
    raw = orjson.dumps(GOOD)[:-1] + f', "{field}": {value!r}}}'.replace("inf", "1e999").encode()
    error = check_client_error(post_raw(http, CHAT, raw), 400)
    assert error["param"] == field or error["code"] == "invalid_json"


def test_a_huge_string_within_the_limit_is_not_a_server_error(http: httpx.Client) -> None:
    big = "a" * (8 * 1024 * 1024)
    response = http.post(
        CHAT, json={"model": "nope", "messages": [{"role": "user", "content": big}]}
    )
    check_client_error(response, 404)


def test_a_body_past_the_limit_is_a_413(http: httpx.Client) -> None:
    big = "a" * (17 * 1024 * 1024)
    response = http.post(CHAT, json={**GOOD, "messages": [{"role": "user", "content": big}]})
    assert check_client_error(response, 413)["code"] == "request_too_large"


def test_a_chunked_body_past_the_limit_is_a_413(http: httpx.Client) -> None:
    def chunks() -> Any:
        yield b'{"model": "sim-small", "messages": [{"role": "user", "content": "'
        for _ in range(20):
            yield b"a" * (1024 * 1024)
        yield b'"}]}'

    response = http.post(CHAT, content=chunks())
    assert check_client_error(response, 413)["code"] == "request_too_large"


def test_a_message_array_past_one_megabyte_is_a_4xx(http: httpx.Client) -> None:
    messages = [{"role": "user", "content": "x" * 100} for _ in range(12_000)]  # ~1.4 MB
    response = http.post(CHAT, json={"model": "nope", "messages": messages})
    check_client_error(response, 404)
    bad = [*messages, 7]
    error = check_client_error(http.post(CHAT, json={"model": "sim-small", "messages": bad}), 400)
    assert error["param"] == f"messages[{len(messages)}]"


WRONG = [None, True, 0, -1, 1.5, "", "x", [], [1], {}, {"a": 1}]
CHAT_FIELDS = [
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "seed",
    "user",
    "tools",
    "tool_choice",
    "response_format",
    "logit_bias",
    "reasoning_effort",
    "reasoning",
    "thinking",
    "chat_template_kwargs",
    "metadata",
]


@pytest.mark.parametrize("field", CHAT_FIELDS)
def test_a_wrong_type_in_any_chat_field_is_never_a_server_error(
    http: httpx.Client, field: str
) -> None:
    for value in WRONG:
        response = http.post(CHAT, json={**GOOD, field: value})
        check_never_a_server_error(response, "wrong-type", field, value)


@pytest.mark.parametrize("field", ["role", "content", "name", "tool_calls", "tool_call_id"])
def test_a_wrong_type_in_any_message_field_is_never_a_server_error(
    http: httpx.Client, field: str
) -> None:
    for value in WRONG:
        for model in ("sim-small", "auto", "sim-think-tags"):
            message = {"role": "user", "content": "hi", field: value}
            response = http.post(CHAT, json={"model": model, "messages": [message]})
            check_never_a_server_error(response, "wrong-type", field, value, model)


@pytest.mark.parametrize("field", ["model", "input", "encoding_format", "dimensions", "user"])
def test_a_wrong_type_in_any_embeddings_field_is_never_a_server_error(
    http: httpx.Client, field: str
) -> None:
    for value in WRONG:
        body = {"model": "sim-small", "input": "hello", field: value}
        response = http.post(EMBEDDINGS, json=body)
        check_never_a_server_error(response, "wrong-type", field, value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
MODELS = st.sampled_from(["sim-small", "auto", "sim-mini-reasoner", "sim-think-tags", "nope"])
FIELDS = st.sampled_from(CHAT_FIELDS[2:])


@settings(FUZZ, max_examples=400)
@given(
    model=MODELS,
    fields=st.dictionaries(FIELDS, json_values, max_size=3),
    message=st.dictionaries(
        st.sampled_from(["role", "content", "name", "reasoning_content", "tool_calls"]),
        json_values,
        max_size=3,
    ),
)
def test_arbitrary_json_in_chat_fields_is_never_a_server_error(
    http: httpx.Client, model: str, fields: dict[str, Any], message: dict[str, Any]
) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "hi", **message}], **fields}
    body.pop("stream", None)  # streams answer 200 first; their errors are in-band (below)
    response = http.post(CHAT, json=body)
    check_never_a_server_error(response, "json-fields", body)


@settings(FUZZ, max_examples=150)
@given(
    model=MODELS,
    fields=st.dictionaries(FIELDS, json_values, max_size=3),
)
def test_arbitrary_json_in_streamed_chat_fields_is_never_a_server_error(
    http: httpx.Client, model: str, fields: dict[str, Any]
) -> None:
    body = {**GOOD, "model": model, **fields, "stream": True}
    with http.stream("POST", CHAT, json=body) as response:
        raw = response.read()
    SENT.update([f"json-stream {response.status_code}"])
    assert response.status_code < 500, (body, raw[:300])
    if response.status_code == 200:
        assert raw.rstrip().endswith(b"data: [DONE]") or b'"error"' in raw, raw[-300:]
    else:
        check_client_error(response)


@settings(FUZZ, max_examples=300)
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_as_a_body_are_a_4xx(http: httpx.Client, raw: bytes) -> None:
    response = post_raw(http, CHAT, raw)
    SENT.update([f"bytes {response.status_code}"])
    check_client_error(response)


header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
    st.sampled_from(
        ["tier=hard", "policy=economy", "tier=", "=", ";;;", "tier=hard; policy=nope", "a" * 5000]
    ),
).map(lambda v: v.strip(" \t").encode("latin-1"))  # h11 sends no edge whitespace


@settings(FUZZ, max_examples=200)
@given(
    model=st.sampled_from(["auto", "auto-economy", "sim-small"]),
    route=header_values,
    session=header_values,
    auth=header_values,
)
def test_arbitrary_request_headers_are_never_a_server_error(
    http: httpx.Client, model: str, route: bytes, session: bytes, auth: bytes
) -> None:
    headers = {"x-tokenwise-route": route, "x-tokenwise-session": session}
    response = http.post(CHAT, json={**GOOD, "model": model}, headers=headers)
    check_never_a_server_error(response, "headers", route, session)
    response = http.post(CHAT, json=GOOD, headers={"authorization": (b"Bearer " + auth).strip()})
    SENT.update([f"headers {response.status_code}"])
    check_client_error(response, 401)
