"""The OpenAPI document of the public endpoints, written by hand and served at `/openapi.json`.

The routes are plain Starlette routes (FastAPI's generated document would list none of them),
so this document says what a client may send: chat completions, the Responses API (create, get,
delete), legacy completions, embeddings, the model list and the health probes. It describes the
fields the proxy reads itself and the common OpenAI ones; anything else in a body is forwarded
to the upstream (`additionalProperties` stays open). Every error is the OpenAI error object. The
fuzz suite (tests/fuzz/) generates its requests from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router import __version__


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    if not required:
        return {"type": "object", "properties": properties}
    return {"type": "object", "required": list(required), "properties": properties}


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _range(kind: str, low: int, high: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind, "minimum": low}
    if high is not None:
        schema["maximum"] = high
    return schema


def _string_or(array: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [{"type": "string"}, {"type": "array", **array}, *others]}


def _strings(**limits: int) -> dict[str, Any]:
    """One string or an array of them."""
    return _string_or({"items": {"type": "string"}, **limits})


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


STRING = {"type": "string"}
OPTIONAL_STRING = {"type": ["string", "null"]}
NON_EMPTY = {"type": "string", "minLength": 1}
INT32 = 2**31 - 1
OUTPUT_LIMIT = _range("integer", 1, INT32)
EFFORT = _enum("none", "minimal", "low", "medium", "high", "xhigh", "max")

ERROR = _object(
    {
        "error": _object(
            {
                "message": STRING,
                "type": STRING,
                "param": OPTIONAL_STRING,
                "code": OPTIONAL_STRING,
            },
            "message",
            "type",
        )
    },
    "error",
)

TEXT_PART = _object({"type": {"const": "text"}, "text": STRING}, "type", "text")
IMAGE_PART = _object(
    {
        "type": {"const": "image_url"},
        "image_url": _object({"url": STRING, "detail": _enum("auto", "low", "high")}, "url"),
    },
    "type",
    "image_url",
)

MESSAGE = _object(
    {
        "role": _enum("system", "developer", "user", "assistant", "tool"),
        "content": _string_or(
            {"items": {"anyOf": [_ref("TextPart"), _ref("ImagePart")]}}, {"type": "null"}
        ),
        "name": STRING,
    },
    "role",
)

STREAMING = {
    "stream": {"type": ["boolean", "null"]},
    "stream_options": _object({"include_usage": {"type": "boolean"}}),
}
SAMPLING = {"temperature": _range("number", 0, 2), "top_p": _range("number", 0, 1)}
# Chat and legacy completions alike.
CHOICES = {
    "n": _range("integer", 1, 128),
    "stop": _strings(maxItems=4),
    "seed": {"type": "integer"},
}

CHAT_REQUEST = _object(
    {
        "model": NON_EMPTY,
        "messages": {"type": "array", "minItems": 1, "items": _ref("Message")},
        **STREAMING,
        "max_tokens": OUTPUT_LIMIT,
        "max_completion_tokens": OUTPUT_LIMIT,
        **SAMPLING,
        **CHOICES,
        "user": STRING,
        "reasoning_effort": EFFORT,
        "reasoning": _object(
            {
                "effort": EFFORT,
                "max_tokens": _range("integer", 0),
                "enabled": {"type": "boolean"},
                "exclude": {"type": "boolean"},
            }
        ),
    },
    "model",
    "messages",
)

EMBEDDINGS_REQUEST = _object(
    {
        "model": NON_EMPTY,
        "input": _strings(minItems=1),
        "encoding_format": _enum("float", "base64"),
        "user": STRING,
    },
    "model",
    "input",
)

INPUT_PART = _object({"type": {"const": "input_text"}, "text": STRING}, "type", "text")

INPUT_MESSAGE = _object(
    {
        "type": {"const": "message"},
        "role": _enum("system", "developer", "user", "assistant"),
        "content": _string_or({"items": _ref("InputTextPart")}),
    },
    "role",
    "content",
)

FUNCTION_TOOL = _object(
    {
        "type": {"const": "function"},
        "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
        "description": STRING,
        "parameters": {"type": "object"},
    },
    "type",
    "name",
)

RESPONSES_REQUEST = _object(
    {
        "model": NON_EMPTY,
        "input": _string_or({"minItems": 1, "items": _ref("InputMessage")}),
        "instructions": OPTIONAL_STRING,
        "stream": STREAMING["stream"],
        "store": {"type": "boolean"},
        "max_output_tokens": OUTPUT_LIMIT,
        **SAMPLING,
        "previous_response_id": OPTIONAL_STRING,
        "metadata": {"type": "object", "additionalProperties": STRING},
        "user": STRING,
        "tools": {"type": "array", "items": _ref("FunctionTool")},
        "tool_choice": _enum("none", "auto"),
        "parallel_tool_calls": {"type": "boolean"},
        "truncation": _enum("auto", "disabled"),
        "text": _object({"format": _object({"type": _enum("text", "json_object")}, "type")}),
        "reasoning": _object({"effort": EFFORT, "summary": _enum("auto", "concise", "detailed")}),
    },
    "model",
    "input",
)

COMPLETIONS_REQUEST = _object(
    {
        "model": NON_EMPTY,
        "prompt": _strings(minItems=1),
        "suffix": STRING,
        **STREAMING,
        "max_tokens": OUTPUT_LIMIT,
        **SAMPLING,
        **CHOICES,
        "echo": {"type": "boolean"},
        "logprobs": _range("integer", 0, 5),
        "user": STRING,
    },
    "model",
    "prompt",
)

# Answers every endpoint may give besides its own success.
ERRORS = {
    "400": "the request is malformed: the message names the field",
    "401": "missing or unknown API key",
    "403": "the key may not use this model",
    "404": "unknown model",
    "408": "the body did not arrive within server.body_timeout_seconds",
    "413": "the body is larger than server.body_limit_bytes",
    "429": "a budget or rate limit refused the request",
    "502": "the upstream provider failed",
    "503": "overloaded",
    "504": "the upstream provider timed out",
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
JSON_OBJECT = _json({"type": "object"})


def _errors(*codes: str) -> dict[str, Any]:
    ref = _json(_ref("Error"))
    return {code: {"description": ERRORS[code], "content": ref} for code in codes}


def _answer(description: str, *, stream: bool = False) -> dict[str, Any]:
    """A 200 answer: a JSON object, or (`stream`) that or an event stream."""
    if not stream:
        return {"description": description, "content": JSON_OBJECT}
    events = {"text/event-stream": {"schema": STRING}}
    return {"description": description, "content": {**JSON_OBJECT, **events}}


def _post(summary: str, schema: str, ok: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "security": BEARER,
            "requestBody": {"required": True, "content": _json(_ref(schema))},
            "responses": {"200": ok, **_errors(*ERRORS)},
        }
    }


def _stored(method: str, summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": BEARER,
        "parameters": [
            {"name": "response_id", "in": "path", "required": True, "schema": NON_EMPTY}
        ],
        "responses": {
            "200": _answer(f"the {method} answer"),
            **_errors("401", "404", "502", "503", "504"),
        },
    }


def _probe(summary: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "responses": {
                "200": {"description": "ok", "content": JSON_OBJECT},
                "503": {"description": "starting", "content": JSON_OBJECT},
            },
        }
    }


def _with_models(schema: dict[str, Any], models: Sequence[str]) -> dict[str, Any]:
    if not models:
        return schema
    model = {"type": "string", "enum": list(models)}
    return {**schema, "properties": {**schema["properties"], "model": model}}


def document(models: Sequence[str] = ()) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the public API; `models` (the names this proxy serves, when
    known) become the choices of each request's `model`."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tokenwise",
            "version": __version__,
            "description": "OpenAI-compatible proxy: routes by difficulty, normalizes reasoning, "
            "meters real cost.",
        },
        "paths": {
            "/v1/chat/completions": _post(
                "Create a chat completion (JSON, or an event stream with stream: true)",
                "ChatRequest",
                _answer("the completion", stream=True),
            ),
            "/v1/responses": _post(
                "Create a response (Responses API; JSON, or its events with stream: true)",
                "ResponsesRequest",
                _answer("the response", stream=True),
            ),
            "/v1/responses/{response_id}": {
                "get": _stored("get", "A stored response made through this proxy"),
                "delete": _stored("delete", "Delete a stored response"),
            },
            "/v1/completions": _post(
                "Create a legacy text completion (models whose upstream serves them)",
                "CompletionsRequest",
                _answer("the completion", stream=True),
            ),
            "/v1/embeddings": _post(
                "Create embeddings", "EmbeddingsRequest", _answer("the embeddings")
            ),
            "/v1/models": {
                "get": {
                    "summary": "List the catalog and the virtual models",
                    "security": BEARER,
                    "responses": {"200": _answer("the models"), **_errors("401", "503")},
                }
            },
            "/v1/models/{model}": {
                "get": {
                    "summary": "One model of the catalog, or a virtual model",
                    "security": BEARER,
                    "parameters": [
                        {"name": "model", "in": "path", "required": True, "schema": NON_EMPTY}
                    ],
                    "responses": {"200": _answer("the model"), **_errors("401", "404", "503")},
                }
            },
            "/healthz": _probe("Liveness"),
            "/readyz": _probe("Readiness"),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": ERROR,
                "TextPart": TEXT_PART,
                "ImagePart": IMAGE_PART,
                "Message": MESSAGE,
                "ChatRequest": _with_models(CHAT_REQUEST, models),
                "InputTextPart": INPUT_PART,
                "InputMessage": INPUT_MESSAGE,
                "FunctionTool": FUNCTION_TOOL,
                "ResponsesRequest": _with_models(RESPONSES_REQUEST, models),
                "CompletionsRequest": _with_models(COMPLETIONS_REQUEST, models),
                "EmbeddingsRequest": _with_models(EMBEDDINGS_REQUEST, models),
            },
        },
    }
