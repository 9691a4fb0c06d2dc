"""The edge: request ids, error shapes and routing, over real Starlette routes."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from router.api.edge import Edge, Endpoint
from router.api.json import json_response
from router.errors import InvalidRequest


async def fine(request: Request) -> Response:
    return json_response({"ok": True, "id": request.scope["tokenwise.request_id"]})


async def refused(request: Request) -> Response:
    raise InvalidRequest("Field 'x' must be a string.", param="x", code="invalid_type")


async def broken(request: Request) -> Response:
    raise RuntimeError("secret internals")


async def broken_item(request: Request) -> Response:
    raise RuntimeError(f"secret internals of {request.path_params['item']}")


FIXED: dict[tuple[str, str], Endpoint] = {
    ("GET", "/fine"): fine,
    ("POST", "/refused"): refused,
    ("GET", "/broken"): broken,
}


class EdgeApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        return Edge(self.router, FIXED)


@pytest.fixture
def client() -> TestClient:
    routes = [Route(path, endpoint, methods=[method]) for (method, path), endpoint in FIXED.items()]
    routes.append(Route("/items/{item}", broken_item, methods=["GET"]))
    return TestClient(EdgeApp(routes=routes), raise_server_exceptions=False)


def test_every_response_carries_its_own_request_id(client: TestClient) -> None:
    first, second = client.get("/fine"), client.get("/fine")
    assert first.status_code == second.status_code == 200
    assert first.headers["x-request-id"] == first.json()["id"]
    assert first.headers["x-request-id"].startswith("req_")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_a_proxy_error_is_its_own_status_and_openai_body(client: TestClient) -> None:
    resp = client.post("/refused")
    assert resp.status_code == 400
    assert resp.json() == {
        "error": {
            "message": "Field 'x' must be a string.",
            "type": "invalid_request_error",
            "param": "x",
            "code": "invalid_type",
        }
    }
    assert resp.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/broken", "/items/42"])
def test_an_unexpected_error_is_a_logged_500_without_internals(
    client: TestClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tokenwise"):
        resp = client.get(path)
    assert resp.status_code == 500
    error = resp.json()["error"]
    request_id = resp.headers["x-request-id"]
    assert error["type"] == "server_error" and error["code"] == "internal_error"
    assert request_id in error["message"]
    assert "secret" not in resp.text and "Traceback" not in resp.text
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_unknown_paths_and_methods_are_named(client: TestClient) -> None:
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_url"
    assert "/nowhere" in missing.json()["error"]["message"]
    assert missing.headers["x-request-id"]
    wrong = client.delete("/fine")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    assert wrong.headers["x-request-id"]
