"""The censored discrete-time likelihood against a hand computation, on a crawl with a gap."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from toolkit.data.time_to_return import time_to_return
from toolkit.heads.hazard_loss import hazard_nll, pack_targets, survival_from_logits

D0 = dt.date(2025, 1, 1)


def _gap_label():
    """The label module's worked example: follow-up days 7..14, the crawl missed days 9 and 10.

    A returns on day 11 (right after the gap: bins 2..4), B on day 8 (bin 1), C never, D on day 13 (bin 6).
    """
    covered = {D0 + dt.timedelta(days=k) for k in range(30)} - {D0 + dt.timedelta(days=9), D0 + dt.timedelta(days=10)}
    return time_to_return([D0] * 4, [0, 1, 3], [11, 8, 13], after_days=7, follow_days=14,
                          data_end=D0 + dt.timedelta(days=14), covered=covered)


def _by_hand(z: np.ndarray) -> np.ndarray:
    h = 1 / (1 + np.exp(-z))
    s = np.log1p(-h)
    return -np.array([
        s[0, 0] + s[0, 1] + np.log(1 - (1 - h[0, 2]) * (1 - h[0, 3]) * (1 - h[0, 4])),  # A: interval over the gap
        s[1, 0] + np.log(h[1, 1]),  # B: exact
        s[2, [0, 1, 4, 5, 6, 7]].sum(),  # C: censored, gap bins 2 and 3 skipped
        s[3, [0, 1, 4, 5]].sum() + np.log(h[3, 6]),  # D: exact after covered days
    ])


def test_targets_of_the_gap_example():
    targets = pack_targets(_gap_label())
    assert targets.shape == (4, 16)
    assert np.flatnonzero(targets[0, 8:]).tolist() == [2, 3, 4]
    assert np.flatnonzero(targets[2, 8:]).tolist() == []
    assert np.flatnonzero(targets[2, :8]).tolist() == [0, 1, 4, 5, 6, 7]


def test_likelihood_matches_the_hand_computation():
    z = np.random.default_rng(0).normal(scale=2.0, size=(4, 8))
    got = np.asarray(hazard_nll(pack_targets(_gap_label()).astype(np.float64), z))
    np.testing.assert_allclose(got, _by_hand(z), rtol=1e-10)


def test_uncovered_bins_get_no_gradient_from_a_censored_user():
    import tensorflow as tf

    z = tf.Variable(np.random.default_rng(1).normal(size=(4, 8)))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(hazard_nll(pack_targets(_gap_label()).astype(np.float64), z))
    grad = tape.gradient(loss, z).numpy()
    assert np.isfinite(grad).all()
    assert grad[2, [2, 3]].tolist() == [0.0, 0.0]  # C: the gap tells nothing
    assert (grad[0, 2:5] < 0).all()  # A: every bin of the interval is pushed towards a return
    assert (grad[2, [0, 1, 4, 5]] > 0).all()  # C: seen through, pushed away from a return


def test_extreme_logits_stay_finite():
    targets = pack_targets(_gap_label())
    for value in (-200.0, 200.0):
        z = np.full((4, 8), value, dtype=np.float32)
        assert np.isfinite(np.asarray(hazard_nll(targets, z))).all()


def test_survival_from_logits():
    z = np.array([[0.0, np.log(3.0)]])  # hazards 1/2 and 3/4
    np.testing.assert_allclose(survival_from_logits(z), [[0.5, 0.125]])
