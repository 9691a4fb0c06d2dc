"""No secret survives into a log line: Authorization values, bearer tokens, configured keys."""

from __future__ import annotations

import logging

import pytest

from router.observability.redact import RedactSecrets, install, redact_text

KEY = "sk-provider-0123456789abcdef"


@pytest.mark.parametrize(
    "text",
    [
        "headers={'authorization': 'Bearer tw-client-key-123'}",
        'sending {"Authorization": "Bearer tw-client-key-123"}',
        "Authorization: Basic dXNlcjpwYXNz",
        "x-api-key=tw-client-key-123 rest",
        "token Bearer tw-client-key-123 in a sentence",
    ],
)
def test_authorization_values_are_redacted(text: str) -> None:
    clean = redact_text(text, ())
    assert "tw-client-key-123" not in clean and "dXNlcjpwYXNz" not in clean
    assert "[redacted]" in clean


def test_configured_secrets_are_redacted_anywhere() -> None:
    assert (
        redact_text(f"upstream said: bad key {KEY}!", [KEY]) == "upstream said: bad key [redacted]!"
    )
    assert redact_text("nothing secret here", [KEY, ""]) == "nothing secret here"


def make_record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("aiohttp.client", logging.DEBUG, __file__, 1, msg, args, exc_info)


def test_the_filter_rewrites_message_arguments_and_traceback() -> None:
    try:
        raise RuntimeError(f"connect failed with headers {{'Authorization': 'Bearer {KEY}'}}")
    except RuntimeError as exc:
        record = make_record("request %s to %s", {"authorization": f"Bearer {KEY}"}, "x", exc=exc)
    RedactSecrets([KEY]).filter(record)
    text = logging.Formatter().format(record)
    assert KEY not in text
    assert "[redacted]" in record.getMessage() and "RuntimeError" in text


def test_install_puts_the_filter_on_the_handlers_and_takes_it_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    remove = install([KEY])
    try:
        logging.getLogger("some.library").debug("key=%s auth=%s", KEY, "Bearer abc.def")
    finally:
        remove()
    logging.getLogger("some.library").debug("after %s", "x")
    assert KEY not in caplog.text and "abc.def" not in caplog.text
    assert "after x" in caplog.text
