"""`tokenwise demo` (the README's first command) on the embedded default: its table shows what
the proxy decided and metered for each request class, through the official SDK."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from router.demo import run_demo

CLASSES = ("trivial", "chat", "math", "logic", "transform")
MODELS = ("auto", "sim-small", "sim-large-reasoner")


def table_rows(text: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        label = re.match(r"(\w+ -> [\w-]+)\s{2,}", line)
        if label:
            rows[label.group(1)] = re.split(r"\s{2,}", line[label.end() :].strip())
    return rows


def test_the_demo_table_shows_routing_and_metered_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOKENWISE_CONFIG", raising=False)
    monkeypatch.setenv("TOKENWISE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TOKENWISE_DEV_KEY", "tw-demo-test-key")
    out = io.StringIO()
    assert run_demo(None, repeat=1, out=out) == 0
    text = out.getvalue()
    assert "SIMULATOR" in text
    rows = table_rows(text)
    assert set(rows) == {f"{c} -> {m}" for c in CLASSES for m in MODELS}
    for label, (served, prompt, completion, reasoning, cost, ms) in rows.items():
        assert int(prompt) > 0 and int(completion) > 0 and int(reasoning) >= 0, label
        assert float(cost) > 0 and float(ms) > 0, label
        asked = label.split(" -> ")[1]
        if asked != "auto":
            assert served == asked, label
    assert rows["trivial -> auto"][0] == "sim-small (trivial, effort none)"
    assert rows["chat -> auto"][0].startswith("sim-small ")
    math = rows["math -> auto"][0]
    assert "reasoner (hard, effort high)" in math, math
    assert "sim-small" not in math
    assert int(rows["trivial -> auto"][3]) == 0  # no reasoning tokens for a trivial question
    # a pasted notice to summarise or translate is light work, whatever its length
    assert rows["transform -> auto"][0].startswith("sim-small (")
