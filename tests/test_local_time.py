"""The poster's clock: hours on the IP location's zone where it has one, and hours on a circle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posts_factory import frame, post
from specs import spec_dict
from toolkit.data.label import parse_label
from toolkit.data.local_time import disagreement, local_hours, place_zones
from toolkit.data.users import build_users
from toolkit.errors import ToolkitError
from toolkit.experiment.spec import parse_spec

LABEL = parse_label({"cohort": {"first_seen": ["2025-01-01", "2025-01-31"]}, "observe_days": 1,
                     "retained_if": {"returns_after_days": 1, "horizon_days": 3}, "coverage": None})


def located(user, when, place):
    return {**post(user, when), "ip_location": place}


def test_a_place_with_one_zone_moves_the_hour_and_several_zones_keep_the_data_clock():
    times = pd.Series(pd.to_datetime(["2025-01-14 03:00"] * 4 + ["2025-07-14 03:00"]))
    places = pd.Series(["广东省", "New York", "U.S.", "nowhere", "New York"])
    ip = local_hours(times, places, "Asia/Shanghai", "ip")
    # Beijing 03:00 is 14:00 in New York in winter (UTC-5), 15:00 in summer (UTC-4)
    assert ip.tolist() == [3.0, 14.0, 3.0, 3.0, 15.0]
    assert local_hours(times, places, "Asia/Shanghai", "data").tolist() == [3.0] * 5
    chosen = local_hours(times, places, "Asia/Shanghai", "ip", {"U.S.": "America/Chicago"})
    assert chosen[2] == 13.0, "data.ip_zones names a zone for a place with several"
    assert len(place_zones("United States")) > 1 and place_zones("日本") == ("Asia/Tokyo",)


def test_users_table_hours_on_the_posters_clock():
    rows = [located("ny", "2025-01-10 03:00", "New York"), located("ny", "2025-01-10 04:00", "New York"),
            located("gz", "2025-01-10 03:00", "广东"), located("z", "2025-01-31 10:00", "广东")]
    data, _, _ = build_users(frame(rows), LABEL)
    ip, _, _ = build_users(frame(rows), LABEL, local_time="ip")
    night = {k: dict(zip(t["user_id"], t["night_share"])) for k, t in (("data", data), ("ip", ip))}
    assert night["data"]["ny"] == 1.0 and night["ip"]["ny"] == 0.0, "14:00-15:00 in New York is not night"
    assert night["data"]["gz"] == night["ip"]["gz"] == 1.0


def test_hours_across_midnight_average_to_midnight_not_noon():
    rows = [post("m", "2025-01-10 23:30"), post("m", "2025-01-11 00:30"), post("s", "2025-01-10 12:00"),
            post("s", "2025-01-11 00:00"), post("z", "2025-01-31 10:00")]
    label = parse_label({**LABEL.to_dict(), "observe_days": 2, "retained_if": {"returns_after_days": 2,
                                                                                "horizon_days": 4}})
    users, _, _ = build_users(frame(rows), label)
    m = users.set_index("user_id").loc["m"]
    assert (m["hour_sin"], m["hour_cos"]) == pytest.approx((0.0, 1.0), abs=1e-9)
    assert m["hour_spread"] == pytest.approx(1 - np.cos(np.pi / 24))  # half an hour either side
    s = users.set_index("user_id").loc["s"]
    assert s["hour_spread"] == pytest.approx(1.0) and (s["hour_sin"], s["hour_cos"]) == (0.0, 0.0)


def test_spec_checks_the_clock_options():
    spec = parse_spec(spec_dict(data={"path": "x.csv", "local_time": "ip", "ip_zones": {"U.S.": "America/Chicago"}}))
    assert spec.data.local_time == "ip" and spec.data.to_dict()["ip_zones"] == {"U.S.": "America/Chicago"}
    with pytest.raises(ToolkitError, match="local_time"):
        parse_spec(spec_dict(data={"path": "x.csv", "local_time": "poster"}))
    with pytest.raises(ToolkitError, match=r"ip_zones\['U.S.'\] must be an IANA time zone"):
        parse_spec(spec_dict(data={"path": "x.csv", "ip_zones": {"U.S.": "Mars/Olympus"}}))


def test_eda_warns_when_ip_locations_disagree_with_the_data_clock():
    from toolkit.analysis.eda import EdaInput, clock_check
    from toolkit.analysis.eda.report import warnings

    posts = frame([post(f"u{i}", "2025-01-10 03:00") for i in range(4)] + [located("b", "2025-01-10 03:00", "北京")])
    found = disagreement(posts["create_time"], posts["ip_location"], "Asia/Shanghai")
    assert found == {"known": 5, "disagree": 4, "places": ["U.S."]}
    assert disagreement(posts["create_time"], posts["ip_location"], "America/New_York")["disagree"] == 1
    result = {"counts": {"positives": 9, "needed_positives": 1},
              "first_seen_auc": {"predicts": False}, "clock": clock_check(EdaInput("x", posts, LABEL, "", 1, 0))}
    said = [w for w in warnings(result) if "data.timezone (Asia/Shanghai)" in w]
    assert len(said) == 1 and "4 of 5 posts" in said[0] and "data.local_time: ip" in said[0]
