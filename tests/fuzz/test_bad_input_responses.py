"""Hostile bodies on `/v1/responses` and `/v1/completions`: a 4xx OpenAI-shaped error, never a 5xx.

Each common field of the wrong type is a 400 naming it before anything is forwarded (the
router.api.fields tables), on a model the simulator serves natively (`sim-small`) and on one the
proxy translates for (`sim-think-tags`, chat only); hypothesis sends arbitrary JSON values in
every field.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.api.fields import COMPLETIONS_FIELDS, RESPONSES_FIELDS
from tests.fuzz.conftest import FUZZ, SENT
from tests.fuzz.test_bad_input import (
    WRONG,
    check_client_error,
    check_never_a_server_error,
    json_values,
)
from tests.unit.api.test_fields_responses import COMPLETIONS_WRONG, RESPONSES_WRONG

RESPONSES = "/v1/responses"
COMPLETIONS = "/v1/completions"
NATIVE, TRANSLATED = "sim-small", "sim-think-tags"


@pytest.mark.parametrize("field", sorted(RESPONSES_WRONG))
def test_a_wrong_type_in_a_responses_field_is_a_400_naming_it(
    http: httpx.Client, field: str
) -> None:
    for model in (NATIVE, TRANSLATED):
        body = {"model": model, "input": "hi", field: RESPONSES_WRONG[field]}
        response = http.post(RESPONSES, json=body)
        SENT.update(["responses wrong-type " + str(response.status_code)])
        error = check_client_error(response, 400)
        assert error["param"] == field and error["code"] == "invalid_type", (model, error)


@pytest.mark.parametrize("field", sorted(COMPLETIONS_WRONG))
def test_a_wrong_type_in_a_completions_field_is_a_400_naming_it(
    http: httpx.Client, field: str
) -> None:
    body = {"model": NATIVE, "prompt": "hi", field: COMPLETIONS_WRONG[field]}
    response = http.post(COMPLETIONS, json=body)
    SENT.update(["completions wrong-type " + str(response.status_code)])
    error = check_client_error(response, 400)
    assert error["param"] == field and error["code"] == "invalid_type", error


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (RESPONSES, {"model": NATIVE, "input": "hi", "max_output_tokens": 0}, "max_output_tokens"),
        (RESPONSES, {"model": TRANSLATED, "input": "hi", "temperature": 3}, "temperature"),
        (RESPONSES, {"model": NATIVE, "input": [1]}, "input[0]"),
        (COMPLETIONS, {"model": NATIVE, "prompt": "hi", "max_tokens": -1}, "max_tokens"),
        (COMPLETIONS, {"model": NATIVE, "prompt": []}, "prompt"),
    ],
)
def test_a_value_out_of_range_is_a_400_naming_it(
    http: httpx.Client, path: str, body: dict[str, Any], param: str
) -> None:
    error = check_client_error(http.post(path, json=body), 400)
    assert error["param"] == param, error


@pytest.mark.parametrize("field", ["model", *sorted(RESPONSES_FIELDS)])
def test_any_wrong_value_in_a_responses_field_is_never_a_server_error(
    http: httpx.Client, field: str
) -> None:
    for value in WRONG:
        for model in (NATIVE, TRANSLATED):
            response = http.post(RESPONSES, json={"model": model, "input": "hi", field: value})
            check_never_a_server_error(response, "responses wrong-type", field, value, model)


@pytest.mark.parametrize("field", ["model", *sorted(COMPLETIONS_FIELDS)])
def test_any_wrong_value_in_a_completions_field_is_never_a_server_error(
    http: httpx.Client, field: str
) -> None:
    for value in WRONG:
        response = http.post(COMPLETIONS, json={"model": NATIVE, "prompt": "hi", field: value})
        check_never_a_server_error(response, "completions wrong-type", field, value)


READ = sorted({"model", *RESPONSES_FIELDS})


@settings(FUZZ, max_examples=150)
@given(
    fields=st.dictionaries(st.sampled_from(READ), json_values, min_size=1, max_size=4),
    model=st.sampled_from([NATIVE, TRANSLATED, "auto", "nope"]),
)
def test_arbitrary_json_in_responses_fields_is_never_a_server_error(
    http: httpx.Client, fields: dict[str, Any], model: str
) -> None:
    body = {"model": model, "input": "hi", **fields}
    body.pop("stream", None)  # a stream's errors arrive in-band; JSON answers are checked here
    response = http.post(RESPONSES, json=body)
    check_never_a_server_error(response, "responses json", body)
