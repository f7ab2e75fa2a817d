"""Shared helpers for the scale benchmarks: synthetic data on disk and the users table it makes.

Kept apart from the timed code so that each benchmark times only its own stages.
"""

from __future__ import annotations

import copy
from pathlib import Path

QUICK_LABEL = {
    "cohort": {"first_seen": ["2025-01-01", "2025-02-14"]},
    "observe_days": 7,
    "retained_if": {"returns_after_days": 7, "horizon_days": 28},
}


#: the scale runs' training cap (``--shipped-training`` lifts it): the cost of a network grows with
#: its epochs, so a capped run times the pipeline at a fixed amount of training
CAP = {"epochs": 10, "batch_size": 256}


def spec_mapping(name: str, data_path: Path, head: str, *, epochs: int | None = CAP["epochs"],
                 batch_size: int | None = CAP["batch_size"], test_fraction: float = 0.2,
                 folds: int | None = None) -> dict:
    """TF-IDF + behavior with ``head`` on a posts CSV, evaluated on one stratified split (or ``folds``).

    ``epochs`` and ``batch_size`` None: the shipped training defaults (:class:`toolkit.training.TrainingConfig`).
    """
    evaluation = {"cv": {"folds": folds, "repeats": 1}} if folds else {"split": {"test_fraction": test_fraction}}
    return {
        "name": name,
        "data": {"path": str(data_path)},
        "label": copy.deepcopy(QUICK_LABEL),
        "featurizers": [{"type": "tfidf", "max_features": 20000, "ngram_range": [1, 2], "min_df": 2},
                        {"type": "behavior"}],
        "head": {"type": head},
        "training": {**({"epochs": epochs} if epochs is not None else {}),
                     **({"batch_size": batch_size} if batch_size is not None else {}),
                     "learning_rate": 0.001, "class_weight": "balanced", "loss": "bce"},
        "evaluation": {**evaluation, "threshold": "max_f1", "min_positives_per_fold": 5, "bootstrap": 200},
        "seed": 0,
    }


def users_table(data_path: Path):
    """Load a posts CSV and build its users table and labels as a run does."""
    from toolkit.data.label import parse_label
    from toolkit.data.posts import load_posts
    from toolkit.data.users import build_users

    posts, _ = load_posts(data_path)
    users, y, _ = build_users(posts, parse_label(copy.deepcopy(QUICK_LABEL)))
    return users, y
