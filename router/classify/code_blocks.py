"""Split a message into its prose and its code: fenced blocks, and code pasted without fences.

Prompts paste code both ways: in Markdown fences, and bare (a function stub with its docstring,
a snippet followed by "Explain what this does."). The classifier's code features should not
depend on which, so bare code is found by its lines:

- a *code line* is one that only code writes: a definition or an import (`def f(...):`,
  `class`, `import`, `#include`, `function f(`, `public static`, `fn`, `func`), a doctest
  prompt (`>>> `), a statement keyword in code position (`return x`, `for (`, `if (...) {`,
  `for x in y:`), or a line ending in `{`, `}` or `;`;
- a *strong* line is one of the first kind (a definition, an import, a doctest); braces and
  semicolons alone also end JSON and prose;
- a block runs from a code line to the last code line before prose resumes; lines indented
  under it (a docstring, a body) and blank lines belong to it.

Bare code counts only when the message has a strong line and its blocks at least two non-blank
lines, so a JSON object, a shopping list or an equation stays prose.
"""

from __future__ import annotations

import re
from typing import Final

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_STRONG = re.compile(
    r"(?:async\s+)?def\s+\w+\s*\(|class\s+\w+\s*[(:{]|class\s+\w+\s*$"
    r"|import\s+[\w.*{]|from\s+[\w.]+\s+import\s|#\s*include\s*[<\"]|#\s*define\s"
    r"|package\s+[\w.]+\s*;?$|using\s+[\w.]+\s*;"
    r"|(?:export\s+)?(?:async\s+)?function\s*\*?\s*\w*\s*\("
    r"|(?:pub\s+)?fn\s+\w+\s*[(<]|func\s+(?:\([^)]*\)\s*)?\w+\s*\("
    r"|(?:public|private|protected)\s+(?:static\s+)?[\w<>\[\], ]+\s+\w+\s*\("
    r"|(?:const|var)\s+\w+\s*=|>>>\s|SELECT\s.+\sFROM\s"
)
# How every strong line starts (after its indentation); a message with none has no bare code.
_STARTS: Final = (
    "def ",
    "async ",
    "class ",
    "import ",
    "from ",
    "#",
    "package ",
    "using ",
    "export ",
    "function",
    "pub ",
    "fn ",
    "func ",
    "public ",
    "private ",
    "protected ",
    "const ",
    "var ",
    ">>>",
    "SELECT ",
)
_WEAK = re.compile(
    r"(?:return|yield|raise|throw)\b|(?:for|while|if|switch)\s*\(|(?:elif|else|try|except|finally)\b.*:$"
    r"|(?:for|while|if|with)\s.+:$|.*[{};]$|[\w.\[\]]+\s*(?:=|\+=|-=|:=)\s*\S.*[)\]\d'\"]$"
)


def split_code(text: str) -> tuple[str, str]:
    """The message outside code, and the code: fenced blocks if it has any, else bare code
    blocks found by their lines (see the module docstring)."""
    if "```" in text:
        return _FENCE.sub(" ", text), "\n".join(_FENCE.findall(text))
    if "\n" not in text:
        return text, ""
    lines = text.split("\n")
    if not any(line.lstrip().startswith(_STARTS) for line in lines):
        return text, ""
    return _split_bare(text, lines)


def _split_bare(text: str, lines: list[str]) -> tuple[str, str]:
    kinds = [_kind(line) for line in lines]
    if 2 not in kinds:
        return text, ""
    in_code = [False] * len(lines)
    index = 0
    while index < len(lines):
        if not kinds[index]:
            index += 1
            continue
        end = index
        scan = index + 1
        while scan < len(lines):
            line = lines[scan]
            if kinds[scan]:
                end = scan
            elif line.strip() and not line[:1].isspace():
                break
            elif line.strip():
                end = scan
            scan += 1
        for covered in range(index, end + 1):
            in_code[covered] = True
        index = end + 1
    if sum(1 for line, code in zip(lines, in_code, strict=True) if code and line.strip()) < 2:
        return text, ""
    prose = [line for line, code in zip(lines, in_code, strict=True) if not code]
    code = [line for line, code in zip(lines, in_code, strict=True) if code]
    return "\n".join(prose), "\n".join(code)


def _kind(line: str) -> int:
    """2 for a strong code line, 1 for a weak one, 0 for anything else."""
    stripped = line.strip()
    if not stripped:
        return 0
    if _STRONG.match(stripped):
        return 2
    return 1 if _WEAK.match(stripped) else 0
