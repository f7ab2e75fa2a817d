"""Spec mappings for tests: small and fast, on synthetic data."""

import copy

BASE = {
    "name": "t",
    "data": {"synthetic": {"users": 400, "seed": 1, "positive_rate": 0.2}},
    "label": {
        "cohort": {"first_seen": ["2025-01-01", "2025-02-14"]},
        "observe_days": 7,
        "retained_if": {"returns_after_days": 7, "horizon_days": 28},
    },
    "featurizers": [{"type": "tfidf", "max_features": 300}, {"type": "behavior"}],
    "head": {"type": "logreg"},
    "training": {"epochs": 3, "batch_size": 64},
    "evaluation": {"cv": {"folds": 3, "repeats": 1}, "bootstrap": 200},
    "seed": 0,
}


def spec_dict(**changes):
    out = copy.deepcopy(BASE)
    out.update(copy.deepcopy(changes))
    return out
