"""Named state (the router's learned figures) round-trips through every backend."""

from __future__ import annotations

from tests.unit.store.conftest import Opener


async def test_state_upserts_and_reads_back_across_instances(opener: Opener) -> None:
    first = await opener()
    assert await first.get_state("priors") == {}
    await first.put_state("priors", {"a|math|high": "812.5", "b|chat|none": "40"})
    await first.put_state("priors", {"a|math|high": "900"})
    second = await opener()
    assert await second.get_state("priors") == {"a|math|high": "900", "b|chat|none": "40"}
    assert await second.get_state("other") == {}
    await second.put_state("other", {})
    assert await first.get_state("other") == {}
