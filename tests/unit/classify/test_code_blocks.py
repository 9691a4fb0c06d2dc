"""Splitting a message into prose and code: fenced blocks and code pasted bare."""

from __future__ import annotations

import pytest

from router.classify.code_blocks import _STARTS, _kind, split_code

STUB = '''from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    """ Check if any two numbers in the list are closer to each other than threshold.
    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)
    False
    """
'''

SNIPPET = """function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}
Explain what this does."""


def test_fenced_code_is_code_and_the_rest_is_prose() -> None:
    prose, code = split_code("Why?\n```python\nx = [1]\nprint(x[3])\n```\nThanks")
    assert code == "```python\nx = [1]\nprint(x[3])\n```"
    assert "x = [1]" not in prose
    assert "Why?" in prose and "Thanks" in prose


def test_a_bare_function_stub_with_its_docstring_is_all_code() -> None:
    prose, code = split_code(STUB)
    assert prose.strip() == ""
    assert "def has_close_elements" in code
    assert "closer to each other" in code  # the docstring is indented under the def


def test_bare_code_then_an_ask() -> None:
    prose, code = split_code(SNIPPET)
    assert prose == "Explain what this does."
    assert code.startswith("function debounce(fn, ms) {")
    assert code.endswith("}")


def test_an_ask_then_bare_code_then_more_prose() -> None:
    text = "Complete this:\n\ndef mean(xs):\n    return sum(xs) / len(xs)\n\nKeep it short."
    prose, code = split_code(text)
    assert code == "def mean(xs):\n    return sum(xs) / len(xs)"
    assert "Complete this:" in prose and "Keep it short." in prose


@pytest.mark.parametrize(
    "text",
    [
        'Convert to YAML:\n{\n  "name": "x",\n  "tags": [1, 2]\n}',  # braces, no code keyword
        "Let x = 5\nlet y = x + 2;\nWhat is y?",  # math written with `let`
        "Shopping list:\n- eggs;\n- milk;\n- bread;",
        "Solve:\n2x + 3 = 7\nx = ?",
        "Write about it.\nclass struggle is\n  the theme",  # `class` in prose
        "def f(x): return x",  # one line: nothing to tell it from prose by
        "Import the CSV into Excel.\nThen sum column B;",
        "We define the function f.\nIt returns x;",
    ],
)
def test_prose_that_looks_a_little_like_code_stays_prose(text: str) -> None:
    assert split_code(text) == (text, "")


def test_one_strong_line_alone_is_not_a_block() -> None:
    text = "Which is right?\nimport numpy as np\nor import numpy"
    assert split_code(text) == (text, "")


def test_windows_line_ends() -> None:
    prose, code = split_code("def f(x):\r\n    return x\r\n\r\nWhat does this do?")
    assert code.startswith("def f(x):") and "return x" in code
    assert prose.strip() == "What does this do?"


@pytest.mark.parametrize(
    "line",
    [
        "def f(x):",
        "async def g():",
        "class Stack:",
        "class Point(object):",
        "import os",
        "from typing import List",
        "#include <stdio.h>",
        "#define MAX 10",
        "package main",
        "using System;",
        "export function f(a) {",
        "function debounce(fn, ms) {",
        "pub fn parse(s: &str) -> u32 {",
        "fn main() {",
        "func (s *Stack) Push(v int) {",
        "public static void main(String[] args) {",
        "private int size(List<String> xs) {",
        "const limit = 10;",
        "var total = 0;",
        ">>> f(2)",
        "SELECT id FROM users WHERE active = 1;",
    ],
)
def test_every_strong_line_passes_the_prefix_test(line: str) -> None:
    # the prefix test (_STARTS) skips messages without a strong line; the two must agree
    assert _kind(f"    {line}") == 2
    assert line.startswith(_STARTS)
