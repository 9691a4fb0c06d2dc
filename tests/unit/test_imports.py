"""Every module under router/ imports with an empty environment and does nothing at import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import router

PACKAGE_DIR = Path(router.__file__).parent

PROBE = r"""
import importlib, json, os, sys, threading
names = json.loads(sys.argv[1])
before_threads = threading.active_count()
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:  # reported below, by module
        failed[name] = repr(exc)
print(json.dumps({
    "failed": failed,
    "threads": threading.active_count() - before_threads,
    "cwd_entries": sorted(os.listdir(".")),
}))
"""


def all_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__main__":
            continue  # running it is the command line itself
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_every_module_imports_in_an_empty_environment(tmp_path: Path) -> None:
    names = all_modules()
    assert len(names) > 20
    src_root = str(PACKAGE_DIR.parent)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names)],
        cwd=tmp_path,
        env={"PYTHONPATH": src_root, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}
    assert report["threads"] == 0, "a module started a thread at import"
    assert report["cwd_entries"] == [], "a module wrote files at import"
