"""Heads and evaluation: a Keras MLP's forward pass, and the vectorized bootstrap in ``summarize``."""

import numpy as np
import pytest
from timing import speedup

from toolkit.evaluation.metrics import summarize
from toolkit.featurizers.behavior import BehaviorFeaturizer
from toolkit.featurizers.tfidf import TfidfFeaturizer
from toolkit.heads.base import Block
from toolkit.heads.logreg import stack
from toolkit.heads.mlp import MLPHead
from toolkit.training import TrainingConfig

# Draws per bootstrap. summarize's default is 1,000; the naive loop takes about 4 ms a draw on
# 3,000 users, so 200 keeps both sides near a second while giving the same per-draw cost.
N_BOOT = 200


@pytest.fixture(scope="module")
def blocks(users, texts):
    """The blocks of a typical spec: standardized behavior (dense) and TF-IDF (sparse)."""
    return [
        Block("behavior", "dense", BehaviorFeaturizer().fit(users).transform(users)),
        Block("tfidf", "sparse", TfidfFeaturizer().fit(users).transform(users)),
    ]


@pytest.fixture(scope="module")
def labels(users):
    """Retention labels (~20% positive) that depend on activity, so both heads learn something."""
    rng = np.random.default_rng(0)
    logit = -1.8 + 0.6 * (users["active_days"].to_numpy() - users["active_days"].mean()) + rng.normal(0, 1, len(users))
    return (logit > 0).astype(int)


@pytest.fixture(scope="module")
def mlp(blocks, labels):
    # One epoch: the forward pass costs the same whatever the weights are.
    head = MLPHead().fit(blocks, labels, validation=([], np.zeros(0)), training=TrainingConfig(epochs=1), seed=0)
    head.predict(blocks)  # trace the full-size predict function outside the timer
    return head


@pytest.fixture(scope="module")
def logreg(blocks, labels):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000).fit(stack(blocks), labels)


@pytest.mark.benchmark(group="head forward: 3k users")
def test_bench_mlp_predict(benchmark, mlp, blocks):
    # Includes densifying the TF-IDF block, as every predict in a run does.
    scores = benchmark(mlp.predict, blocks)
    assert scores.shape == (len(scores),) and np.isfinite(scores).all()


@pytest.mark.benchmark(group="head forward: 3k users")
def test_bench_logreg_predict_proba(benchmark, logreg, blocks):
    scores = benchmark(lambda: logreg.predict_proba(stack(blocks))[:, 1])
    assert np.isfinite(scores).all()


# --- bootstrap -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(users):
    """Labels (10% positive), scores that rank them imperfectly, and hard predictions."""
    rng = np.random.default_rng(1)
    y = rng.random(len(users)) < 0.1
    scores = rng.random(len(users)) + 0.5 * y
    return y, scores, scores > 0.8


def _naive_bootstrap(y, scores, n_boot, seed=0):
    """The loop summarize replaces: stratified resamples materialized one by one, scikit-learn's AUC on each."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    positives, negatives = np.flatnonzero(y), np.flatnonzero(~y)
    stats = np.empty(n_boot)
    for i in range(n_boot):
        rows = np.concatenate([rng.choice(positives, len(positives)), rng.choice(negatives, len(negatives))])
        stats[i] = roc_auc_score(y[rows], scores[rows])
    return np.quantile(stats, [0.025, 0.975])


@pytest.mark.benchmark(group="bootstrap: 3k users, 200 draws")
def test_bench_summarize(benchmark, scored):
    result = benchmark(summarize, *scored, n_boot=N_BOOT)
    assert result["roc_auc"]["ci_low"] < result["roc_auc"]["mean"] < result["roc_auc"]["ci_high"]


@pytest.mark.benchmark(group="bootstrap: 3k users, 200 draws")
def test_bench_naive_bootstrap_roc_auc(benchmark, scored):
    y, scores, _ = scored
    low, high = benchmark.pedantic(_naive_bootstrap, args=(y, scores, N_BOOT), rounds=3, iterations=1)
    assert low < high


def test_summarize_is_10x_faster_than_naive_bootstrap(scored):
    # summarize computes all seven metrics per draw while the loop computes ROC-AUC only,
    # so the comparison leans toward the baseline.
    y, scores, _ = scored
    ratio = speedup(lambda: _naive_bootstrap(y, scores, N_BOOT), lambda: summarize(*scored, n_boot=N_BOOT))
    assert ratio >= 10.0, f"summarize is only {ratio:.1f}x faster than a loop of roc_auc_score; expected >= 10x"
