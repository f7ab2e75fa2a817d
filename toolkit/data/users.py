"""From posts to one row per user: features from the observation window, and the label.

No feature uses a post after the user's observation window; the label uses only
posts inside the label window, which never overlaps it (checked in
:mod:`toolkit.data.label`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from toolkit.data.label import LabelSpec
from toolkit.data.schema import COUNT_COLUMNS, LOWER_BOUND_COLUMNS, USER_COLUMNS
from toolkit.errors import ToolkitError

_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_LATIN = r"[A-Za-z]"
# Platform hashtags read "#tiktok[话题]#": their Chinese marker says nothing about the writer.
_TOPIC_TAG = r"#[^#\n]*?\[话题\]#?"


@dataclass
class DataReport:
    """What the label did to the users in the file."""

    users: int  # distinct users in the file
    in_cohort: int  # first seen inside the cohort's dates
    censored: int  # in the cohort, but the label window ends after the data does
    positives: int  # retained, among the labelled users
    positive_rate: float  # positives / labelled users
    data_end: str  # last date the label may look at
    label: str  # the label rule in words

    @property
    def labelled(self) -> int:
        return self.in_cohort - self.censored

    def to_dict(self) -> dict:
        return asdict(self)


def build_users(posts: pd.DataFrame, label: LabelSpec) -> tuple[pd.DataFrame, np.ndarray, DataReport]:
    """Build the users table, their labels and the data report.

    Args:
        posts: canonical posts frame from :func:`toolkit.data.posts.load_posts`.
        label: the parsed label block.

    Returns:
        ``(users, y, report)``: the users table with ``USER_COLUMNS`` (sorted by
        user_id so the row order does not depend on the file's), the 0/1 label
        per user, and the counts.
    """
    posts = posts.assign(date=posts["create_time"].dt.normalize())
    first_seen = posts.groupby("user_id")["create_time"].min()
    first_date = first_seen.dt.normalize()
    data_end = pd.Timestamp(label.data_end) if label.data_end else posts["date"].max()

    in_cohort = (first_date >= pd.Timestamp(label.cohort_start)) & (first_date <= pd.Timestamp(label.cohort_end))
    cohort = first_date[in_cohort]
    if label.active_between:
        lab_start = pd.Series(pd.Timestamp(label.active_between[0]), index=cohort.index)
        lab_end = pd.Series(pd.Timestamp(label.active_between[1]), index=cohort.index)
    else:
        lab_start = cohort + pd.Timedelta(days=label.returns_after_days)
        lab_end = cohort + pd.Timedelta(days=label.horizon_days)
    censored = lab_end > data_end
    kept = cohort.index[~censored.to_numpy()]
    if len(kept) == 0:
        raise ToolkitError(
            f"No user is left to learn from: {first_seen.size} users in the file, {int(in_cohort.sum())} first seen "
            f"in the cohort {label.cohort_start}..{label.cohort_end}, {int(censored.sum())} of them censored (label "
            f"window ending after the data ends on {data_end.date()}). Check label.cohort and label.retained_if "
            "against the dates in the data."
        )

    if label.observe_until is not None:
        obs_end = pd.Series(pd.Timestamp(label.observe_until), index=kept)
    else:
        obs_end = cohort[kept] + pd.Timedelta(days=label.observe_days - 1)

    own = posts[posts["user_id"].isin(kept)]
    user_first = own["user_id"].map(first_date)
    in_window = own["date"] <= own["user_id"].map(obs_end)
    in_label = (own["date"] >= own["user_id"].map(lab_start)) & (own["date"] <= own["user_id"].map(lab_end))
    retained = own.loc[in_label, "user_id"].unique()

    window = own[in_window].assign(day=(own["date"] - user_first)[in_window].dt.days)
    users = _user_features(window, kept, label.sequence_days, (obs_end - cohort[kept]).dt.days)
    users["first_seen"] = first_seen.reindex(users["user_id"]).to_numpy()
    users = users[list(USER_COLUMNS)]
    y = users["user_id"].isin(retained).to_numpy().astype(np.int8)

    report = DataReport(
        users=int(first_seen.size),
        in_cohort=int(in_cohort.sum()),
        censored=int(censored.sum()),
        positives=int(y.sum()),
        positive_rate=float(y.mean()),
        data_end=str(data_end.date()),
        label=label.describe(),
    )
    return users, y, report


def build_features(posts: pd.DataFrame, label: LabelSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the users table of every user in ``posts`` without labelling anyone (scoring new users).

    The observation window is the label's, exactly as :func:`build_users` applies
    it, so a user seen in training gets the same row here. Cohort dates and the
    label window are not applied: new posts come from a later period, and nothing
    is known yet about who stays.

    Returns:
        ``(users, skipped)``: the users table (``USER_COLUMNS``, sorted by user_id)
        and a frame of ``user_id, reason`` for users with no post inside the window.
    """
    posts = posts.assign(date=posts["create_time"].dt.normalize())
    first_seen = posts.groupby("user_id")["create_time"].min()
    first_date = first_seen.dt.normalize()
    if label.observe_until is not None:
        obs_end = pd.Series(pd.Timestamp(label.observe_until), index=first_date.index)
    else:
        obs_end = first_date + pd.Timedelta(days=label.observe_days - 1)
    late = first_date > obs_end
    skipped = pd.DataFrame({
        "user_id": first_date.index[late],
        "reason": [f"no post in the observation window (first post {d.date()}, window ended {e.date()})"
                   for d, e in zip(first_date[late], obs_end[late])],
    })
    kept = first_date.index[~late]
    own = posts[posts["user_id"].isin(kept)]
    in_window = own["date"] <= own["user_id"].map(obs_end)
    window = own[in_window].assign(day=(own["date"] - own["user_id"].map(first_date))[in_window].dt.days)
    users = _user_features(window, kept, label.sequence_days, (obs_end[kept] - first_date[kept]).dt.days)
    users["first_seen"] = first_seen.reindex(users["user_id"]).to_numpy()
    return users[list(USER_COLUMNS)], skipped


def _user_features(window: pd.DataFrame, user_ids: pd.Index, steps: int, last_day: pd.Series) -> pd.DataFrame:
    """Aggregate the observation-window posts of each user into one row."""
    user_ids = pd.Index(sorted(user_ids), name="user_id")
    g = window.groupby("user_id")
    feats = pd.DataFrame(index=user_ids)
    feats["n_posts"] = g.size()
    feats["active_days"] = g["day"].nunique()
    for col in COUNT_COLUMNS:
        stem = col.replace("_count", "")
        logged = np.log1p(window[col].clip(lower=0))
        by = logged.groupby(window["user_id"])
        feats[f"log_{stem}_sum"] = np.log1p(g[col].sum().clip(lower=0))
        feats[f"log_{stem}_mean"] = by.mean()
        feats[f"log_{stem}_max"] = by.max()
    for col, flag in LOWER_BOUND_COLUMNS.items():
        feats[f"{col.replace('_count', '')}_lb_share"] = g[flag].mean()
    feats["video_share"] = (window["post_type"] == "video").groupby(window["user_id"]).mean()
    hours = window["create_time"].dt.hour + window["create_time"].dt.minute / 60.0
    feats["hour_mean"] = hours.groupby(window["user_id"]).mean()
    feats["hour_std"] = hours.groupby(window["user_id"]).std(ddof=0)
    feats["night_share"] = (hours < 6).groupby(window["user_id"]).mean()

    text = (window["title"].fillna("") + "\n" + window["content"].fillna("")).str.strip()
    joined = text.groupby(window["user_id"]).agg("\n".join)
    feats["text"] = joined
    prose = joined.str.replace(_TOPIC_TAG, " ", regex=True)
    n_cjk = prose.str.count(_CJK)
    n_latin = prose.str.count(_LATIN)
    feats["zh_share"] = n_cjk / (n_cjk + n_latin).where(lambda s: s > 0)
    feats["text_chars"] = np.log1p(joined.str.len())
    n_tags = window["hashtags"].fillna("").str.split("#").map(lambda parts: sum(1 for p in parts if p.strip()))
    feats["n_hashtags"] = n_tags.groupby(window["user_id"]).sum()
    feats["text"] = feats["text"].fillna("")
    feats = feats.fillna(0.0)

    feats["activity"] = _activity(window, user_ids, steps, last_day)
    return feats.reset_index()


def _activity(window: pd.DataFrame, user_ids: pd.Index, steps: int, last_day: pd.Series) -> list[np.ndarray]:
    """Daily sequence per user: log1p(posts that day) and whether the day was observed."""
    seq = np.zeros((len(user_ids), steps, 2), dtype=np.float32)
    row = pd.Series(np.arange(len(user_ids)), index=user_ids)
    days = window["day"].to_numpy()
    ok = (days >= 0) & (days < steps)
    np.add.at(seq[:, :, 0], (row[window["user_id"]].to_numpy()[ok], days[ok]), 1.0)
    seq[:, :, 0] = np.log1p(seq[:, :, 0])
    observed = np.arange(steps)[None, :] <= last_day.reindex(user_ids).to_numpy()[:, None]
    seq[:, :, 1] = observed
    return list(seq)

