"""Reload the price table while serving: on SIGHUP, or `POST /admin/pricing/reload`.

The file read is the one read at start-up (`metering.pricing_file`, else `$TOKENWISE_PRICING`,
else the shipped `pricing.json`). The new table must validate and must still price every catalog
model (each through its `price` key and provider); otherwise nothing changes, the error is
logged, and the old prices stay in force.

How the request path sees new prices: each catalog `ModelSpec` carries its resolved price, and
the services hold the catalog three times (`settings.models`; `targets`, each target wrapping its
spec; the router's `models`, for expected costs). A reload builds a repriced catalog and swaps it
into all three; a request keeps the target it was routed to, so it is priced from one table
from start to end, and the next request sees the new one. With several workers, SIGHUP to the
main process makes uvicorn restart the workers (each reads the file again); the admin call
reaches one worker only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from router.config.load import ConfigError, ModelSpec, Settings, load_prices
from router.metering.pricing import PriceNotFound, PriceTable
from router.services import Services

log = logging.getLogger("tokenwise.pricing")


class ReloadError(ValueError):
    """The price file cannot replace the current table; the message says why."""


@dataclass(frozen=True)
class Reloaded:
    path: str
    models: int
    changed: tuple[str, ...]  # catalog models whose price changed


def reprice(settings: Settings, table: PriceTable) -> tuple[Settings, tuple[str, ...]]:
    """The settings with every catalog model priced from `table`, and the models that changed."""
    problems = []
    models: dict[str, ModelSpec] = {}
    for name, spec in settings.models.items():
        entry = settings.config.models.get(name)
        key = (entry.price if entry is not None else None) or spec.price.key
        try:
            models[name] = replace(spec, price=table.lookup(key, spec.provider.name))
        except PriceNotFound as exc:
            problems.append(f"models.{name}.price: {exc}")
    if problems:
        raise ReloadError(f"{table.path}: " + "; ".join(problems))
    changed = tuple(n for n, spec in models.items() if spec.price != settings.models[n].price)
    return replace(settings, models=models, prices=table), changed


def reload_pricing(services: Services) -> Reloaded:
    """Read the price file again and swap it in; `ReloadError` (logged) leaves all as it was."""
    settings = services.settings
    try:
        table = load_prices(settings.config, settings.source, settings.env)
        repriced, changed = reprice(settings, table)
    except (ConfigError, ReloadError) as exc:
        log.error("pricing: reload failed, the previous prices stay in force: %s", exc)
        raise ReloadError(str(exc)) from None
    targets = {
        name: replace(target, model=repriced.models[name]) if name in repriced.models else target
        for name, target in services.targets.items()
    }
    services.settings = repriced
    services.targets = targets
    services.router.models = repriced.models  # the policies' expected costs
    log.warning(
        "pricing: reloaded %s (%d models; changed: %s)",
        table.path,
        len(repriced.models),
        ", ".join(changed) or "none",
    )
    return Reloaded(path=table.path, models=len(repriced.models), changed=changed)


def install_reload_signal(services: Services) -> Callable[[], None]:
    """Reload on SIGHUP (main thread of a Unix process only); returns the uninstaller."""
    hup = getattr(signal, "SIGHUP", None)
    if hup is None or threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(hup, _on_signal, services)

    def uninstall() -> None:
        loop.remove_signal_handler(hup)

    return uninstall


def _on_signal(services: Services) -> None:
    # A failure is logged by reload_pricing; serving goes on with the old table.
    with contextlib.suppress(ReloadError):
        reload_pricing(services)
