"""Gauges whose values are read when Prometheus scrapes, never kept in the multiprocess files:
the store's budgets (the same figure on every replica; a budget deleted leaves the exposition)
and the router's learned token figures."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class BudgetGauge(Collector):
    """`tokenwise_budget_remaining_usd`: the values of the last read from the store, as they
    were (a replica's figure is the store's, the same on every replica)."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "tokenwise_budget_remaining_usd",
            "USD left in a budget's current window (limit - settled - in flight), by scope; the "
            "store's figure, the same on every replica.",
            labels=("scope",),
        )
        for scope, usd in sorted(self.values.items()):
            family.add_metric((scope,), usd)
        yield family


class LearnedGauge(Collector):
    """`tokenwise_expected_completion_tokens`: what routing expects a model to generate (answer
    and reasoning) per category and effort, as learned from metered traffic (the catalog's
    priors until a first answer); the process that answers the scrape, synced with the others
    through the store."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], float] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "tokenwise_expected_completion_tokens",
            "Completion tokens (reasoning included) routing expects, learned from metered "
            "traffic, by routed model, category and effort.",
            labels=("model", "category", "effort"),
        )
        for (model, category, effort), tokens in sorted(self.values.items()):
            family.add_metric((model, category, effort), tokens)
        yield family
