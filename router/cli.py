"""The `tokenwise` command line: serve, sim, demo.

Argument parsing happens in `main()`, never at import. Each sub-command lives in the module of
its idea and is imported only when chosen.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


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
    serve.add_argument("--port", type=int, help="listen port (default: server.port, 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: server.workers, 1)")

    sim = sub.add_parser("sim", help="run the upstream simulator (a SIMULATED provider)")
    sim.add_argument("--config", help="simulator config (default: the embedded catalog)")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=9000)

    demo = sub.add_parser("demo", help="simulator + proxy + the OpenAI SDK, with a table")
    demo.add_argument("--config", help="proxy config (default: embedded, with its simulator)")
    demo.add_argument("--repeat", type=int, default=1, help="times to send the workload")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from router.serve import serve

        return serve(args.config, args.host, args.port, args.workers)
    if args.command == "sim":
        from router.sim.server import serve as serve_sim

        serve_sim(args.config, args.host, args.port)
        return 0
    if args.command == "demo":
        from router.demo import run_demo

        return run_demo(args.config, args.repeat)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
