import re

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from toolkit.data.posts import load_posts
from toolkit.data.synth import (
    CSV_COLUMNS,
    GEN_HORIZON_DAYS,
    GEN_OBSERVE_DAYS,
    ensure_synthetic,
    generate,
    truth_path,
    write_synthetic,
)
from toolkit.errors import ToolkitError

FAMILIES = ("engagement_score", "text_score", "temporal_score")


@pytest.fixture(scope="module")
def big():
    """3000 users at the default rate, generated once for the statistical tests."""
    return generate(3000, seed=11, positive_rate=0.1)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path = write_synthetic(tmp_path_factory.mktemp("synth") / "posts.csv", users=400, seed=5)
    posts, report = load_posts(path)
    truth = pd.read_csv(truth_path(path), dtype={"user_id": str}, parse_dates=["first_seen"])
    return path, posts, report, truth


def test_deterministic_for_a_seed():
    posts_a, truth_a = generate(200, seed=7)
    posts_b, truth_b = generate(200, seed=7)
    pd.testing.assert_frame_equal(posts_a, posts_b)
    pd.testing.assert_frame_equal(truth_a, truth_b)
    posts_c, _ = generate(200, seed=8)
    assert not posts_a["user_id"].isin(posts_c["user_id"]).any()


def test_frame_has_public_columns_as_strings(big):
    posts, truth = big
    assert tuple(posts.columns) == CSV_COLUMNS
    assert all(isinstance(v, str) for column in posts.columns for v in posts[column].head(500))
    assert posts["post_id"].is_unique and truth["user_id"].is_unique
    hex24 = re.compile(r"^[0-9a-f]{24}$")
    assert posts["user_id"].map(hex24.match).all() and posts["post_id"].map(hex24.match).all()
    assert posts["create_time"].str.fullmatch(r"[1-9]\d?/[1-9]\d?/2025 \d{1,2}:\d\d").all()
    assert (posts["address"] == "https://www.xiaohongshu.com/user/profile/" + posts["user_id"]
            + "?xsec_source=pc_note").all()
    assert set(posts["post_type"]) == {"video", "normal"}
    assert (posts["ip_localtion"] == "U.S.").mean() > 0.85 and posts["ip_localtion"].nunique() > 1


def test_round_trip_parses_every_row(loaded):
    path, posts, report, truth = loaded
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    raw, _ = generate(400, seed=5)
    assert report.rows_read == len(raw) == report.rows_kept
    assert report.rows_skipped == 0 and report.duplicates_dropped == 0
    assert posts["create_time"].notna().all()
    assert set(posts["user_id"]) == set(truth["user_id"])
    assert posts["content"].tolist() == raw["content"].tolist()  # multi-line fields survive
    assert posts["title"].tolist() == raw["title"].tolist()


def test_positive_rate_close_to_requested(big):
    _, truth = big
    assert abs(truth["p_retained"].mean() - 0.1) < 1e-3
    assert abs(truth["retained"].mean() - 0.1) < 0.03
    _, truth_30 = generate(3000, seed=3, positive_rate=0.3)
    assert abs(truth_30["retained"].mean() - 0.3) < 0.04


def test_label_from_posting_days_equals_retained(loaded):
    _, posts, _, truth = loaded
    day = posts["create_time"].dt.normalize()
    first = day.groupby(posts["user_id"]).transform("min")
    offset = (day - first).dt.days
    per_user = pd.DataFrame({"user_id": posts["user_id"], "offset": offset})
    label = per_user.assign(hit=offset.between(GEN_OBSERVE_DAYS, GEN_HORIZON_DAYS)).groupby("user_id")["hit"].any()
    later = per_user.assign(late=offset >= GEN_OBSERVE_DAYS).groupby("user_id")["late"].any()
    truth = truth.set_index("user_id")
    assert truth["retained"].sum() > 0
    assert (label.reindex(truth.index) == truth["retained"]).all()
    # Users who did not stay never post after the first week.
    assert not later[~truth["retained"].reindex(later.index)].any()
    assert (first.groupby(posts["user_id"]).first().reindex(truth.index) == truth["first_seen"]).all()


def test_first_seen_dates_and_january_burst(big):
    posts, truth = big
    first = truth["first_seen"]
    assert first.min() >= pd.Timestamp("2025-01-13") and first.max() <= pd.Timestamp("2025-02-28")
    assert first.between("2025-01-13", "2025-01-15").mean() > 0.4
    assert (first.dt.month == 2).any()
    months = pd.to_datetime(posts["create_time"], format="%m/%d/%Y %H:%M").dt.month
    assert (months == 1).mean() > 0.6
    per_user = posts.groupby("user_id").size()
    assert (per_user == 1).mean() > 0.3 and per_user.max() > 3


def test_quirks_appear(big):
    posts, _ = big
    counts = pd.concat([posts[c] for c in ("like_count", "collect_count", "comment_count", "share_count")])
    assert counts.str.fullmatch(r"\d+(\.\d)?万").sum() > 0
    assert counts.str.endswith("+").sum() > 0
    assert counts.isin(["10+", "99+"]).sum() > 0 and counts.str.fullmatch(r"\d+千\+").sum() > 0
    assert (counts == "0").sum() > 0
    text = posts["title"] + " " + posts["content"]
    chinese = text.str.replace(r"\[话题\]", "", regex=True).str.contains(r"[\u4e00-\u9fff]")
    assert 0.1 < chinese.mean() < 0.9
    assert posts["content"].str.contains("\n").sum() > 0
    assert (posts["title"] == "").sum() > 0 and (posts["content"] == "").sum() > 0
    assert posts["content"].str.contains(r"#tiktok[a-z]*\[话题\]#", regex=True).sum() > 0
    assert posts["label"].str.contains("#").mean() > 0.5
    assert posts["content"].str.contains("refugee", case=False).sum() > 0


def test_oracle_beats_each_family_and_chance(big):
    _, truth = big
    y = truth["retained"].to_numpy()
    oracle = roc_auc_score(y, truth["p_retained"])
    assert oracle > 0.75
    for family in FAMILIES:
        alone = roc_auc_score(y, truth[family])
        assert 0.58 < alone < oracle - 0.05, family


@pytest.mark.parametrize("kwargs", [dict(users=5, seed=0), dict(users=100, seed=0, positive_rate=0.0),
                                    dict(users=100, seed=0, positive_rate=1.0), dict(users="100", seed=0),
                                    dict(users=100, seed=-1)])
def test_bad_arguments(kwargs):
    with pytest.raises(ToolkitError, match="synthetic generator must be"):
        generate(**kwargs)


def test_ensure_synthetic_caches(tmp_path, monkeypatch):
    path = ensure_synthetic(50, seed=1, cache_dir=tmp_path)
    assert path.parent == tmp_path and truth_path(path).is_file()
    assert "u50" in path.name and "s1" in path.name and "r0.1" in path.name
    stamp = path.stat().st_mtime_ns
    assert ensure_synthetic(50, seed=1, cache_dir=tmp_path) == path
    assert path.stat().st_mtime_ns == stamp
    assert ensure_synthetic(50, seed=2, cache_dir=tmp_path) != path
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))
    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path / "env"))
    assert ensure_synthetic(50, seed=1).parent == tmp_path / "env" / "synthetic"
