"""Config text the integration tests write: the simulator's models, and where a config goes."""

from __future__ import annotations

from pathlib import Path


def sim_models(port: int, *, default_model: str | None = "sim-small") -> str:
    """The `providers`, `models` and `routing` sections for a simulator on `port`: its three
    models, one for each routing role (no trailing newline, to sit on its own line)."""
    default = f"\n  default_model: {default_model}" if default_model is not None else ""
    return f"""providers:
  sim: {{base_url: "http://127.0.0.1:{port}/v1"}}
models:
  sim-small: {{provider: sim}}
  sim-mini-reasoner: {{provider: sim, reasoning: {{efforts: [low, medium, high]}}}}
  sim-large-reasoner: {{provider: sim, reasoning: {{efforts: [low, medium, high]}}}}
routing:{default}
  roles: {{small: sim-small, reasoner: sim-mini-reasoner, large: sim-large-reasoner}}"""


def write_config(home: Path, text: str) -> Path:
    """`text` as `home`/tokenwise.yaml (the folder made if need be); its path."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "tokenwise.yaml"
    path.write_text(text, encoding="utf-8")
    return path
