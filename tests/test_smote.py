import sys

import numpy as np
import pytest

from toolkit.errors import ToolkitError
from toolkit.training import TrainingConfig, smote_problem


def make(n_neg=10, n_pos=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n_neg, int), np.ones(n_pos, int)]
    a = rng.normal(size=(len(y), 2)).astype(np.float32)
    b = rng.normal(size=(len(y), 1)).astype(np.float32)
    return [a, b], y


def test_smote_balances_the_classes_with_points_between_two_positives():
    (a, b), y = make()
    (a2, b2), y2 = TrainingConfig(resample="smote").resample_arrays([a, b], y, seed=0)
    assert len(y2) == 20 and y2.sum() == 10 and a2.shape == (20, 2) and b2.shape == (20, 1)
    assert a2.dtype == np.float32
    np.testing.assert_array_equal(a2[:13], a)  # the original rows come first, unchanged
    pos = np.hstack([a, b])[y == 1]
    for row in np.hstack([a2, b2])[13:]:
        # each new row is p + lam * (q - p) for two positives p, q and one lam in [0, 1], in every block at once
        found = False
        for i in range(3):
            for j in range(3):
                if i == j:
                    continue
                d = pos[j] - pos[i]
                lam = float(np.dot(row - pos[i], d) / np.dot(d, d))
                if -1e-5 <= lam <= 1 + 1e-5 and np.allclose(pos[i] + lam * d, row, atol=1e-4):
                    found = True
        assert found, row


def test_smote_is_deterministic_for_a_seed_and_other_strategies_are_unchanged():
    arrays, y = make()
    one = TrainingConfig(resample="smote").resample_arrays(arrays, y, seed=3)
    two = TrainingConfig(resample="smote").resample_arrays(arrays, y, seed=3)
    np.testing.assert_array_equal(one[0][0], two[0][0])
    rows = TrainingConfig(resample="oversample").resample_indices(y, seed=1)
    (a, _), y2 = TrainingConfig(resample="oversample").resample_arrays(arrays, y, seed=1)
    np.testing.assert_array_equal(a, arrays[0][rows])


def test_smote_refuses_sequence_blocks_and_says_why():
    arrays, y = make()
    with pytest.raises(ToolkitError, match="dense"):
        TrainingConfig(resample="smote").resample_arrays([arrays[0], np.zeros((13, 4, 2))], y, seed=0)
    assert "temporal (sequence)" in smote_problem([("behavior", "dense"), ("temporal", "sequence")])
    assert smote_problem([("behavior", "dense")]) is None


def test_smote_without_imbalanced_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "imblearn", None)
    monkeypatch.setitem(sys.modules, "imblearn.over_sampling", None)
    arrays, y = make()
    with pytest.raises(ToolkitError, match=r"retention-toolkit\[imbalance\]"):
        TrainingConfig(resample="smote").resample_arrays(arrays, y, seed=0)
