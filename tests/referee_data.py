"""Crawls for the referee tests: null data of the audit's construction, and data with signal.

Null: each user keeps the posts of their first week and is handed another user's later posts
(shifted so that they keep their distance from that user's first post). Whether a user "came back"
is then the donor's doing, and nothing the features see of the user (first-week text, behaviour,
timing) carries it. Signal: the same crawl without the swap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from specs import spec_dict

WEEK = pd.Timedelta(days=7)
#: The pipeline the referee runs: cheap (logistic regression) and with text, as the audit's was.
PIPELINE = {"featurizers": [{"type": "tfidf", "max_features": 200}, {"type": "behavior"}],
            "head": {"type": "logreg"}}


def crawl(seed: int, users: int, positive_rate: float, *, swap: bool) -> pd.DataFrame:
    """A synthetic crawl's posts; with ``swap`` every user's later posts come from another user."""
    from toolkit.data.synth.process import generate

    posts, _ = generate(users, seed, positive_rate)
    if not swap:
        return posts
    when = pd.to_datetime(posts["create_time"], format="%m/%d/%Y %H:%M")
    first = when.groupby(posts["user_id"]).transform("min")
    later = when >= first + WEEK
    ids = posts["user_id"].unique()
    rng = np.random.default_rng(seed + 10_000)
    donor_of = dict(zip(ids, np.roll(rng.permutation(ids), 1)))  # a random cycle: nobody keeps their own
    receiver_of = {d: u for u, d in donor_of.items()}
    first_of = first.groupby(posts["user_id"]).first()
    moved = posts[later].copy()
    moved["user_id"] = moved["user_id"].map(receiver_of)
    shift = first_of.reindex(moved["user_id"]).to_numpy() - first_of.reindex(posts.loc[later, "user_id"]).to_numpy()
    moved["create_time"] = (when[later] + shift).dt.strftime("%m/%d/%Y %H:%M").to_numpy()
    return pd.concat([posts[~later], moved], ignore_index=True)


def spec_for(path: Path, name: str = "referee") -> dict:
    """The spec every referee run uses: 5-fold CV, few bootstrap draws, no coverage rule, no shuffles."""
    spec = spec_dict(**PIPELINE, name=name, data={"path": str(path)},
                     evaluation={"cv": {"folds": 5, "repeats": 1}, "bootstrap": 100, "permutations": 0,
                                 "min_positives_per_fold": 1, "min_validation_positives": 3})
    spec["label"]["coverage"] = None
    return spec
