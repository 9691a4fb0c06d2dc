"""`tokenwise teams|keys|budgets --help` names every action and what it does."""

from __future__ import annotations

import pytest

from router.cli import build_parser

ACTIONS = {
    "teams": ["list", "create", "show", "delete", "spend"],
    "keys": ["list", "create", "show", "revoke"],
    "budgets": ["list", "set", "show", "delete"],
}


@pytest.mark.parametrize("command", sorted(ACTIONS))
def test_help_lists_every_action_with_a_line_of_its_own(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"])
    assert done.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    for action in ACTIONS[command]:
        said = [line.split(maxsplit=1) for line in lines if line.split()[:1] == [action]]
        assert said and len(said[0]) == 2, f"{command} --help does not explain {action!r}"


def test_deleting_a_team_says_it_takes_the_keys_and_budgets_with_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["teams", "--help"])
    assert "delete    a team with its keys and budgets" in capsys.readouterr().out
