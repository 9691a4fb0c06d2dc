"""The `tokenwise eval` arguments (argparse only: cheap to import when the parser is built)."""

from __future__ import annotations

import argparse
from typing import Any, Final

BENCHMARKS: Final[tuple[str, ...]] = (
    "routellm-mmlu",
    "routellm-gsm8k",
    "token-economy",
    "routerbench",
)
NO_LOSS: Final = "no-loss"


def add_eval_command(sub: Any) -> argparse.ArgumentParser:
    """Add `eval` to the `tokenwise` sub-command parsers."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "eval",
        help="replay public outcome data through the classifier: APGR, CPT, cost vs baselines",
    )
    parser.add_argument("--benchmark", choices=(*BENCHMARKS, "all"), default="all")
    parser.add_argument("--classifier", help="classifier artifact (default: the shipped one)")
    parser.add_argument(
        "--policy",
        default=NO_LOSS,
        help="floors for multi-model routing: no-loss (default) or a policy file's floors",
    )
    parser.add_argument("--data-dir", help="public data (default: ../shared/data beside the repo)")
    parser.add_argument("--out", help="results folder (default: $TOKENWISE_HOME/eval)")
    parser.add_argument(
        "--loo",
        action="store_true",
        help="use (building if needed) a classifier trained without each benchmark",
    )
    parser.add_argument("--limit", type=int, default=0, help="a stable sample of N questions")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser
