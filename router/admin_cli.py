"""`tokenwise teams|keys|budgets ...`: manage principals and budgets from the command line.

    tokenwise teams   list | create NAME [--policy P] | show NAME | delete NAME
                      | spend NAME [--since DATE] [--until DATE]
    tokenwise keys    list [--team T] | show ID [--team T] | revoke ID [--team T]
                      | create --team T [--name N] [--models a,b] [--rpm N] [--tpm N]
                               [--expires-in SECONDS] [--budget USD] [--window W] [--tz Z]
    tokenwise budgets list [--team T] | show SCOPE | delete SCOPE
                      | set SCOPE --limit USD [--window W] [--tz Z] [--soft]
                            [--threshold F] [--policy P]

Without `--url` a command acts on the configured store directly (`--config`, else as for
`serve`; by default the SQLite file under `$TOKENWISE_HOME`); running servers see the change
within a few seconds. With `--url` it asks a running server's admin API, with the master key
from `$TOKENWISE_MASTER_KEY`. Answers are JSON on stdout; `keys create` prints the new key's
secret, which is shown this once. `--team` on a key command refuses a key of another team.
Exit status: 0 done, 2 refused or failed (the reason on stderr).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    """Add `teams`, `keys` and `budgets` to the top-level sub-parsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="config naming the store (default as for serve)")
    common.add_argument("--url", help="act through a running server (needs $TOKENWISE_MASTER_KEY)")

    teams = sub.add_parser("teams", help="list, create, show, delete teams; a team's spend")
    t = teams.add_subparsers(dest="action", required=True, metavar="ACTION")
    t.add_parser("list", parents=[common], help="every team")
    create = t.add_parser("create", parents=[common], help="a new team")
    create.add_argument("name")
    create.add_argument("--policy", help="the team's routing policy")
    for action, said in (("show", "one team"), ("delete", "a team with its keys and budgets")):
        t.add_parser(action, parents=[common], help=said).add_argument("name")
    spend = t.add_parser("spend", parents=[common], help="a team's spend from the ledger")
    spend.add_argument("name")
    spend.add_argument("--since", help="ledger total from this date or time (UTC)")
    spend.add_argument("--until", help="ledger total to this date or time")

    keys = sub.add_parser("keys", help="list, create, show, revoke API keys")
    k = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    k.add_parser("list", parents=[common], help="every key (no secrets)").add_argument("--team")
    made = k.add_parser("create", parents=[common], help="a new key; its secret is shown once")
    made.add_argument("--team", required=True)
    made.add_argument("--name")
    made.add_argument("--models", help="allow-list, comma separated (default: every model)")
    made.add_argument("--rpm", type=int, help="requests per minute")
    made.add_argument("--tpm", type=int, help="tokens per minute")
    made.add_argument("--expires-in", type=float, help="seconds until the key expires")
    made.add_argument("--budget", help="a USD budget on this key")
    made.add_argument("--window", default="month", help="day, week, month, total, rolling:<s>")
    made.add_argument("--tz", default="UTC")
    for action, said in (("show", "one key"), ("revoke", "stop a key from working")):
        one = k.add_parser(action, parents=[common], help=said)
        one.add_argument("key_id")
        one.add_argument("--team", help="refuse unless the key belongs to this team")

    budgets = sub.add_parser("budgets", help="list, set, show, delete budgets")
    b = budgets.add_subparsers(dest="action", required=True, metavar="ACTION")
    b.add_parser("list", parents=[common], help="every budget").add_argument("--team")
    put = b.add_parser("set", parents=[common], help="create or change a budget")
    put.add_argument("scope", help="team:<name> or key:<key id>")
    put.add_argument("--limit", required=True, help="USD")
    put.add_argument("--window", default="month", help="day, week, month, total, rolling:<s>")
    put.add_argument("--tz", default="UTC")
    put.add_argument("--soft", action="store_true", help="never refuse: switch policy instead")
    put.add_argument("--threshold", help="fraction of the limit where the soft switch happens")
    put.add_argument("--policy", help="the cheaper policy past the threshold")
    for action, said in (("show", "one budget and its spend"), ("delete", "remove a budget")):
        b.add_parser(action, parents=[common], help=said).add_argument("scope")


def run_admin(args: argparse.Namespace) -> int:
    from router.budget.commands import run

    return run(args)
