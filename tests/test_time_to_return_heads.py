"""The time-to-return heads: the Cox baseline against scikit-survival, risk sets with gaps, save and reload."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from toolkit.data.time_to_return import time_to_return
from toolkit.errors import ToolkitError
from toolkit.features.blocks import Block
from toolkit.heads.cox import CoxHead, unpack_targets
from toolkit.heads.hazard_loss import pack_targets

D0 = dt.date(2025, 1, 1)


def _cohort(seed: int, n: int = 200, gap: set[int] = frozenset()):
    """Users whose return day depends on two features; follow-up days 7..20, data until day 18."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    ret = 7 + np.floor(rng.exponential(6 * np.exp(-0.8 * x[:, 0] + 0.4 * x[:, 1]))).astype(int)
    day0 = [D0 + dt.timedelta(days=int(d)) for d in rng.integers(0, 5, size=n)]
    covered = None if not gap else {D0 + dt.timedelta(days=k) for k in range(40)} - {D0 + dt.timedelta(days=k) for k in gap}
    label = time_to_return(day0, np.arange(n), ret, after_days=7, follow_days=20, data_end=D0 + dt.timedelta(days=18),
                           covered=covered)
    return [Block("behavior", "dense", x.astype(np.float32))], label


def test_unpack_targets_adds_the_return_bin_to_the_risk_set():
    _, label = _cohort(0, n=50, gap={10, 11})
    risk_set, returned, last = unpack_targets(pack_targets(label))
    assert (returned == label.event).all() and (last == label.event_last).all()
    assert (risk_set[~returned] == label.at_risk[~returned]).all()
    assert risk_set[returned, last[returned]].all()


def test_cox_matches_scikit_survival_without_gaps():
    linear_model = pytest.importorskip("sksurv.linear_model")
    from sksurv.util import Surv

    blocks, label = _cohort(1)
    keep = label.in_analysis
    blocks = [b.rows(np.flatnonzero(keep)) for b in blocks]
    targets = pack_targets(label)[keep]
    head = CoxHead(penalizer=0.05).fit(blocks, targets)
    x = (blocks[0].data - head.mean_) / head.scale_
    reference = linear_model.CoxPHSurvivalAnalysis(alpha=0.05 * len(x), ties="breslow")
    reference.fit(x, Surv.from_arrays(label.event[keep], label.time[keep]))
    np.testing.assert_allclose(head.coef_, reference.coef_, atol=1e-5)
    assert head.coef_[0] > 0.3 and head.coef_[1] < 0  # the simulated directions


def test_cox_learns_through_a_gap_and_round_trips(tmp_path):
    blocks, label = _cohort(2, n=300, gap={9, 10, 11})
    targets = pack_targets(label)
    head = CoxHead(penalizer=0.01).fit(blocks, targets)
    surv = head.predict_survival(blocks)
    assert surv.shape == label.at_risk.shape
    assert (np.diff(surv, axis=1) <= 1e-12).all() and ((surv > 0) & (surv <= 1)).all()
    scores = head.predict(blocks)
    assert ((scores >= 0) & (scores <= 1)).all()
    from toolkit.evaluation.survival import c_index

    assert c_index(label.time[label.in_analysis], label.event[label.in_analysis],
                   head.predict_risk(blocks)[label.in_analysis]) > 0.6
    reloaded = CoxHead.load(head.save(tmp_path / "head.pkl"))
    np.testing.assert_allclose(reloaded.predict(blocks), scores)
    assert head.count_params() > 0 and head.flops_per_user() > 0
    assert CoxHead().check_blocks([]) and CoxHead().check_blocks([("t", "sequence")])


def test_hazard_head_learns_through_a_gap_is_deterministic_and_round_trips(tmp_path):
    from toolkit.evaluation.survival import c_index
    from toolkit.heads.hazard import HazardHead
    from toolkit.training import TrainingConfig

    blocks, label = _cohort(3, n=300, gap={9, 10, 11})
    targets = pack_targets(label)
    fit, val = np.arange(0, 240), np.arange(240, 300)
    training = TrainingConfig(epochs=40, batch_size=32, learning_rate=0.01)

    def train():
        return HazardHead(units=[16], dropout=0.0).fit(
            [b.rows(fit) for b in blocks], targets[fit], validation=([b.rows(val) for b in blocks], targets[val]),
            training=training, seed=0)

    head = train()
    surv = head.predict_survival(blocks)
    assert surv.shape == label.at_risk.shape
    assert (np.diff(surv, axis=1) <= 1e-12).all() and ((surv > 0) & (surv <= 1)).all()
    scores = head.predict([b.rows(val) for b in blocks])
    assert scores.shape == (len(val),) and ((scores >= 0) & (scores <= 1)).all()
    keep = label.in_analysis
    assert c_index(label.time[keep], label.event[keep], head.predict_risk(blocks)[keep]) > 0.6
    np.testing.assert_allclose(train().predict([b.rows(val) for b in blocks]), scores, rtol=1e-5, atol=1e-6)
    reloaded = HazardHead.load(head.save(tmp_path / HazardHead.filename))
    np.testing.assert_allclose(reloaded.predict([b.rows(val) for b in blocks]), scores, rtol=1e-5, atol=1e-6)
    assert head.count_params() > 0 and head.flops_per_user() > 0
    assert HazardHead().check_blocks([])


def test_hazard_head_refuses_binary_targets():
    from toolkit.errors import ToolkitError
    from toolkit.heads.hazard import HazardHead
    from toolkit.training import TrainingConfig

    blocks, _ = _cohort(0, n=20)
    with pytest.raises(ToolkitError, match="time-to-return targets"):
        HazardHead().fit(blocks, np.zeros(20), validation=(blocks, np.zeros(20)), training=TrainingConfig(), seed=0)


def test_out_of_fold_cox_metrics_on_a_crawl_with_a_gap():
    from toolkit.evaluation.config import CVConfig, EvaluationConfig
    from toolkit.evaluation.time_to_return_cv import fixed_blocks, out_of_fold, time_to_return_folds, survival_metrics
    from toolkit.training import TrainingConfig

    blocks, label = _cohort(4, n=300, gap={9, 10})
    keep = np.flatnonzero(label.in_analysis)
    label, blocks = label.rows(keep), [b.rows(keep) for b in blocks]
    evaluation = EvaluationConfig(cv=CVConfig(folds=3, repeats=2))
    folds = time_to_return_folds(label, evaluation, seed=0)
    preds = out_of_fold(label, fixed_blocks(blocks), lambda: CoxHead(penalizer=0.01), folds,
                        training=TrainingConfig(), seed=0)
    assert preds.risk.shape == (2, len(keep)) and preds.surv.shape == (2, len(keep), 14)
    out = survival_metrics(label, preds, horizons_days=[3, 7], tau_days=9, n_boot=100)
    assert set(out) == {"c_index", "uno_c", "ibs", "auc_at"} and list(out["auc_at"]) == ["3", "7"]
    assert 0.6 < out["c_index"]["ci_low"] < out["c_index"]["mean"] < out["c_index"]["ci_high"] <= 1
    assert 0 < out["ibs"]["mean"] < 0.25
    with pytest.raises(ToolkitError, match="must end a bin"):
        survival_metrics(label, preds, horizons_days=[30], n_boot=100)


def test_hazard_head_takes_a_sparse_block_beside_a_dense_one():
    import scipy.sparse as sp

    from toolkit.heads.hazard import HazardHead
    from toolkit.training import TrainingConfig

    blocks, label = _cohort(5, n=80)
    words = sp.random(80, 50, density=0.1, format="csr", random_state=0, dtype=np.float32)
    both = [Block("tfidf", "sparse", words), blocks[0]]
    targets = pack_targets(label)
    head = HazardHead(units=[8], dropout=0.0).fit(both, targets, validation=(both, targets),
                                                  training=TrainingConfig(epochs=2, batch_size=16), seed=0)
    surv = head.predict_survival(both)
    assert surv.shape == (80, 14) and np.isfinite(surv).all()
    assert any(type(layer).__name__ == "ConcatDense" for layer in head.model_.layers)


def test_the_hazard_head_starts_from_the_pooled_hazard():
    from toolkit.heads.hazard_loss import initial_logits

    # 4 users, 2 bins: two at risk through both, one returns in bin 0, one seen after a gap over both
    targets = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]], dtype=np.float32)
    h = 1 / (1 + np.exp(-initial_logits(targets)))
    np.testing.assert_allclose(h, [(1.5 + 0.5) / (2 + 1.5 + 1), (0.5 + 0.5) / (2 + 0.5 + 1)])


def test_an_untrained_hazard_head_predicts_the_pooled_survival():
    # one epoch at a tiny learning rate leaves the network where it started: at the pooled hazard,
    # not at 0.5 per bin (which predicts a return within a few bins for nearly everyone)
    from types import SimpleNamespace

    from toolkit.heads.hazard import HazardHead

    rng, n, k = np.random.default_rng(0), 300, 10
    targets = np.zeros((n, 2 * k), dtype=np.float32)
    back = rng.random(n) < 0.1  # a tenth return, in bin 5; the rest are followed through every bin
    targets[~back, :k] = 1
    targets[back, :5] = 1
    targets[back, k + 5] = 1
    blocks = [Block("behavior", "dense", rng.normal(size=(n, 3)).astype(np.float32))]
    training = SimpleNamespace(learning_rate=1e-9, epochs=1, batch_size=64, early_stopping_patience=1,
                               reduce_lr_patience=1, reduce_lr_factor=0.5)
    head = HazardHead(units=[8], dropout=0.0, batch_norm=False).fit(blocks, targets, validation=([], []),
                                                                     training=training, seed=0)
    returned = 1 - head.predict_survival(blocks)[:, -1]
    assert abs(returned.mean() - back.mean()) < 0.05, (returned.mean(), back.mean())
