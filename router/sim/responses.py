"""The simulator's Responses API and legacy text completions, for models whose entry has them.

A simulated model that lists `responses` in its `apis` serves `POST /v1/responses` (JSON and
SSE with the Responses event types), stores what it answered unless `store: false`, continues a
stored conversation from `previous_response_id`, and answers `GET`/`DELETE
/v1/responses/{id}`; with `include: ["reasoning.encrypted_content"]` a reasoning item carries an
opaque `encrypted_content`. One that lists `completions` serves `POST /v1/completions`. The
answer is the model's chat answer to the same conversation (router.responses translates), so a
request gives the same text through either API. Other models answer these routes 404, as a
chat-only host does.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from router.errors import InvalidRequest, NotFound
from router.responses.events import ResponseEvents, encode
from router.responses.history import assistant_turn
from router.responses.items import input_items
from router.responses.reply import reasoning_item, to_response
from router.responses.request import to_chat
from router.sim.catalog import SimModel
from router.sim.generate import complete
from router.sim.render import completion_body, stream_chunks
from router.sim.request import ChatRequest, parse_chat

ENCRYPTED = "reasoning.encrypted_content"
LEGACY_MAX_TOKENS = 16  # OpenAI's default for /v1/completions


@dataclass
class Stored:
    response: dict[str, Any]
    messages: list[dict[str, Any]]
    items: list[Any] = field(default_factory=list)  # the request's input items


@dataclass
class ResponseStore:
    """What the simulator answered, by response id (for previous_response_id, GET, DELETE)."""

    items: dict[str, Stored] = field(default_factory=dict)

    def get(self, response_id: str) -> Stored:
        stored = self.items.get(response_id)
        if stored is None:
            raise NotFound(
                f"Response with id '{response_id}' not found.", param="response_id", code=None
            )
        return stored


def require_api(model: SimModel, api: str) -> None:
    if api not in model.apis:
        raise NotFound(
            f"The model `{model.name}` is not served on /v1/{api} here (chat completions only).",
            param="model",
            code="model_not_found",
        )


@dataclass(frozen=True)
class Turn:
    body: Mapping[str, Any]
    parsed: ChatRequest
    summary: bool
    history: list[dict[str, Any]]
    response_id: str


def read_turn(
    body: Mapping[str, Any], model: SimModel, seed: int, store: ResponseStore, request_id: str
) -> Turn:
    history: list[dict[str, Any]] = []
    previous = body.get("previous_response_id")
    if previous is not None:
        if not isinstance(previous, str) or previous not in store.items:
            raise InvalidRequest(
                f"Previous response with id '{previous}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        history = store.items[previous].messages
    view = to_chat(body, lenient=True, history=history)
    chat = dict(view.body)
    chat["model"] = model.name
    if chat.get("stream") is True:
        chat["stream_options"] = {"include_usage": True}
    parsed = parse_chat(chat, model, seed)
    response_id = "resp_" + hashlib.blake2b(request_id.encode(), digest_size=16).hexdigest()
    return Turn(body, parsed, view.summary, [*history, *view.turn], response_id)


def answer(turn: Turn, seed: int, store: ResponseStore) -> dict[str, Any]:
    completion = complete(turn.parsed, seed)
    chat = completion_body(completion, turn.parsed, turn.parsed.model.name)
    response = to_response(
        chat, turn.body, turn.response_id, summary=turn.summary, created=chat["created"]
    )
    _encrypt(turn, chat, response)
    if turn.body.get("store") is not False:
        message = chat["choices"][0]["message"]
        store.items[turn.response_id] = Stored(
            response,
            [*turn.history, assistant_turn(message)],
            input_items(turn.body, turn.response_id),
        )
    return response


def events(turn: Turn, seed: int, store: ResponseStore) -> Iterator[bytes]:
    """The stream, from the same chat chunks a chat request gets."""
    completion = complete(turn.parsed, seed)
    state = ResponseEvents(
        turn.body, turn.response_id, summary=turn.summary, created=completion.created
    )
    for raw in stream_chunks(completion, turn.parsed, turn.parsed.model.name):
        chunk = orjson.loads(raw.removeprefix(b"data: "))
        for event in state.feed(chunk):
            yield encode(event)
    final = state.finish()
    if turn.body.get("store") is not False:
        message = completion_body(completion, turn.parsed, turn.parsed.model.name)["choices"][0][
            "message"
        ]
        store.items[turn.response_id] = Stored(
            final[-1]["response"],
            [*turn.history, assistant_turn(message)],
            input_items(turn.body, turn.response_id),
        )
    for event in final:
        yield encode(event)


def _encrypt(turn: Turn, chat: Mapping[str, Any], response: dict[str, Any]) -> None:
    """An opaque reasoning blob, when asked for and the model reasoned."""
    include = turn.body.get("include")
    message = chat["choices"][0]["message"]
    thought = message.get("reasoning_content") or message.get("reasoning")
    if not isinstance(include, list) or ENCRYPTED not in include or not thought:
        return
    blob = base64.b64encode(b"sim-encrypted:" + hashlib.sha256(thought.encode()).digest()).decode()
    output = response["output"]
    if output and output[0]["type"] == "reasoning":
        output[0]["encrypted_content"] = blob
    else:
        item = reasoning_item("rs_" + turn.response_id.removeprefix("resp_"), "")
        output.insert(0, {**item, "summary": [], "encrypted_content": blob})


def legacy_prompts(body: Mapping[str, Any]) -> list[str]:
    """The prompts of a legacy completions request: one string, or an array of them."""
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return list(prompt)
    raise InvalidRequest("'prompt' must be a string or an array of strings.", param="prompt")


def legacy_chat_body(body: Mapping[str, Any], model: SimModel, prompt: str) -> dict[str, Any]:
    """One prompt of a legacy completions request as the chat request the simulation runs."""
    keys = ("stream", "stream_options", "n", "seed", "user", "sim", "temperature", "top_p", "stop")
    chat = {k: body[k] for k in keys if k in body}
    chat["model"] = model.name
    chat["messages"] = [{"role": "user", "content": prompt}]
    chat["max_tokens"] = body.get("max_tokens") or LEGACY_MAX_TOKENS
    return chat


def _text_choice(choice: Mapping[str, Any], text: str, offset: int) -> dict[str, Any]:
    return {
        "text": text,
        "index": choice["index"] + offset,
        "logprobs": None,
        "finish_reason": choice.get("finish_reason"),
    }


def add_usage(a: Any, b: Any) -> Any:
    """Two usage objects added field by field (the answers to several prompts)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: add_usage(a.get(k), b.get(k)) for k in {**a, **b}}
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return a if b is None else b


def legacy_body(chats: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The chat completions of each prompt as one `text_completion`: prompt i's answers are
    choices i*n to i*n+n-1, as OpenAI numbers them, and the usage is their sum."""
    first = chats[0]
    choices: list[dict[str, Any]] = []
    usage: Any = None
    for chat in chats:
        offset = len(choices)
        choices += [
            _text_choice(c, c["message"].get("content") or "", offset) for c in chat["choices"]
        ]
        if "usage" in chat:
            usage = add_usage(usage, chat["usage"])
    out = {
        "id": "cmpl-" + first["id"].removeprefix("chatcmpl-"),
        "object": "text_completion",
        "created": first["created"],
        "model": first["model"],
        "choices": choices,
        "system_fingerprint": first.get("system_fingerprint"),
    }
    if usage is not None:
        out["usage"] = usage
    return out


def legacy_chunks(prompts: Sequence[ChatRequest], seed: int) -> Iterator[bytes]:
    """The streams of each prompt one after the other, as `text_completion` chunks under the
    first prompt's id; the usage (when asked for) is the sum, where the last prompt's is."""
    cid = ""
    usage: Any = None
    for number, parsed in enumerate(prompts):
        last = number == len(prompts) - 1
        offset = number * parsed.n
        completion = complete(parsed, seed)
        for raw in stream_chunks(completion, parsed, parsed.model.name):
            chunk = orjson.loads(raw.removeprefix(b"data: "))
            cid = cid or "cmpl-" + chunk["id"].removeprefix("chatcmpl-")
            choices = [
                _text_choice(c, (c.get("delta") or {}).get("content") or "", offset)
                for c in chunk["choices"]
            ]
            if chunk.get("usage") is not None:
                usage = add_usage(usage, chunk["usage"])
                chunk["usage"] = usage if last else None
                if not last and not choices:
                    continue  # a usage-only chunk: the sum comes with the last prompt's
            out = {**chunk, "id": cid, "object": "text_completion", "choices": choices}
            yield b"data: " + orjson.dumps(out) + b"\n\n"


def no_done(parsed: ChatRequest) -> ChatRequest:
    """A Responses stream ends with response.completed, never `[DONE]`."""
    return replace(parsed, fault=replace(parsed.fault, no_done=True))
