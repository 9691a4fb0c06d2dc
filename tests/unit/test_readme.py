"""The README's configuration example is a config that starts."""

from __future__ import annotations

import re
from pathlib import Path

from router.config.load import load_settings
from router.policy.load import load_policies

README = Path(__file__).resolve().parents[2] / "README.md"


def test_configuration_example_loads_and_its_policies_pass_the_dry_run(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    config = tmp_path / "tokenwise.yaml"
    config.write_text(block.group(1), encoding="utf-8")
    env = {
        "OPENAI_API_KEY": "sk-test",
        "PLATFORM_TEAM_KEY": "tw-platform",
        "TOKENWISE_HOME": str(tmp_path / "home"),
    }
    settings = load_settings(str(config), env=env, cwd=tmp_path, serving=False)
    assert "o4-mini" in settings.models
    policies = load_policies(None, settings.models, settings.config.routing.roles)
    assert "default" in policies
