"""The usage a client reads says what was metered, in OpenAI's convention: reasoning inside
`completion_tokens` and named in `reasoning_tokens`, total = prompt + completion."""

from __future__ import annotations

from router.metering.client_usage import openai_usage_fields
from router.metering.usage import Usage, estimated_usage

OPENAI = {
    "prompt_tokens": 40,
    "completion_tokens": 409,
    "total_tokens": 449,
    "completion_tokens_details": {"reasoning_tokens": 400, "audio_tokens": 0},
}


def test_an_answer_already_in_openais_convention_goes_as_it_came() -> None:
    metered = Usage(input_uncached=40, reasoning_output=400, visible_output=9)
    assert openai_usage_fields(OPENAI, metered) is None
    plain = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    assert openai_usage_fields(plain, Usage(input_uncached=5, visible_output=7)) is None


def test_reasoning_counted_apart_is_put_inside_completion_tokens() -> None:
    gemini = {**OPENAI, "completion_tokens": 9}  # Gemini's endpoint, xAI: visible only
    metered = Usage(input_uncached=40, reasoning_output=400, visible_output=9)
    fields = openai_usage_fields(gemini, metered)
    assert fields is not None
    assert (fields["completion_tokens"], fields["total_tokens"]) == (409, 449)
    assert fields["completion_tokens_details"] == {"reasoning_tokens": 400, "audio_tokens": 0}


def test_reasoning_the_host_did_not_name_is_named() -> None:
    bare = {"prompt_tokens": 40, "completion_tokens": 409, "total_tokens": 449}
    fields = openai_usage_fields(
        bare, Usage(input_uncached=40, reasoning_output=400, visible_output=9)
    )
    assert fields == {**bare, "completion_tokens_details": {"reasoning_tokens": 400}}


def test_an_estimate_never_overrides_what_the_upstream_reported() -> None:
    assert openai_usage_fields(OPENAI, estimated_usage(input_tokens=3, visible_output=2)) is None
