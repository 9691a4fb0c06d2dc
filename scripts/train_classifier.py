#!/usr/bin/env python3
"""Train the difficulty classifier; same as `tokenwise train` (see router/classify/train.py).

python scripts/train_classifier.py                        # writes router/data/classifier.json
python scripts/train_classifier.py --exclude routellm-mmlu --out /tmp/no-mmlu.json
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router.classify.train import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
