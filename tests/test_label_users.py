import datetime as dt

import numpy as np
import pytest

from posts_factory import frame, post
from toolkit.data.label import parse_label
from toolkit.data.schema import USER_COLUMNS
from toolkit.data.users import build_users
from toolkit.errors import ToolkitError

REFERENCE = {
    "cohort": {"first_seen": ["2025-01-01", "2025-01-31"]},
    "observe_until": "2025-01-31",
    "retained_if": {"active_between": ["2025-02-01", "2025-02-28"]},
    "coverage": None,  # a hand-made file of a few posts has no crawl volume to judge coverage by
}
CAME_BACK = {
    "cohort": {"first_seen": ["2025-01-01", "2025-02-14"]},
    "observe_days": 1,
    "retained_if": {"returns_after_days": 1, "horizon_days": 14},
    "coverage": None,
}


def posts():
    return frame([
        post("a", "2025-01-13 08:00", content="第一次来 hello", likes=10),
        post("a", "2025-01-14 09:30", content="学中文 day two", likes=100, video=True),
        post("a", "2025-02-03 10:00", content="still here in February", likes=5000),
        post("b", "2025-01-15 23:00", content="hi from tiktok refugee"),
        post("c", "2025-01-20 12:00", content="food!", likes=3, lb=True),
        post("c", "2025-01-25 12:00", content="more food"),
        post("d", "2025-02-10 12:00", content="late arrival"),
        post("d", "2025-02-12 12:00", content="came back"),
        post("e", "2025-02-14 12:00", content="too late to label"),
        post("z", "2025-03-05 12:00", content="data end"),
    ])


def test_reference_label_uses_calendar_windows():
    label = dict(REFERENCE, observe_until="2025-02-01", retained_if={"active_between": ["2025-02-02", "2025-02-28"]})
    users, y, report = build_users(posts(), parse_label(label))
    assert list(users["user_id"]) == ["a", "b", "c"]
    assert y.tolist() == [1, 0, 0]
    assert report.users == 6 and report.in_cohort == 3 and report.censored == 0 and report.positives == 1
    a = users.iloc[0]
    # every user is observed for the same 2 days (Jan 31 .. Feb 1, the cohort's end to observe_until):
    # a's own day 0 and day 1; the February post (5000 likes) is invisible
    assert a["n_posts"] == 2
    assert a["log_like_max"] == pytest.approx(np.log1p(100))
    assert "February" not in a["text"]
    assert a["activity"].shape == (2, 2)
    assert a["activity"][:, 0].tolist() == pytest.approx([np.log1p(1)] * 2)
    c = users.set_index("user_id").loc["c"]
    assert c["n_posts"] == 1, "c's Jan 25 post is after c's first 2 days"
    assert c["exposure_days"] == 13 and c["exposure_posts"] == 2, "exposure: Jan 20..Feb 1 under the spec"
    assert list(users.columns) == list(USER_COLUMNS)


def test_came_back_label_is_per_user_and_censors_late_users():
    users, y, report = build_users(posts(), parse_label({**CAME_BACK, "data_end": "2025-02-26"}))
    # e: first seen Feb 14, horizon ends Feb 28, after the data end -> censored; z is outside the cohort
    assert report.in_cohort == 5 and report.censored == 1
    labels = dict(zip(users["user_id"], y))
    # a returned on day 1 (Jan 14), c on day 5, d on day 2; b never came back
    assert labels == {"a": 1, "b": 0, "c": 1, "d": 1}
    a = users.set_index("user_id").loc["a"]
    assert a["n_posts"] == 1, "observe_days: 1 must hide the day-1 post from the features"
    assert a["activity"].shape == (1, 2)
    assert report.positive_rate == pytest.approx(0.75)


def test_behavior_features():
    users, _, _ = build_users(posts(), parse_label({**REFERENCE, "observe_until": "2025-02-05",
                                                    "retained_if": {"active_between": ["2025-02-06", "2025-02-28"]}}))
    c = users.set_index("user_id").loc["c"]
    assert c["like_lb_share"] == pytest.approx(0.5)
    assert c["active_days"] == 2
    a = users.set_index("user_id").loc["a"]
    assert a["video_share"] == pytest.approx(0.5)
    assert 0 < a["zh_share"] < 1
    b = users.set_index("user_id").loc["b"]
    assert b["night_share"] == 0 and b["hour_spread"] == pytest.approx(0.0, abs=1e-9)
    # 23:00 on the circle: angle 23/24 of a turn
    assert (b["hour_sin"], b["hour_cos"]) == pytest.approx((np.sin(23 * np.pi / 12), np.cos(23 * np.pi / 12)))


def test_no_user_left_is_a_clear_error():
    label = dict(REFERENCE, cohort={"first_seen": ["2024-01-01", "2024-01-31"]}, observe_until="2025-01-31")
    with pytest.raises(ToolkitError, match="No user is left"):
        build_users(posts(), parse_label(label))


@pytest.mark.parametrize("change, message", [
    ({"observe_days": 3}, "exactly one of"),
    ({"retained_if": {"active_between": ["2025-01-20", "2025-02-28"]}}, "inside the observation window"),
    ({"cohort": {"first_seen": ["2025-02-01", "2025-01-01"]}}, "must not end before"),
    ({"cohort": {"first_seen": ["2025-01-01", "not a date"]}}, "YYYY-MM-DD"),
    ({"retained_if": {"returns_after_days": 1, "horizon_days": 14}}, "needs observe_days"),
    ({"observe_until": "2025-01-10"}, "before the end of the cohort"),
    ({"extra": 1}, "unknown key 'extra'"),
])
def test_label_mistakes_are_named(change, message):
    with pytest.raises(ToolkitError, match=message):
        parse_label({**REFERENCE, **change})


def test_came_back_must_not_overlap_observation():
    with pytest.raises(ToolkitError, match="must be >= observe_days"):
        parse_label({**CAME_BACK, "observe_days": 3})
    spec = parse_label({**CAME_BACK, "data_end": "2025-03-01"})
    assert spec.data_end == dt.date(2025, 3, 1)


def test_topic_hashtags_do_not_count_as_chinese():
    rows = [post("en", "2025-01-13 08:00", content="hello friends #tiktok[话题]# #refugee[话题]#"),
            post("zh", "2025-01-13 09:00", content="你好 hello")]
    users, _, _ = build_users(frame(rows + [post("x", "2025-03-30 08:00")]), parse_label(REFERENCE))
    share = dict(zip(users["user_id"], users["zh_share"]))
    assert share["en"] == 0.0
    assert 0 < share["zh"] < 1
