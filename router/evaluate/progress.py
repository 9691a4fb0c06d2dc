"""A progress bar on stderr: tqdm when the `eval` extra is installed, else a plain counter."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], total: int, label: str, *, enabled: bool = True) -> Iterator[T]:
    """Yield `items`, showing how far along they are (nothing when `enabled` is False)."""
    if not enabled:
        yield from items
        return
    try:
        bar: Any = importlib.import_module("tqdm").tqdm
    except ImportError:
        yield from _plain(items, total, label, sys.stderr)
        return
    yield from bar(items, total=total, desc=label, unit="q", file=sys.stderr, leave=False)


def _plain(items: Iterable[T], total: int, label: str, out: TextIO) -> Iterator[T]:
    step = max(1, total // 20)
    started = time.monotonic()
    for done, item in enumerate(items, start=1):
        yield item
        if done % step == 0 or done == total:
            elapsed = time.monotonic() - started
            out.write(f"\r{label}: {done}/{total} ({elapsed:.1f}s)")
            out.flush()
    out.write("\n")
