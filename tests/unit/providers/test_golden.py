"""Every golden case: the upstream request, the reported headers and the client response."""

from __future__ import annotations

import pytest

from router.errors import ProxyError
from router.providers.registry import DIALECTS
from tests.unit.providers.golden import Case, cases, read_json

CASES = list(cases())


def test_every_dialect_has_cases() -> None:
    covered = {case.folder.parent.name for case in CASES}
    assert covered == set(DIALECTS)
    assert len(CASES) >= 35


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_case(case: Case) -> None:
    if case.file("error.json").is_file():
        expected = read_json(case.file("error.json"))
        with pytest.raises(ProxyError) as caught:
            case.build()
        assert (caught.value.status, caught.value.code, caught.value.param) == (
            expected["status"],
            expected["code"],
            expected["param"],
        )
        return
    call = case.build()
    upstream = read_json(case.file("upstream_request.json"))
    assert call.path == upstream["path"]
    assert dict(call.headers) == upstream["headers"]
    assert call.body == upstream["body"]
    assert call.report.headers() == read_json(case.file("headers.json"))
    assert case.translate() == read_json(case.file("response.json"))


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.file("upstream_response.json").is_file()],
    ids=lambda case: case.name,
)
def test_unchanged_answers_are_the_same_object(case: Case) -> None:
    """When nothing needs translating, the caller can relay the upstream's bytes untouched."""
    payload = read_json(case.file("upstream_response.json"))
    result = case.adapter.parse_response(payload, case.model, True)
    assert (result is payload) == (payload == read_json(case.file("response.json")))
