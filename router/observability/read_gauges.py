"""Gauges whose values are read when Prometheus scrapes, never kept in the multiprocess files:
the store's budgets (the same figure on every replica; a budget deleted leaves the exposition)
and the router's learned token figures."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class ReadGauge(Collector):
    """One gauge family whose samples are `values` as last read, and nothing else (a label set
    gone from `values` is gone from the exposition)."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.values: dict[tuple[str, ...], float] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, value in sorted(self.values.items()):
            family.add_metric(labels, value)
        yield family


def budget_gauge() -> ReadGauge:
    return ReadGauge(
        "tokenwise_budget_remaining_usd",
        "USD left in a budget's current window (limit - settled - in flight), by scope; the "
        "store's figure, the same on every replica.",
        ("scope",),
    )


def learned_gauge() -> ReadGauge:
    """What routing expects a model to generate, as learned from metered traffic (the catalog's
    priors until a first answer); the process that answers the scrape, synced with the others
    through the store."""
    return ReadGauge(
        "tokenwise_expected_completion_tokens",
        "Completion tokens (reasoning included) routing expects, learned from metered "
        "traffic, by routed model, category and effort.",
        ("model", "category", "effort"),
    )
