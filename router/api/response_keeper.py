"""The proxy's memory of responses, as the `/v1/responses` endpoint uses it.

`translated_view` continues a conversation the proxy kept (chat-only upstreams) or refuses a
`previous_response_id` it cannot continue; `Keeper` notes each finished response's id (and,
for a chat-only upstream with `responses.conversations`, the conversation and the response
object, without the provider's key should the upstream have echoed it) in the store, before
the client has the last byte of it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from router.api.chat import redact_object
from router.errors import InvalidRequest
from router.responses.history import output_as_message
from router.responses.items import input_items
from router.responses.memory import Pin, context_tokens, remember
from router.responses.request import ChatView, to_chat
from router.services import Services

log = logging.getLogger("tokenwise")


def new_response_id() -> str:
    return "resp_" + secrets.token_hex(24)


def unknown_previous(previous: str, conversations: bool) -> InvalidRequest:
    hint = (
        ""
        if conversations
        else ", or it was made by a model that speaks only chat completions while "
        "responses.conversations is off (set it to true to keep such conversations)"
    )
    return InvalidRequest(
        f"previous_response_id '{previous}' cannot be continued: it was not made through this "
        f"proxy for your team, it was deleted or it is older than responses.ttl_seconds{hint}. "
        "Send the whole conversation as input instead.",
        param="previous_response_id",
        code="previous_response_not_found",
    )


def translated_view(body: Mapping[str, Any], pin: Pin | None, model: str) -> ChatView:
    """The strict chat translation; a conversation the proxy kept is put before the input."""
    if pin is None:
        return to_chat(body)
    if pin.messages is None:
        raise InvalidRequest(
            f"previous_response_id '{body.get('previous_response_id')}' was made by "
            f"'{pin.target}', whose upstream keeps that conversation; '{model}' speaks only chat "
            "completions and cannot continue it.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    return to_chat(body, history=pin.messages)


class Keeper:
    """Notes a finished response's id (and, translated, its conversation) in the store."""

    def __init__(
        self,
        services: Services,
        team: str,
        target: str,
        body: Mapping[str, Any],
        view: ChatView,
        pin: Pin | None,
        native: bool,
        effort: str | None = None,
    ) -> None:
        self.services = services
        self.team = team
        self.target = target
        self.body = body
        self.stored = body.get("store") is not False
        self.view = view
        self.history = (pin.messages if pin is not None else None) or []
        self.native = native
        self.effort = effort
        self.response_id = new_response_id()
        self.done = False

    async def __call__(self, response: Mapping[str, Any] | None) -> None:
        if self.done or response is None or not self.stored:
            return
        self.done = True
        config = self.services.settings.config.responses
        response_id = response.get("id")
        if not isinstance(response_id, str):
            return
        pin = Pin(self.target, self.team, tokens=context_tokens(response), effort=self.effort)
        if not self.native:
            if not config.conversations:
                return
            target = self.services.targets.get(self.target)
            if target is not None:  # an upstream that echoed its key: kept without it
                response = redact_object(dict(response), target)
            turn = output_as_message(list(response.get("output") or []))
            messages = [*self.history, *self.view.turn, turn]
            items = input_items(self.body, response_id)
            pin = Pin(
                self.target, self.team, messages, dict(response), effort=self.effort, items=items
            )
        try:
            await remember(self.services.store, response_id, pin, config.ttl_seconds)
        except Exception as exc:  # a store outage loses the pin, never the answer
            log.warning("could not keep response %s in the store: %s", response_id, exc)
