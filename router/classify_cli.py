"""`tokenwise classify`: what the router decides for a prompt, and why.

    tokenwise classify "What is the capital of Australia?"     # the decision and its features
    tokenwise classify --jsonl prompts.jsonl [--policy economy] # one JSON line per input line

Each input line of `--jsonl` (`-` for stdin) is an object with `id` and `prompt` (a string) or
`messages` (an OpenAI message array). Each output line is
`{"id", "category", "tier", "difficulty", "effort", "model"}` under the policy, with the model
resolved against the configured catalog (the embedded default without a config). A bad line
yields `{"line": N, "error": "..."}` in its place, and the exit code is then 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, TextIO

import orjson

from router.api.body import require_messages
from router.api.fields import check_message_fields
from router.classify.model import load_classifier
from router.config.load import ConfigError, load_settings
from router.errors import InvalidRequest
from router.policy.decide import Decision, decide
from router.policy.router import Router, prompt_estimate
from router.reasoning.intent import normalize_reasoning


def make_router(config: str | None) -> Router:
    settings = load_settings(config, serving=False)
    router = Router.from_settings(settings, load_classifier())
    router.sessions = None  # each line is its own conversation
    return router


def decide_body(router: Router, policy_name: str, body: Mapping[str, Any]) -> Decision:
    """The decision the proxy makes for `body` sent to the policy's virtual model: a body that
    asks for reasoning itself (`reasoning_effort`, `reasoning`, `thinking`...) goes to a model
    that reasons, as there."""
    messages = body["messages"]
    c = router.classifier.classify(body)
    try:
        intent = normalize_reasoning(body)
    except InvalidRequest as exc:
        raise ValueError(exc.message) from None
    decision = decide(
        router.policies[policy_name],
        c,
        prompt_estimate(messages),
        router.models,
        router.priors,
        reasoning=intent.enabled is True,
    )
    if intent.effort is None or intent.effort == decision.effort:
        return decision
    reason = f"{decision.reason}, effort set by the client"
    return replace(decision, effort=intent.effort, reason=reason)  # as the proxy reports it


# What a line may carry besides its messages, read as the proxy reads a request's: what shapes
# the classification (tools, an output format) and the client's own reasoning asks.
CARRIED = (
    "tools",
    "response_format",
    "reasoning_effort",
    "reasoning",
    "thinking",
    "include_reasoning",
    "chat_template_kwargs",
)


def request_of(item: Any) -> dict[str, Any]:
    """The chat body a line stands for, checked as the proxy checks a request's messages (a
    line the proxy would answer with a 400 is a bad line here)."""
    if not isinstance(item, dict):
        raise ValueError("each line must be a JSON object with 'id' and 'prompt' or 'messages'")
    if "messages" in item:
        try:
            messages = require_messages(item)
            check_message_fields(messages)
        except InvalidRequest as exc:
            raise ValueError(exc.message) from None
        return {"messages": messages, **_carried(item)}
    prompt = item.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        return {"messages": [{"role": "user", "content": prompt}], **_carried(item)}
    if isinstance(prompt, str):
        raise ValueError("'prompt' is empty: give the text to classify")
    raise ValueError("missing 'prompt' (a string) or 'messages' (a non-empty array)")


def classify_lines(router: Router, policy: str, lines: Iterable[bytes | str], out: TextIO) -> int:
    bad = 0
    for n, line in enumerate(lines, start=1):
        try:
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ValueError(
                    f"not a JSON object ({exc}): each line must be one, such as "
                    '{"id": "q1", "prompt": "..."}'
                ) from None
            body = request_of(item)
            d = decide_body(router, policy, body)
            row: dict[str, Any] = {
                "id": item.get("id", n),
                "category": d.category,
                "tier": d.tier,
                "difficulty": round(d.difficulty, 4),
                "effort": d.effort,
                "model": d.model,
            }
        except ValueError as exc:
            bad += 1
            row = {"line": n, "error": str(exc) or type(exc).__name__}
        out.write(orjson.dumps(row).decode() + "\n")
    return 2 if bad else 0


def describe(router: Router, policy: str, text: str, out: TextIO) -> None:
    body = {"messages": [{"role": "user", "content": text}]}
    c = router.classifier.classify(body)
    d = decide_body(router, policy, body)
    print(f"category    {c.category}  (confidence {c.confidence:.2f})", file=out)
    print(f"tier        {d.tier}  (difficulty {d.difficulty:.3f})", file=out)
    print(f"decision    {d.model} at effort {d.effort}  [{policy} policy]", file=out)
    print(
        f"expected    {d.expected_tokens:.0f} completion tokens, ${d.expected_cost:.6f}", file=out
    )
    print(f"reason      {d.reason}", file=out)
    print("features", file=out)
    for name, value in sorted(c.features.items(), key=lambda kv: -abs(kv[1]))[:12]:
        print(f"  {name:<28} {value:+.3f}", file=out)


def run_classify(
    text: str | None, jsonl: str | None, policy: str | None, config: str | None
) -> int:
    try:
        router = make_router(config)
    except ConfigError as exc:
        print(f"tokenwise: configuration error: {exc}", file=sys.stderr)
        return 2
    name = policy or router.default_policy
    if name not in router.policies:
        known = ", ".join(sorted(router.policies))
        print(f"tokenwise classify: unknown policy {name!r} (known: {known})", file=sys.stderr)
        return 2
    if jsonl is not None:
        if jsonl == "-":
            return classify_lines(router, name, sys.stdin.buffer, sys.stdout)
        try:
            with open(jsonl, "rb") as f:
                return classify_lines(router, name, f, sys.stdout)
        except OSError as exc:
            if exc.filename != jsonl:
                raise
            print(f"tokenwise classify: cannot read {jsonl}: {exc.strerror}", file=sys.stderr)
            return 2
    if text is None or not text.strip():
        print("tokenwise classify: give a non-empty text, or --jsonl FILE", file=sys.stderr)
        return 2
    describe(router, name, text, sys.stdout)
    return 0


def _carried(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: item[key] for key in CARRIED if key in item}
