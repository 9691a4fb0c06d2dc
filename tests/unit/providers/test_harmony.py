"""The Harmony adapter's use of `openai-harmony`: offline vocabulary, rendering, and agreement
with the library's own parser on the recorded completions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openai_harmony import Role  # type: ignore[import-untyped]

from router.errors import UnsupportedParameter
from router.providers.harmony_render import harmony_encoding, render_prompt
from router.providers.registry import adapter_for
from tests.unit.providers.catalog import catalog
from tests.unit.providers.golden import Case, cases, read_json

OFFLINE_CHECK = """
import os
from router.providers.harmony_render import VOCAB_ENV, render_prompt
assert VOCAB_ENV not in os.environ
prompt = render_prompt([{"role": "user", "content": "Hi"}], [], "low")
assert VOCAB_ENV not in os.environ
print(prompt)
"""


def test_vocabulary_loads_offline_from_the_installed_package(tmp_path: Path) -> None:
    """No TIKTOKEN_ENCODINGS_BASE, an empty download cache and no route out: still renders."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).parents[3]),
        "TIKTOKEN_RS_CACHE_DIR": str(tmp_path / "cache"),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_CHECK],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Reasoning: low" in result.stdout
    assert result.stdout.rstrip().endswith("<|start|>user<|message|>Hi<|end|><|start|>assistant")
    assert not (tmp_path / "cache").exists()


def test_tool_call_and_result_are_rendered_as_the_format_requires() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}}
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Go"},
        {"role": "assistant", "content": None, "reasoning_content": "Use f.", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    prompt = render_prompt(messages, [], None)
    assert "<|start|>assistant<|channel|>analysis<|message|>Use f.<|end|>" in prompt
    assert (
        "<|start|>assistant to=functions.f<|channel|>commentary <|constrain|>json"
        '<|message|>{"x":1}<|call|>'
    ) in prompt
    assert "<|start|>functions.f to=assistant<|channel|>commentary<|message|>42<|end|>" in prompt
    assert "\nReasoning: medium\n" in prompt


def test_images_cannot_be_rendered() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    with pytest.raises(UnsupportedParameter) as caught:
        render_prompt([{"role": "user", "content": [image]}], [], None)
    assert caught.value.param == "messages[0].content[0]"


def _library_view(text: str) -> dict[str, Any]:
    """The completion parsed by openai-harmony itself."""
    encoding = harmony_encoding()
    tokens = encoding.encode(text, allowed_special="all")
    messages = encoding.parse_messages_from_completion_tokens(tokens, Role.ASSISTANT)
    view: dict[str, Any] = {"reasoning": [], "content": [], "calls": []}
    for message in messages:
        text = "".join(part.text for part in message.content)
        if message.recipient and message.recipient.startswith("functions."):
            view["calls"].append((message.recipient.removeprefix("functions."), text))
        elif message.channel == "analysis":
            view["reasoning"].append(text)
        else:
            view["content"].append(text)
    return view


def _complete_with_tokens(case: Case) -> bool:
    """A recorded completion that openai-harmony can parse: special tokens kept, not cut off."""
    path = case.file("upstream_response.json")
    if case.folder.parent.name != "harmony" or not path.is_file():
        return False
    choice = read_json(path)["choices"][0]
    return "<|message|>" in choice["text"] and choice["finish_reason"] != "length"


COMPLETE = [case for case in cases() if _complete_with_tokens(case)]


@pytest.mark.parametrize("case", COMPLETE, ids=lambda case: case.name)
def test_adapter_agrees_with_the_library_parser(case: Case) -> None:
    text = read_json(case.file("upstream_response.json"))["choices"][0]["text"]
    library = _library_view(text)
    message = case.translate()["choices"][0]["message"]
    assert message.get("reasoning_content", "") == "\n".join(library["reasoning"])
    assert (message["content"] or "") == "\n".join(library["content"])
    functions = [call["function"] for call in message.get("tool_calls", [])]
    calls = [(function["name"], function["arguments"]) for function in functions]
    assert calls == library["calls"]
    assert len(COMPLETE) >= 2


def test_a_choice_that_is_not_an_object_is_left_out() -> None:
    model = next(m for m in catalog().values() if m.provider.dialect == "harmony")
    good = {"index": 1, "message": {"role": "assistant", "content": "hi"}}
    payload: dict[str, Any] = {"id": "x", "choices": [[], "text", good]}
    reply = adapter_for("harmony").parse_response(payload, model, True)
    assert [c["index"] for c in reply["choices"]] == [1]
