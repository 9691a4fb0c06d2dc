"""Keep secrets out of log lines, whoever writes them.

Tokenwise itself logs no request headers, bodies or keys. This filter is the second line: put on
the handlers of the process (the app's lifespan does), it rewrites any record, from any library,
that carries an `Authorization` value, a bearer token or one of the configured secrets
(provider keys, the master key, the metrics token), in its message, its arguments or its
traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

REDACTED = "[redacted]"
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+")
_AUTH_HEADER = re.compile(
    r"""(?i)(['"]?(?:authorization|x-api-key|api-key)['"]?\s*[:=]\s*['"]?)[^'",}\s]+"""
)
# Loggers whose handlers get the filter besides the root's (uvicorn does not propagate).
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so that a key containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_text(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, self.secrets)
        return True


def install(secrets: Iterable[str]) -> Callable[[], None]:
    """Put the filter on every handler of the root and server loggers; returns its removal."""
    redactor = RedactSecrets(secrets)
    handlers = {
        handler for name in (None, *SERVER_LOGGERS) for handler in logging.getLogger(name).handlers
    }
    for handler in handlers:
        handler.addFilter(redactor)

    def remove() -> None:
        for handler in handlers:
            handler.removeFilter(redactor)

    return remove
