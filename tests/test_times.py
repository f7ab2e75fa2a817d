import numpy as np
import pandas as pd
import pytest

from toolkit.data.times import parse_time, parse_times

NOON = pd.Timestamp("2025-01-14 12:08:00")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1/14/2025 12:08", NOON),
        ("01/14/2025 12:08", NOON),
        ("1/14/2025 12:08:30", pd.Timestamp("2025-01-14 12:08:30")),
        ("2/3/2025 0:05", pd.Timestamp("2025-02-03 00:05")),
        ("1/14/2025 23:59", pd.Timestamp("2025-01-14 23:59")),
        ("  1/14/2025 12:08 ", NOON),
        ("1736856480000", NOON),
        ("1736856480000.0", NOON),
        (1736856480000, NOON),
        (1736856480000.0, NOON),
        (np.int64(1736856480000), NOON),
        ("1736856480", NOON),
        (1736856480, NOON),
        ("2025-01-14T12:08:00", NOON),
        ("2025-01-14 12:08", NOON),
        ("2025-01-14T12:08:00Z", NOON),
        ("2025-01-14T20:08:00+08:00", NOON),
        ("2025-01-14T07:08:00-0500", NOON),
        ("2025-01-14", pd.Timestamp("2025-01-14")),
    ],
)
def test_parse_time_accepts_formats(value, expected):
    stamp = parse_time(value)
    assert stamp == expected
    assert stamp.tzinfo is None


@pytest.mark.parametrize(
    "value",
    ["", "   ", None, float("nan"), "yesterday", "14/1/2025 12:08", "2/30/2025 1:00", "1/14/2025 24:00",
     "1/14/2025", "12345", "12345678901", "17368564800000", 12345, True, "2025/01/14 12:08", "1/14/25 12:08"],
)
def test_parse_time_rejects_other_values_listing_formats(value):
    with pytest.raises(ValueError) as info:
        parse_time(value)
    message = str(info.value)
    assert "M/D/YYYY H:MM" in message and "epoch" in message and "ISO 8601" in message


def test_parse_times_mixed_column_with_bad_mask_and_index():
    cells = ["1/14/2025 12:08", "1736856480000", "", None, "nonsense", "2025-01-14T12:08:00Z", "1/14/2025 12:08:30"]
    series = pd.Series(cells, index=range(100, 107), dtype=object)
    times, bad = parse_times(series)
    assert times.dtype == "datetime64[ns]"
    assert list(times.index) == list(series.index)
    assert bad.tolist() == [False, False, True, True, True, False, False]
    assert times.iloc[0] == NOON and times.iloc[1] == NOON and times.iloc[5] == NOON
    assert times.iloc[6] == pd.Timestamp("2025-01-14 12:08:30")
    assert times.isna().tolist() == bad.tolist()


def test_parse_times_numeric_epochs_and_lists():
    times, bad = parse_times(pd.Series([1736856480000, 1736856480, 5]))
    assert times.iloc[0] == NOON and times.iloc[1] == NOON
    assert bad.tolist() == [False, False, True]
    times, bad = parse_times(["1/14/2025 12:08"])
    assert times.iloc[0] == NOON and not bad.any()
    times, bad = parse_times([])
    assert len(times) == 0 and len(bad) == 0


def test_parse_times_agrees_with_parse_time_on_common_format():
    rng = np.random.default_rng(1)
    parts = zip(rng.integers(1, 13, 500), rng.integers(1, 29, 500), rng.integers(0, 24, 500), rng.integers(0, 60, 500))
    cells = [f"{m}/{d}/2025 {h}:{mi:02d}" for m, d, h, mi in parts]
    times, bad = parse_times(pd.Series(cells))
    assert not bad.any()
    assert all(t == parse_time(c) for t, c in zip(times, cells))
