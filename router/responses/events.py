"""Chat-completion chunks in, Responses API stream events out: one state machine per stream.

The events follow OpenAI's order, which the SDK's `responses.stream` helper checks:

    response.created, response.in_progress
    per output item: response.output_item.added, then
      reasoning:     reasoning_summary_part.added, reasoning_summary_text.delta...,
                     reasoning_summary_text.done, reasoning_summary_part.done
      message:       content_part.added, output_text.delta..., output_text.done,
                     content_part.done
      function call: function_call_arguments.delta..., function_call_arguments.done
    response.output_item.done
    response.completed (response.incomplete when the model hit its output limit)

Every event has a `sequence_number` counting from 0. The final `response` object is built by
router.responses.reply from the same items, so a stream assembles to the JSON answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from router.responses.reply import (
    function_call_item,
    item_id,
    message_item,
    reasoning_item,
    response_object,
    text_part,
    usage,
)


def encode(event: Mapping[str, Any]) -> bytes:
    """One SSE event, named by its type as OpenAI sends them."""
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


class ResponseEvents:
    def __init__(
        self, request: Mapping[str, Any], response_id: str, *, summary: bool, created: int
    ) -> None:
        self.request = request
        self.response_id = response_id
        self.summary = summary
        self.created = created
        self.model = str(request.get("model") or "")
        self.sequence = 0
        self.items: list[dict[str, Any]] = []
        self.open: str | None = None  # "reasoning", "message" or "function_call"
        self.text = ""
        self.logprobs: list[Any] = []
        self.calls: dict[int, int] = {}  # chat tool-call index -> output index
        self.arguments: dict[int, str] = {}  # output index -> arguments of a call still open
        self.finish_reason: str | None = None
        self.usage: Mapping[str, Any] | None = None
        self.started = False

    def take_sequence(self) -> int:
        """The next sequence number, for an event built elsewhere (a failure's)."""
        self.sequence += 1
        return self.sequence - 1

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return event

    def _snapshot(self, status: str, usage_body: dict[str, Any] | None = None) -> dict[str, Any]:
        return response_object(
            self.request,
            self.response_id,
            model=self.model,
            created=self.created,
            output=[dict(item) for item in self.items] if status != "in_progress" else [],
            status=status,
            finish_reason=self.finish_reason,
            usage_body=usage_body,
        )

    def start(self) -> list[dict[str, Any]]:
        self.started = True
        return [
            self._event("response.created", response=self._snapshot("in_progress")),
            self._event("response.in_progress", response=self._snapshot("in_progress")),
        ]

    def feed(self, chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
        events = [] if self.started else self.start()
        if isinstance(chunk.get("model"), str) and chunk["model"]:
            self.model = chunk["model"]
        if isinstance(chunk.get("usage"), Mapping):
            self.usage = chunk["usage"]
        choices = chunk.get("choices") or []
        choice = next(
            (c for c in choices if isinstance(c, Mapping) and c.get("index", 0) == 0), None
        )
        if choice is None:
            return events
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if self.summary and isinstance(reasoning, str) and reasoning:
            events += self._reasoning(reasoning)
        content = delta.get("content")
        if isinstance(content, str) and content:
            lp = (choice.get("logprobs") or {}).get("content") or []
            events += self._content(content, lp)
        for call in delta.get("tool_calls") or []:
            events += self._call(call)
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        return events

    def _reasoning(self, text: str) -> list[dict[str, Any]]:
        events = []
        if self.open != "reasoning":
            events += self._close()
            item = reasoning_item(item_id("rs", self.response_id, len(self.items)), "")
            item["summary"] = []
            events += self._add(item, "reasoning")
            part = {"type": "summary_text", "text": ""}
            events.append(
                self._event(
                    "response.reasoning_summary_part.added",
                    **self._at(),
                    summary_index=0,
                    part=part,
                )
            )
        self.text += text
        events.append(
            self._event(
                "response.reasoning_summary_text.delta", **self._at(), summary_index=0, delta=text
            )
        )
        return events

    def _content(self, text: str, logprobs: list[Any]) -> list[dict[str, Any]]:
        events = []
        if self.open != "message":
            events += self._close()
            item = message_item(
                item_id("msg", self.response_id, len(self.items)), [], "in_progress"
            )
            events += self._add(item, "message")
            part = text_part("")
            events.append(
                self._event("response.content_part.added", **self._at(), content_index=0, part=part)
            )
        self.text += text
        self.logprobs += logprobs
        events.append(
            self._event(
                "response.output_text.delta",
                **self._at(),
                content_index=0,
                delta=text,
                logprobs=logprobs,
            )
        )
        return events

    def _call(self, call: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A tool-call delta. Calls stay open together until something else (text, reasoning,
        the end) comes: a chat stream may interleave the deltas of parallel calls by index, and
        each delta goes to its own item (`output_index`, `item_id`)."""
        events = []
        index = call.get("index", 0)
        fn = call.get("function") or {}
        if index not in self.calls:
            if self.open != "function_call":
                events += self._close()
            else:  # the calls whose arguments are whole are done, as OpenAI orders them
                events += self._close_calls([p for p, a in self.arguments.items() if _whole(a)])
            position = len(self.items)
            call_id = call.get("id") or item_id("call", self.response_id, position)
            item = function_call_item(
                item_id("fc", self.response_id, position),
                call_id,
                fn.get("name") or "",
                "",
                "in_progress",
            )
            events += self._add(item, "function_call")
            self.calls[index] = position
            self.arguments[position] = ""
        position = self.calls[index]
        arguments = fn.get("arguments")
        if isinstance(arguments, str) and arguments:
            if position not in self.arguments:  # its item is done (text came in between)
                self.items[position]["arguments"] += arguments
                return events
            self.arguments[position] += arguments
            at = {"item_id": self.items[position]["id"], "output_index": position}
            events.append(
                self._event("response.function_call_arguments.delta", **at, delta=arguments)
            )
        return events

    def _at(self) -> dict[str, Any]:
        return {"item_id": self.items[-1]["id"], "output_index": len(self.items) - 1}

    def _add(self, item: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        self.items.append(item)
        self.open = kind
        self.text = ""
        self.logprobs = []
        return [
            self._event(
                "response.output_item.added", output_index=len(self.items) - 1, item=dict(item)
            )
        ]

    def _close(self) -> list[dict[str, Any]]:
        if self.open is None:
            return []
        item, text, at = self.items[-1], self.text, self._at()
        events = []
        if self.open == "reasoning":
            part = {"type": "summary_text", "text": text}
            item["summary"] = [part]
            events.append(
                self._event(
                    "response.reasoning_summary_text.done", **at, summary_index=0, text=text
                )
            )
            events.append(
                self._event(
                    "response.reasoning_summary_part.done", **at, summary_index=0, part=part
                )
            )
        elif self.open == "message":
            part = text_part(text, self.logprobs)
            item["content"] = [part]
            item["status"] = "completed"
            events.append(
                self._event(
                    "response.output_text.done",
                    **at,
                    content_index=0,
                    text=text,
                    logprobs=self.logprobs,
                )
            )
            events.append(
                self._event("response.content_part.done", **at, content_index=0, part=part)
            )
        else:
            self.open = None
            return self._close_calls()
        events.append(
            self._event(
                "response.output_item.done", output_index=at["output_index"], item=dict(item)
            )
        )
        self.open = None
        return events

    def _close_calls(self, positions: list[int] | None = None) -> list[dict[str, Any]]:
        """Open function calls done (`positions`, default all), in output order, each with its
        whole arguments."""
        events = []
        for position in sorted(self.arguments if positions is None else positions):
            item, text = self.items[position], self.arguments.pop(position)
            at = {"item_id": item["id"], "output_index": position}
            item["arguments"] = text
            item["status"] = "completed"
            events.append(
                self._event("response.function_call_arguments.done", **at, arguments=text)
            )
            events.append(
                self._event("response.output_item.done", output_index=position, item=dict(item))
            )
        return events

    def finish(self, usage_body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Close what is open and complete the response (``usage_body``: Responses usage to
        report, default: the stream's own usage renamed)."""
        events = [] if self.started else self.start()
        events += self._close()
        final = self._snapshot(
            "completed", usage_body if usage_body is not None else usage(self.usage)
        )
        kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        events.append(self._event(kind, response=final))
        return events


def _whole(arguments: str) -> bool:
    """Whether a call's arguments so far are a complete JSON value (no more can follow)."""
    try:
        json.loads(arguments)
    except ValueError:
        return False
    return True
