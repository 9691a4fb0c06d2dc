"""The `tokenwise` command line: serve, sim, demo, spend, teams, keys, budgets.

Argument parsing happens in `main()`, never at import. Each sub-command lives in the module of
its idea and is imported only when chosen.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence


def bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from `low` to `high`, else a usage error that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {low} to {high}")
        return value

    return parse


PORT = bounded(1, 65535)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokenwise",
        description="OpenAI-compatible proxy that routes by difficulty and meters real cost.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the proxy")
    serve.add_argument(
        "--config", help="config file (default: $TOKENWISE_CONFIG, ./tokenwise.yaml, embedded)"
    )
    serve.add_argument("--host", help="listen address (default: server.host, 127.0.0.1)")
    serve.add_argument("--port", type=PORT, help="listen port (default: server.port, 8000)")
    serve.add_argument(
        "--workers", type=bounded(1, 256), help="worker processes (default: server.workers, 1)"
    )

    sim = sub.add_parser("sim", help="run the upstream simulator (a SIMULATED provider)")
    sim.add_argument("--config", help="simulator config (default: the embedded catalog)")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=PORT, default=9000)

    demo = sub.add_parser("demo", help="simulator + proxy + the OpenAI SDK, with a table")
    demo.add_argument("--config", help="proxy config (default: embedded, with its simulator)")
    demo.add_argument(
        "--repeat", type=bounded(1, 1000), default=1, help="times to send the workload"
    )

    classify = sub.add_parser("classify", help="what the router decides for a prompt, and why")
    classify.add_argument("text", nargs="?", help="a prompt to classify")
    classify.add_argument(
        "--jsonl",
        metavar="FILE",
        help="classify each line (id, prompt or "
        "messages) of FILE ('-' for stdin) into one JSON line",
    )
    classify.add_argument("--policy", help="policy to decide under (default: the configured one)")
    classify.add_argument("--config", help="config whose catalog the model is resolved against")

    probe = sub.add_parser("probe", help="check that reasoning models honour effort and format")
    probe.add_argument("--config", help="catalog to probe (default: embedded, with its simulator)")
    probe.add_argument(
        "--fail-on-violation", action="store_true", help="exit 1 when any model fails a check"
    )

    spend = sub.add_parser("spend", help="spend from the ledger by team, model or day")
    spend.add_argument("--by", choices=("team", "model", "day"), default="team")
    spend.add_argument("--since", help="from this date or time, inclusive (UTC: 2026-11-01)")
    spend.add_argument("--until", help="to this time, exclusive (a bare date: through that day)")
    spend_format = spend.add_mutually_exclusive_group()
    spend_format.add_argument("--json", action="store_true", help="print JSON")
    spend_format.add_argument("--csv", action="store_true", help="print CSV")
    spend.add_argument("--config", help="config naming the store (default as for serve)")
    spend.add_argument("--url", help="ask a running server instead (needs $TOKENWISE_MASTER_KEY)")

    sub.add_parser(
        "train",
        help="train the classifier (options: tokenwise train --help)",
        add_help=False,
    )
    from router.evaluate.args import add_eval_command  # argparse only

    add_eval_command(sub)

    from router.admin_cli import add_commands  # argparse only: teams, keys, budgets

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except BrokenPipeError:  # `tokenwise spend | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports it


def run(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["train"]:  # its own parser: router/classify/train.py
        from router.classify.train import main as train

        return train(given[1:])
    args = build_parser().parse_args(given)
    if args.command == "serve":
        from router.serve import serve

        return serve(args.config, args.host, args.port, args.workers)
    if args.command == "sim":
        from router.sim.server import serve as serve_sim

        try:
            serve_sim(args.config, args.host, args.port)
        except ValueError as exc:  # the simulator config, named with its key path
            print(f"tokenwise sim: configuration error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "classify":
        from router.classify_cli import run_classify

        return run_classify(args.text, args.jsonl, args.policy, args.config)
    if args.command == "demo":
        from router.demo import run_demo

        return run_demo(args.config, args.repeat)
    if args.command == "probe":
        from router.probe import run_probe

        return run_probe(args.config, args.fail_on_violation)
    if args.command == "spend":
        from router.spend import run_spend

        return run_spend(args)
    if args.command == "eval":
        from router.evaluate.cli import run_eval

        return run_eval(args)
    if args.command in ("teams", "keys", "budgets"):
        from router.admin_cli import run_admin

        return run_admin(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
