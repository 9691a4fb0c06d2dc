"""Schemathesis over the proxy's own OpenAPI document (`router.api.openapi`, with the models of
the embedded default, as `/openapi.json` serves it to a client with a key: a test below checks
the two agree).

Positive cases (bodies the document allows) reach the simulator and must succeed or fail as a
4xx; negative cases (each field missing, of the wrong type or out of range) must be a 4xx with
an OpenAI-shaped error. Never a 5xx from Tokenwise, never a hang (the client's timeout).
"""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import settings
from schemathesis.generation import GenerationMode

from router.api.openapi import document
from router.sim.catalog import default_catalog
from tests.fuzz.conftest import DEV_KEY, FUZZ, SENT

EXAMPLES = 300
VIRTUAL = ("auto", "auto-economy", "auto-quality")
MODELS = (*VIRTUAL, *(m.name for m in default_catalog()))

schema = schemathesis.openapi.from_dict(document(MODELS))
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@schema.parametrize()
@settings(FUZZ, max_examples=EXAMPLES)
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case, base_url: str) -> None:
    response = case.call(
        base_url=base_url, headers={"authorization": f"Bearer {DEV_KEY}"}, timeout=30
    )
    SENT.update([f"openapi {response.status_code}"])
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400 and case.path.startswith("/v1/"):
        error = response.json()["error"]
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["type"], str)


def test_the_fuzzed_document_is_the_served_one(base_url: str) -> None:
    key = {"authorization": f"Bearer {DEV_KEY}"}
    served = httpx.get(f"{base_url}/openapi.json", headers=key).json()
    assert served == document(MODELS)
    # Without a key, the API but not the catalog (as /v1/models, which wants a key).
    anonymous = httpx.get(f"{base_url}/openapi.json").json()
    assert anonymous == document()
    assert "enum" not in anonymous["components"]["schemas"]["ChatRequest"]["properties"]["model"]
    assert set(served["paths"]) == {
        "/v1/chat/completions",
        "/v1/responses",
        "/v1/responses/{response_id}",
        "/v1/completions",
        "/v1/embeddings",
        "/v1/models",
        "/v1/models/{model}",
        "/healthz",
        "/readyz",
    }
