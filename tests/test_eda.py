"""The EDA report against numbers worked out by hand on a nine-post file."""

import json
import math

import numpy as np
import pytest

from toolkit.analysis.eda import creation_weeks, run_eda
from toolkit.analysis.topics import default_topics
from toolkit.cli import main

A, B, C = "67726f20" + "0" * 16, "6774f600" + "1" * 16, "677d1740" + "2" * 16  # created 12-30, 01-01, 01-07
HEADER = "post_id,user_id,title,content,label,like_count,collect_count,comment_count,share_count,create_time,post_type,ip_localtion"
ROWS = [  # user, time, likes, type, text
    (A, "1/1/2025 10:00", "1千+", "video", "garden flowers 花园"),
    (A, "1/3/2025 11:00", "5", "normal", "garden roses 花园"),
    (A, "1/10/2025 10:00", "2", "normal", "garden again"),
    (B, "1/1/2025 23:00", "0", "normal", "rocket launch 火箭"),
    (C, "1/2/2025 10:00", "3", "video", "garden tulips 花园"),
    (C, "1/20/2025 10:00", "1", "normal", "garden day"),
    ("u_d", "1/2/2025 14:00", "7", "normal", "rocket engine 火箭"),
    ("u_e", "1/20/2025 10:00", "0", "video", "hello"),
    ("u_f", "2/10/2025 10:00", "0", "normal", "hello"),
]


@pytest.fixture
def posts_csv(tmp_path):
    lines = [HEADER] + [f"p{i},{u},,{text},tag,{likes},0,0,0,{when},{kind},U.S." for i, (u, when, likes, kind, text)
                        in enumerate(ROWS)]
    path = tmp_path / "hand.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def hand_spec(posts_csv, tmp_path):
    """The bare CSV's default label over its dates, with crawl coverage off: the hand counts below ignore it."""
    import yaml

    from specs import spec_dict

    label = {"cohort": {"first_seen": ["2025-01-01", "2025-02-10"]}, "observe_days": 7,
             "retained_if": {"returns_after_days": 7, "horizon_days": 28}, "coverage": None}
    spec = spec_dict(name="hand", data={"path": str(posts_csv)}, label=label,
                     evaluation={"cv": {"folds": 5, "repeats": 1}, "min_positives_per_fold": 5})
    path = tmp_path / "hand.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def wilson_by_hand(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_eda_report_numbers_match_the_hand_count(hand_spec, tmp_path, capsys):
    rc = main(["eda", str(hand_spec), "--results-dir", str(tmp_path / "r"), "--topics", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    folder = next((tmp_path / "r" / "eda" / "hand").iterdir())
    r = json.loads((folder / "eda.json").read_text(encoding="utf-8"))
    # six users first seen 01-01..02-10; e (01-20) and f (02-10) need data up to +28 days: censored
    assert r["counts"] == {"posts": 9, "users": 6, "cohort": 6, "censored_by_data_end": 2, "censored_by_coverage": 0,
                           "labelled": 4, "positives": 2, "positive_rate": 0.5, "needed_positives": 25,
                           "not_yet_active": 0, "coverage": "off (label.coverage: null, or synthetic data)"}
    assert r["arrival"] == [{"week": "2024-12-30", "cohort": 4, "labelled": 4, "censored_by_data_end": 0,
                             "censored_by_coverage": 0},
                            {"week": "2025-01-20", "cohort": 1, "labelled": 0, "censored_by_data_end": 1,
                             "censored_by_coverage": 0},
                            {"week": "2025-02-10", "cohort": 1, "labelled": 0, "censored_by_data_end": 1,
                             "censored_by_coverage": 0}]
    # 41 days 01-01..02-10, posts on 01-01, 01-02, 01-03, 01-10, 01-20, 02-10
    assert r["volume"] == {"days": 41, "empty_days": 35, "first": "2025-01-01", "last": "2025-02-10"}
    day = {row["day"]: row for row in r["by_day"]}
    assert (day["2025-01-01"]["users"], day["2025-01-01"]["retained"]) == (2, 1)  # a stays, b does not
    assert (day["2025-01-01"]["ci_low"], day["2025-01-01"]["ci_high"]) == pytest.approx(wilson_by_hand(1, 2))
    week = {row["week"]: (row["users"], row["retained"]) for row in r["by_week"]}
    assert week == {"2024-12-30": (2, 1), "2025-01-06": (1, 1)}  # u_d has no object id
    assert r["object_ids"] == 3
    assert r["lower_bound_share"]["like_count"] == pytest.approx(1 / 9)
    assert r["mix"]["types"]["video"] == pytest.approx(3 / 9)
    assert r["mix"]["hours"][10] == 6 and r["mix"]["hours"][23] == 1
    # n_posts in the first 7 days: a 2, b 1, c 1, d 1 against retained 1 0 1 0: r = 0.5 / sqrt(0.75)
    corr = {row["column"]: row for row in r["correlations"]}
    assert corr["n_posts"]["r"] == pytest.approx(0.5 / math.sqrt(0.75))
    assert r["topics"]["n_topics"] == 2 and sum(t["users"] for t in r["topics"]["retention"]) == 4
    words = {w for t in r["topics"]["topics"] for w in t["english"] + t["chinese"]}
    assert {"garden", "rocket"} <= words
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "only 2 positives; the evaluation asks for at least 25" in md
    assert "| 2024-12-30 | 2 | 1 | 0.500 | too few positives to read |" in md, "2 positives: no interval is read"
    assert r["clock"]["disagree"] == 9 and "come from places whose clock differs from data.timezone" in md
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(r["figures"]) == 7
    assert "warning: only 2 positives" in out


def test_eda_topics_are_deterministic_for_a_seed(hand_spec, tmp_path):
    _, one = run_eda(hand_spec, results_dir=tmp_path / "a", n_topics=2)
    _, two = run_eda(hand_spec, results_dir=tmp_path / "b", n_topics=2)
    assert one["topics"] == two["topics"]


def test_creation_weeks_drop_implausible_ids_and_pool_old_weeks():
    import pandas as pd

    ids = pd.Series([A, "00000001" + "0" * 16, "not-an-id", "ffffffff" + "0" * 16])
    assert creation_weeks(ids, "2025-02-10").tolist() == ["2024-12-30", None, None, None]
    many = pd.Series([format(int(pd.Timestamp(f"2024-{m:02d}-15").timestamp()), "08x") + "0" * 16 for m in range(1, 13)])
    weeks = creation_weeks(many, "2025-02-10", max_groups=5)
    assert (weeks == "earlier").sum() == 8 and weeks.nunique() == 5


def test_default_topic_rule():
    assert [default_topics(n) for n in (10, 500, 2000, 100000)] == [3, 5, 10, 12]


def test_eda_refuses_other_files(tmp_path, capsys):
    rc = main(["eda", str(tmp_path / "x.txt")])
    assert rc == 2 and "spec (.yaml) or a posts CSV" in capsys.readouterr().err
