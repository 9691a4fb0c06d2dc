"""The bounded request log and the `fail_first` counter behind it."""

from __future__ import annotations

from router.sim.requestlog import RequestLog


def test_log_keeps_only_the_newest() -> None:
    log = RequestLog(size=3)
    for index in range(5):
        log.record({"request_id": log.new_request_id(), "n": index})
    assert [e["n"] for e in log.entries()] == [2, 3, 4]
    assert [e["n"] for e in log.entries(2)] == [3, 4]
    assert log.entries()[-1]["request_id"] == "simreq-00000005"
    log.clear()
    assert log.entries() == []


def test_fail_first_counts_per_key() -> None:
    log = RequestLog(size=2)
    assert [log.should_fail(b"a", 2) for _ in range(3)] == [True, True, False]
    assert log.should_fail(b"b", 1) and not log.should_fail(b"b", 1)
    assert log.should_fail(b"c", None) and log.should_fail(b"c", None)
    assert not log.should_fail(b"a", 2)
    assert log.should_fail(b"d", 1)
    assert log.should_fail(b"b", 1), "the least recent key is forgotten on overflow"
