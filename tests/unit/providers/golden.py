"""Golden provider cases: one folder per case under tests/fixtures/providers/<dialect>/<case>/.

* `request.json`: what the client sent (`model` names an entry of catalog.yaml);
* `upstream_request.json`: `path`, `headers` and `body` the adapter must send upstream;
* `upstream_response.json`, or `upstream_response.sse` (the transcript as the upstream streams
  it), following the provider's documented wire format;
* `response.json`: what the client gets: the `chat.completion`, or the list of chunks;
* `headers.json`: the `x-tokenwise-*` headers the adapter's report yields;
* or `error.json` instead of the four above: the 400 the request must get (status, code, param).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from router.config.load import ModelSpec
from router.providers.base import Adapter, UpstreamCall
from router.providers.registry import adapter_for
from router.reasoning.intent import ReasoningIntent, normalize_reasoning
from router.upstream.sse import SSESplitter, parse_event
from tests.unit.providers.catalog import FIXTURES, catalog

CREATED = 1_750_000_000


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Case:
    folder: Path

    @property
    def name(self) -> str:
        return f"{self.folder.parent.name}/{self.folder.name}"

    @property
    def request(self) -> dict[str, Any]:
        data: dict[str, Any] = read_json(self.folder / "request.json")
        return data

    @property
    def model(self) -> ModelSpec:
        return catalog()[self.request["model"]]

    @property
    def adapter(self) -> Adapter:
        return adapter_for(self.model.provider.dialect)

    @property
    def intent(self) -> ReasoningIntent:
        return normalize_reasoning(self.request)

    def file(self, name: str) -> Path:
        return self.folder / name

    @property
    def streamed(self) -> bool:
        return self.file("upstream_response.sse").is_file()

    def build(self) -> UpstreamCall:
        return self.adapter.build(self.request, self.model, self.intent, self.model.provider.strict)

    def upstream_events(self) -> list[dict[str, Any]]:
        text = self.file("upstream_response.sse").read_bytes()
        return sse_events(text)

    def translate(self) -> Any:
        """The client response: a `chat.completion`, or the list of chunks of a stream."""
        show = self.intent.show
        if not self.streamed:
            payload = read_json(self.file("upstream_response.json"))
            return self.adapter.parse_response(payload, self.model, show, created=CREATED)
        translator = self.adapter.stream(self.model, show, created=CREATED)
        chunks = [chunk for event in self.upstream_events() for chunk in translator.feed(event)]
        return chunks + translator.finish()


def sse_events(data: bytes) -> list[dict[str, Any]]:
    """The JSON events of an SSE transcript (comments and `[DONE]` left out)."""
    splitter = SSESplitter()
    events = [parse_event(raw) for raw in splitter.feed(data + b"\n\n")]
    return [event.json for event in events if isinstance(event.json, dict)]


def cases() -> Iterator[Case]:
    for folder in sorted(FIXTURES.glob("*/*")):
        if (folder / "request.json").is_file():
            yield Case(folder)
