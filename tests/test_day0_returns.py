"""Returns are returns under every ``label.day0``: no post of a user's first posting week counts as one.

Checked against the generator's truth (``return_day``: the first post after a user's first week, empty for
users who never came back) and on a hand-made crawl whose every label is worked out in the comments.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from posts_factory import frame, post
from toolkit.data.label import parse_label
from toolkit.data.posts import load_posts
from toolkit.data.time_to_return_users import build_time_to_return_users
from toolkit.data.synth import write_synthetic
from toolkit.data.users import build_users

COHORT = {"cohort": {"first_seen": ["2025-01-01", "2025-02-14"]}, "observe_days": 7, "coverage": None}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    path = write_synthetic(tmp_path_factory.mktemp("synth") / "posts.csv", 3000, 0)
    posts, _ = load_posts(path)
    truth = pd.read_csv(path.with_name("posts.truth.csv"), dtype={"user_id": str}).set_index("user_id")
    return posts, truth


@pytest.mark.parametrize("day0", ["first_post", "account_created"])
def test_positives_of_the_yes_no_label_came_back(crawl, day0):
    posts, truth = crawl
    label = parse_label({**COHORT, "day0": day0, "retained_if": {"returns_after_days": 7, "horizon_days": 28}})
    users, y, _ = build_users(posts, label)
    positives = users["user_id"][y == 1]
    never = int(truth.loc[positives, "return_day"].isna().sum())
    assert len(positives) > 100
    assert never <= 0.03 * len(positives), f"{never} of {len(positives)} positives never returned"


@pytest.mark.parametrize("day0", ["first_post", "account_created"])
def test_returns_of_the_time_to_return_label_came_back(crawl, day0):
    posts, truth = crawl
    label = parse_label({**COHORT, "day0": day0, "time_to_return": {"after_days": 7, "follow_days": 28}})
    users, ttr, _, _ = build_time_to_return_users(posts, label)
    returned = users["user_id"][ttr.event]
    never = int(truth.loc[returned, "return_day"].isna().sum())
    assert len(returned) > 100
    assert never <= 0.03 * len(returned), f"{never} of {len(returned)} returns seen were no return"


def _oid(created: str, tail: int) -> str:
    seconds = int(dt.datetime.fromisoformat(created).replace(tzinfo=dt.timezone.utc).timestamp())
    return f"{seconds:08x}{tail:016x}"


def _hand_crawl() -> pd.DataFrame:
    # Every account is created on Jan 1 (08:00 on the data's clock, UTC+8) and first posts on Jan 5 (day 4),
    # inside its observation window (observe_days 5: Jan 1..5). The label window would start on day 5 (Jan 6),
    # but the first posting week (5 days from the first post) runs Jan 5..9: a return counts from Jan 10 (day 9).
    a, b, c = (_oid("2025-01-01 00:00:00", k) for k in (1, 2, 3))
    rows = [(a, "2025-01-05 10:00"), (a, "2025-01-07 10:00"),   # only first-week posts: not retained
            (b, "2025-01-05 10:00"), (b, "2025-01-10 10:00"),   # the day after its first week: retained
            (c, "2025-01-05 10:00"), (c, "2025-01-06 10:00"), (c, "2025-01-12 10:00"),  # back on Jan 12
            (_oid("2025-01-20 00:00:00", 9), "2025-02-10 10:00")]  # the data's end, outside the cohort
    return frame([post(u, t) for u, t in rows]), (a, b, c)


def test_first_week_posts_are_no_return_when_day_0_is_the_sign_up():
    posts, (a, b, c) = _hand_crawl()
    form = {"cohort": {"first_seen": ["2024-12-25", "2025-01-10"]}, "observe_days": 5, "day0": "account_created",
            "coverage": None}
    label = parse_label({**form, "retained_if": {"returns_after_days": 5, "horizon_days": 20}})
    users, y, _ = build_users(posts, label, timezone="UTC+8")
    assert dict(zip(users["user_id"], y.tolist())) == {a: 0, b: 1, c: 1}
    # time to return, daily bins 0..15 for days 5..20: follow-up starts on day 9 (bin 4), after the first week
    ttr = parse_label({**form, "time_to_return": {"after_days": 5, "follow_days": 20}})
    users, label, _, counts = build_time_to_return_users(posts, ttr, timezone="UTC+8")
    assert users["user_id"].tolist() == [a, b, c] and counts.returned == 2
    assert label.event_last.tolist() == [-1, 4, 6], "b back on day 9 (bin 4), c on day 11 (bin 6)"
    assert label.event_first.tolist() == [-1, 4, 6], "the first week's days are not a gap a return hid in"
    assert not label.at_risk[:, :4].any(), "days 5..8 are inside the first posting week: nobody is at risk"
    assert label.at_risk[0, 4:].all() and np.flatnonzero(label.at_risk[2]).tolist() == [4, 5]
    assert label.censor_bin.tolist() == [15, -1, -1]
