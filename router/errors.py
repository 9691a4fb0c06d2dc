"""Every error Tokenwise answers with, and its OpenAI-shaped body.

    ProxyError                      status  type                    code
    ├── InvalidRequest              400     invalid_request_error   (given; e.g. invalid_json)
    │   ├── UnsupportedParameter    400     invalid_request_error   unsupported_parameter
    │   └── InvalidReasoning        400     invalid_request_error   invalid_reasoning
    ├── AuthenticationFailed        401     authentication_error    invalid_api_key
    ├── PermissionDenied            403     permission_error        (given)
    ├── NotFound                    404     invalid_request_error   (given; e.g. model_not_found)
    ├── BodyTooLarge                413     invalid_request_error   request_too_large
    ├── BudgetExceeded              429     insufficient_quota      budget_exceeded
    ├── RateLimited                 429     rate_limit_error        rate_limit_exceeded
    ├── UpstreamStatus              (the upstream's status, passed through with its message)
    ├── UpstreamProtocolError       502     upstream_error          upstream_error
    ├── Overloaded                  503     overloaded_error        overloaded
    ├── UpstreamUnavailable         503     upstream_error          upstream_unavailable
    ├── UpstreamTimeout             504     timeout_error           upstream_timeout
    └── InternalError               500     server_error            internal_error

Handlers raise these; one place (`router.api.errors`) turns them into responses. A message says
what to fix, never how the proxy failed inside: no traceback reaches a client.
"""

from __future__ import annotations

from typing import Any

import orjson

REDACTED = "[redacted]"


class ProxyError(Exception):
    status: int = 500
    type: str = "server_error"
    code: str | None = "internal_error"
    counted_try: bool = False  # already counted as a failed upstream try (Exchange.try_failed)

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.code, self.param)

    def redact(self, secret: str | None) -> None:
        """Take a secret out of the message (an upstream that echoes the provider key it was
        sent, as some do in their 401 answers)."""
        if secret and secret in self.message:
            self.message = self.message.replace(secret, REDACTED)

    def body_bytes(self) -> bytes:
        return orjson.dumps(self.body())


class InvalidRequest(ProxyError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class UnsupportedParameter(InvalidRequest):
    code = "unsupported_parameter"


class InvalidReasoning(InvalidRequest):
    code = "invalid_reasoning"


class AuthenticationFailed(ProxyError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDenied(ProxyError):
    status = 403
    type = "permission_error"
    code = "permission_denied"


class NotFound(ProxyError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class BodyTooLarge(ProxyError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class RequestTimeout(ProxyError):
    status = 408
    type = "invalid_request_error"
    code = "request_timeout"


class BudgetExceeded(ProxyError):
    status = 429
    type = "insufficient_quota"
    code = "budget_exceeded"


class RateLimited(ProxyError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class UpstreamStatus(ProxyError):
    """An upstream answered with an error status: the status, its message and its code (null
    included) pass through."""

    type = "upstream_error"
    code: str | None = "upstream_error"

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code, headers=headers)
        self.status = status
        if type is not None:
            self.type = type


class UpstreamProtocolError(ProxyError):
    status = 502
    type = "upstream_error"
    code = "upstream_error"


class Overloaded(ProxyError):
    status = 503
    type = "overloaded_error"
    code = "overloaded"


class UpstreamUnavailable(ProxyError):
    """Every upstream that could answer is failing (its circuit breaker is open)."""

    status = 503
    type = "upstream_error"
    code = "upstream_unavailable"


class UpstreamTimeout(ProxyError):
    status = 504
    type = "timeout_error"
    code = "upstream_timeout"


class ClientLeft(ProxyError):
    """The client disconnected before its answer started (nginx's 499: nobody reads it)."""

    status = 499
    type = "invalid_request_error"
    code = "client_closed_request"


class InternalError(ProxyError):
    status = 500
    type = "server_error"
    code = "internal_error"


def error_body(
    message: str, type: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}
