"""The ``gbdt`` head: learns, stays sparse, stops early on the validation part only, is seeded."""

import json
from pathlib import Path

import lightgbm
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import roc_auc_score

from hostile import assert_refused, toolkit
from specs import spec_dict
from toolkit.errors import ToolkitError
from toolkit.evaluation.folds import carve_validation
from toolkit.experiment.fit import fit_head
from toolkit.experiment.spec import parse_spec
from toolkit.heads import Block
from toolkit.heads.gbdt import GBDTHead
from toolkit.training import TrainingConfig

REPO = Path(__file__).parents[1]


def make_blocks(n=600, seed=0):
    """A sparse block (column 0: the user's index, so rows can be traced) and a dense one, with signal."""
    rng = np.random.default_rng(seed)
    words = sp.random(n, 300, density=0.03, format="csr", random_state=seed)
    dense = rng.normal(size=(n, 4))
    logit = 3.0 * dense[:, 0] + 3.0 * np.asarray((words[:, 1:30] > 0).sum(axis=1)).ravel() - 2.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    ids = sp.csr_matrix((np.arange(n) + 1.0, (np.arange(n), np.zeros(n, int))), shape=(n, 1))
    return [Block("tfidf", "sparse", sp.hstack([ids, words], format="csr")), Block("behavior", "dense", dense)], y


def rows(blocks, idx):
    return [b.rows(idx) for b in blocks]


@pytest.fixture
def datasets(monkeypatch):
    """Every ``lightgbm.Dataset`` the head builds: (data, label, weight, is_validation)."""
    seen = []
    real = lightgbm.Dataset

    class Spy(real):
        def __init__(self, data, label=None, reference=None, weight=None, **kwargs):
            seen.append((data, np.asarray(label), weight, reference is not None))
            super().__init__(data, label=label, reference=reference, weight=weight, **kwargs)

    monkeypatch.setattr(lightgbm, "Dataset", Spy)
    return seen


def user_ids(data) -> np.ndarray:
    return np.asarray(data[:, 0].toarray()).ravel().astype(int) - 1


def fit(blocks, y, fit_idx, val_idx, seed=0, training=None, **params):
    return GBDTHead(**params).fit(rows(blocks, fit_idx), y[fit_idx], validation=(rows(blocks, val_idx), y[val_idx]),
                                  training=training or TrainingConfig(), seed=seed)


def test_beats_chance_on_held_out_users_and_keeps_the_sparse_block_sparse(datasets):
    blocks, y = make_blocks()
    head = fit(blocks, y, np.arange(0, 400), np.arange(400, 480))
    test = np.arange(480, 600)
    assert roc_auc_score(y[test], head.predict(rows(blocks, test))) > 0.75
    assert datasets and all(sp.issparse(data) for data, *_ in datasets)
    assert head.count_params() > 0 and head.flops_per_user() > 0


def test_early_stopping_watches_the_validation_part_and_keeps_the_best_round(datasets):
    blocks, y = make_blocks()
    fit_idx, val_idx = np.arange(0, 400), np.arange(400, 480)
    head = fit(blocks, y, fit_idx, val_idx, n_estimators=2000, learning_rate=0.3, early_stopping_rounds=10)
    [train_data] = [data for data, *_, is_val in datasets if not is_val]
    [val_data] = [data for data, *_, is_val in datasets if is_val]
    assert set(user_ids(val_data)) == set(val_idx) and set(user_ids(train_data)) == set(fit_idx)
    assert head.best_iteration_ < head.epochs_run_ < 2000  # it stopped, and kept the best round's trees
    assert head.booster_.current_iteration() == head.best_iteration_


def test_the_runner_carves_early_stopping_users_from_the_training_part(datasets):
    blocks, y = make_blocks(n=500)
    spec = parse_spec(spec_dict(head={"type": "gbdt"}, training={"validation_fraction": 0.2}))
    training_part = np.arange(0, 400)  # what cross_validate passes: the fold's training users only
    fit_head(spec, rows(blocks, training_part), y[training_part])
    fit_pos, val_pos = carve_validation(y[training_part], 0.2, spec.seed)
    val_data, val_label = next((data, label) for data, label, _, is_val in datasets if is_val)
    assert set(user_ids(val_data)) == set(training_part[val_pos])  # the seed's stratified carve, no test user
    assert abs(val_label.mean() - y[training_part].mean()) < 0.03


def test_class_weights_and_resampling_reach_lightgbm(datasets):
    blocks, y = make_blocks()
    fit_idx, val_idx = np.arange(0, 400), np.arange(400, 480)
    fit(blocks, y, fit_idx, val_idx, training=TrainingConfig(class_weight="balanced"))
    (_, label, weight, _), (_, val_label, val_weight, _) = datasets
    pos = label.mean()
    np.testing.assert_allclose(np.unique(weight), sorted([0.5 / pos, 0.5 / (1 - pos)]))
    np.testing.assert_allclose(val_weight[val_label == 1], 0.5 / pos)  # early stopping sees the fitted objective
    datasets.clear()
    fit(blocks, y, fit_idx, val_idx, training=TrainingConfig(resample="undersample"))
    (_, label, weight, _), _ = datasets
    assert weight is None and label.mean() == 0.5 and len(label) < len(fit_idx)


def test_the_same_seed_gives_the_same_scores():
    blocks, y = make_blocks()
    test = rows(blocks, np.arange(480, 600))
    first, again, other = (fit(blocks, y, np.arange(0, 400), np.arange(400, 480), seed=s).predict(test)
                           for s in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)  # the seed reaches the row and column subsampling
    np.testing.assert_array_equal(first, fit(blocks, y, np.arange(0, 400), np.arange(400, 480), seed=3,
                                             threads=1).predict(test))


@pytest.mark.parametrize("head, fragments", [
    ({"type": "gbdt", "num_leaves": 1}, ["'num_leaves' parameter of GBDTHead", "in the range [2, 131072]", "Got 1"]),
    ({"type": "gbdt", "subsample": 0}, ["'subsample' parameter of GBDTHead", "(0, 1]", "Got 0"]),
    ({"type": "gbdt", "metric": "rmse"}, ["'metric'", "one of 'binary_logloss', 'auc'", "Got 'rmse'"]),
    ({"type": "gbdt", "leaves": 7}, ["unknown parameter 'leaves' for GBDTHead", "num_leaves"]),
])
def test_a_bad_parameter_says_what_was_expected_and_found(head, fragments):
    with pytest.raises(ToolkitError) as err:
        parse_spec(spec_dict(head=head))
    for fragment in fragments:
        assert fragment in str(err.value)


def test_a_sequence_block_or_a_missing_lightgbm_is_refused_at_validation(monkeypatch):
    with pytest.raises(ToolkitError, match="gbdt takes dense and sparse blocks"):
        parse_spec(spec_dict(head={"type": "gbdt"}, featurizers=[{"type": "temporal"}]))
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lightgbm" else real(name, *a))
    with pytest.raises(ToolkitError, match=r"needs LightGBM, which is not installed\. pip install"):
        parse_spec(spec_dict(head={"type": "gbdt"}))


def test_the_shipped_spec_runs_from_the_command_line(tmp_path):
    sets = ["data.synthetic.users=300", "data.synthetic.positive_rate=0.3", "evaluation.cv={folds: 2, repeats: 1}",
            "evaluation.bootstrap=100", "evaluation.min_positives_per_fold=2", "featurizers.0.max_features=300"]
    args = [a for s in sets for a in ("--set", s)]
    done = toolkit("run", str(REPO / "experiments" / "gbdt.yaml"), *args, "--results-dir", str(tmp_path / "r"),
                   "--cache-dir", str(tmp_path / "c"), cwd=tmp_path)
    assert done.rc == 0, done.text
    metrics = json.loads(next((tmp_path / "r").rglob("metrics.json")).read_text())
    assert json.loads(next((tmp_path / "r").rglob("model.json")).read_text())["head"] == "gbdt"
    assert 0.5 < metrics["metrics"]["roc_auc"]["mean"] <= 1.0
    assert metrics["cost"]["params"] > 0 and metrics["cost"]["flops_per_user"] > 0
    assert_refused(toolkit("run", str(REPO / "experiments" / "gbdt.yaml"), "--set", "head.learning_rate=0",
                           cwd=tmp_path), 2, "'learning_rate' parameter of GBDTHead", "Got 0 instead")
