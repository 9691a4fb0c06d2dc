"""`since`/`until` bounds: a number out of any datetime's range is a clear error, not a crash.

Regression (found by tests/fuzz/test_admin_fuzz.py): `until=999...9` (30 digits) parsed as
1e29 epoch seconds and made /admin/spend answer 500."""

from __future__ import annotations

import pytest

from router.spend import LAST_EPOCH, SpendError, parse_bound


@pytest.mark.parametrize("text", ["9" * 30, "-1", "nan", "inf", "-inf", "1e999"])
def test_numbers_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(SpendError, match="out of range"):
        parse_bound(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("1700000000.5", 1_700_000_000.5), (str(LAST_EPOCH), float(LAST_EPOCH))],
)
def test_numbers_in_range_are_epoch_seconds(text: str, seconds: float) -> None:
    assert parse_bound(text) == seconds


def test_dates_still_parse() -> None:
    assert parse_bound("1970-01-02") == 86_400.0
    assert parse_bound("1970-01-01", until=True) == 86_400.0


def test_the_day_after_the_last_date_is_refused() -> None:
    with pytest.raises(SpendError, match="out of range"):
        parse_bound("9999-12-31", until=True)
