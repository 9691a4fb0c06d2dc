"""`/openapi.json` describes what the server accepts: a client generated from it must not refuse
a request the proxy takes, nor send one it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from router.api.fields import CHAT_FIELDS
from router.api.openapi import document
from router.errors import InvalidRequest

CHAT = document()["components"]["schemas"]["ChatRequest"]["properties"]


@pytest.mark.parametrize("field", ["n", "max_tokens", "max_completion_tokens", "temperature"])
def test_a_documented_range_is_the_range_the_server_checks(field: str) -> None:
    schema: dict[str, Any] = CHAT[field]
    check = CHAT_FIELDS[field]
    check(field, schema["minimum"])
    check(field, schema["maximum"])
    step = 1 if schema["type"] == "integer" else 0.5
    for outside in (schema["minimum"] - step, schema["maximum"] + step):
        with pytest.raises(InvalidRequest):
            check(field, outside)


def test_message_content_may_hold_text_and_image_parts() -> None:
    schemas = document()["components"]["schemas"]
    content = schemas["Message"]["properties"]["content"]["anyOf"]
    [array] = [option for option in content if option.get("type") == "array"]
    parts = {ref["$ref"].rsplit("/", 1)[1] for ref in array["items"]["anyOf"]}
    assert parts == {"TextPart", "ImagePart"}
    assert schemas["ImagePart"]["required"] == ["type", "image_url"]
