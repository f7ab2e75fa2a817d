import datetime as dt

import numpy as np
import pandas as pd

from toolkit.data.crawl import account_created, daily_volume, is_object_id


def test_daily_volume_counts_every_day_with_zero_gaps():
    times = pd.Series(pd.to_datetime([
        "2025-01-14 23:59", "2025-01-14 00:01", "2025-01-17 12:00", None, "2025-01-14 08:00",
    ]))
    volume = daily_volume(times)
    # 14th: three posts, 15th and 16th: none (kept as zeros), 17th: one; NaT dropped
    assert list(volume.index) == [dt.date(2025, 1, d) for d in (14, 15, 16, 17)]
    assert volume.tolist() == [3, 0, 0, 1]
    assert volume.dtype == np.int64
    assert volume.name == "posts"


def test_daily_volume_of_no_time_is_empty():
    assert daily_volume(pd.Series([pd.NaT, pd.NaT])).empty
    assert daily_volume(pd.Series([], dtype="datetime64[ns]")).empty


def test_is_object_id_needs_24_hex_digits():
    ids = pd.Series(["5f2b8c000000000000000000", "5F2B8C00AAAAAAAAAAAAAAAA", "5f2b8c", "u_17",
                     "5f2b8c00000000000000000g", None, 12345, " 5f2b8c000000000000000000"])
    assert is_object_id(ids).tolist() == [True, True, False, False, False, False, False, False]


def test_account_created_decodes_the_first_eight_hex_digits_as_unix_seconds():
    # 0x67858a00 = 1736804864 s = 2025-01-13 21:47:44 UTC; 0x00000001 = 1 s after the epoch
    ids = pd.Series(["67858a00aaaaaaaaaaaaaaaa", "00000001ffffffffffffffff", "not-an-id"], index=[10, 11, 12])
    created = account_created(ids)
    assert str(created.dtype) == "datetime64[ns, UTC]"
    assert list(created.index) == [10, 11, 12]
    assert created[10] == pd.Timestamp(1736804864, unit="s", tz="UTC")
    assert created[10] == pd.Timestamp("2025-01-13 21:47:44", tz="UTC")
    assert created[11] == pd.Timestamp("1970-01-01 00:00:01", tz="UTC")
    assert pd.isna(created[12])
