"""Keep the garbage collector off what lives as long as the process.

CPython's full collection walks every tracked object. After start-up the proxy holds a large,
permanent heap (the classifier's tables, the tokenizer's vocabulary, the config and pricing
models, the metrics registry), and every few thousand requests a full collection walked all of
it with the event loop stopped: measured here, a 40-60 ms pause that made the 99th percentile
of requests six times their median. `freeze` moves everything alive at that moment into the
permanent generation, which no collection walks; what requests allocate later is collected as
before, and objects that are frozen are still freed by reference counting. The app thaws the
heap when it stops.
"""

from __future__ import annotations

import gc


def freeze() -> None:
    """Collect once, then leave everything alive now out of every later collection."""
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Give frozen objects back to the collector (an app that stops within a process that goes
    on, as in tests, leaves nothing uncollectable behind)."""
    gc.unfreeze()
