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

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}

EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"]

TEXT_PART = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
}

MESSAGE = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
        "content": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/components/schemas/TextPart"}},
                {"type": "null"},
            ]
        },
        "name": {"type": "string"},
    },
}

CHAT_REQUEST = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/components/schemas/Message"},
        },
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {
            "type": "object",
            "properties": {"include_usage": {"type": "boolean"}},
        },
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
        "max_completion_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "n": {"type": "integer", "minimum": 1, "maximum": 1},
        "stop": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "maxItems": 4},
            ]
        },
        "seed": {"type": "integer"},
        "user": {"type": "string"},
        "reasoning_effort": {"type": "string", "enum": EFFORTS},
        "reasoning": {
            "type": "object",
            "properties": {
                "effort": {"type": "string", "enum": EFFORTS},
                "max_tokens": {"type": "integer", "minimum": 0},
                "enabled": {"type": "boolean"},
                "exclude": {"type": "boolean"},
            },
        },
    },
}

EMBEDDINGS_REQUEST = {
    "type": "object",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        },
        "encoding_format": {"type": "string", "enum": ["float", "base64"]},
        "user": {"type": "string"},
    },
}

INPUT_PART = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "input_text"}, "text": {"type": "string"}},
}

INPUT_MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "type": {"const": "message"},
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
        "content": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/components/schemas/InputTextPart"}},
            ]
        },
    },
}

FUNCTION_TOOL = {
    "type": "object",
    "required": ["type", "name"],
    "properties": {
        "type": {"const": "function"},
        "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
        "description": {"type": "string"},
        "parameters": {"type": "object"},
    },
}

RESPONSES_REQUEST = {
    "type": "object",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/components/schemas/InputMessage"},
                },
            ]
        },
        "instructions": {"type": ["string", "null"]},
        "stream": {"type": ["boolean", "null"]},
        "store": {"type": "boolean"},
        "max_output_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "previous_response_id": {"type": ["string", "null"]},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "user": {"type": "string"},
        "tools": {"type": "array", "items": {"$ref": "#/components/schemas/FunctionTool"}},
        "tool_choice": {"type": "string", "enum": ["none", "auto"]},
        "parallel_tool_calls": {"type": "boolean"},
        "truncation": {"type": "string", "enum": ["auto", "disabled"]},
        "text": {
            "type": "object",
            "properties": {
                "format": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"type": "string", "enum": ["text", "json_object"]}},
                }
            },
        },
        "reasoning": {
            "type": "object",
            "properties": {
                "effort": {"type": "string", "enum": EFFORTS},
                "summary": {"type": "string", "enum": ["auto", "concise", "detailed"]},
            },
        },
    },
}

COMPLETIONS_REQUEST = {
    "type": "object",
    "required": ["model", "prompt"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "prompt": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        },
        "suffix": {"type": "string"},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {
            "type": "object",
            "properties": {"include_usage": {"type": "boolean"}},
        },
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "n": {"type": "integer", "minimum": 1, "maximum": 1},
        "stop": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "maxItems": 4},
            ]
        },
        "seed": {"type": "integer"},
        "echo": {"type": "boolean"},
        "logprobs": {"type": "integer", "minimum": 0, "maximum": 5},
        "user": {"type": "string"},
    },
}

# Answers every endpoint may give besides its own success.
ERRORS = {
    "400": "the request is malformed: the message names the field",
    "401": "missing or unknown API key",
    "403": "the key may not use this model",
    "404": "unknown model",
    "413": "the body is larger than server.body_limit_bytes",
    "429": "a budget or rate limit refused the request",
    "502": "the upstream provider failed",
    "503": "overloaded",
    "504": "the upstream provider timed out",
}


def _errors(*codes: str) -> dict[str, Any]:
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {code: {"description": ERRORS[code], "content": ref} for code in codes}


def _post(summary: str, schema: str, ok: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            },
            "responses": {"200": ok, **_errors(*ERRORS)},
        }
    }


def _stored(method: str, summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [
            {
                "name": "response_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
            }
        ],
        "responses": {
            "200": {
                "description": f"the {method} answer",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **_errors("401", "404", "502", "503", "504"),
        },
    }


def _probe(summary: str) -> dict[str, Any]:
    body = {"application/json": {"schema": {"type": "object"}}}
    return {
        "get": {
            "summary": summary,
            "responses": {
                "200": {"description": "ok", "content": body},
                "503": {"description": "starting", "content": body},
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
    json_object = {"type": "object"}
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
                {
                    "description": "the completion",
                    "content": {
                        "application/json": {"schema": json_object},
                        "text/event-stream": {"schema": {"type": "string"}},
                    },
                },
            ),
            "/v1/responses": _post(
                "Create a response (Responses API; JSON, or its events with stream: true)",
                "ResponsesRequest",
                {
                    "description": "the response",
                    "content": {
                        "application/json": {"schema": json_object},
                        "text/event-stream": {"schema": {"type": "string"}},
                    },
                },
            ),
            "/v1/responses/{response_id}": {
                "get": _stored("get", "A stored response made through this proxy"),
                "delete": _stored("delete", "Delete a stored response"),
            },
            "/v1/completions": _post(
                "Create a legacy text completion (models whose upstream serves them)",
                "CompletionsRequest",
                {
                    "description": "the completion",
                    "content": {
                        "application/json": {"schema": json_object},
                        "text/event-stream": {"schema": {"type": "string"}},
                    },
                },
            ),
            "/v1/embeddings": _post(
                "Create embeddings",
                "EmbeddingsRequest",
                {
                    "description": "the embeddings",
                    "content": {"application/json": {"schema": json_object}},
                },
            ),
            "/v1/models": {
                "get": {
                    "summary": "List the catalog and the virtual models",
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": {
                            "description": "the models",
                            "content": {"application/json": {"schema": json_object}},
                        },
                        **_errors("401", "503"),
                    },
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
