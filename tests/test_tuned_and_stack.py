"""The ``tuned`` and ``stack`` heads: searched and combined inside the fold, so out-of-fold scores stay honest."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from specs import spec_dict
from toolkit.errors import ToolkitError
from toolkit.evaluation.folds import carve_validation
from toolkit.experiment.spec import parse_spec
from toolkit.features.blocks import Block
from toolkit.heads.stack import StackHead
from toolkit.heads.tuned import TunedHead
from toolkit.training import TrainingConfig

TRAINING = TrainingConfig(epochs=2, batch_size=32)


def out_of_fold(make_head, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Out-of-fold scores as the runner makes them: a validation part carved from each training fold."""
    scores = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
        fit, val = carve_validation(y[train], 0.2, seed)
        blocks = [Block("behavior", "dense", x[train])]
        head = make_head().fit([b.rows(fit) for b in blocks], y[train][fit],
                               validation=([b.rows(val) for b in blocks], y[train][val]), training=TRAINING, seed=seed)
        scores[test] = head.predict([Block("behavior", "dense", x[test])])
    return scores


def null_sets(count: int, users: int = 160, width: int = 30):
    rng = np.random.default_rng(7)
    for _ in range(count):
        y = (rng.random(users) < 0.2).astype(int)
        y[:8] = 1  # every fold and validation part can hold positives
        yield rng.normal(size=(users, width)), y


def test_tuning_on_null_data_does_not_raise_the_out_of_fold_auc():
    # A search scored on the test users would pick whatever ranks them best by chance and lift the
    # mean AUC of null data sets well above 0.5; a search inside the fold cannot.
    space = {"C": {"low": 1e-4, "high": 1e3, "log": True}}
    aucs = [roc_auc_score(y, out_of_fold(lambda: TunedHead(head="logreg", space=space, trials=12), x, y, seed))
            for seed, (x, y) in enumerate(null_sets(40))]
    mean, se = float(np.mean(aucs)), float(np.std(aucs, ddof=1) / np.sqrt(len(aucs)))
    assert mean < 0.5 + 3 * se + 0.005, (mean, se)


def test_the_search_finds_the_regularisation_a_signal_needs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 50))
    y = (x[:, 0] + rng.normal(scale=1.0, size=400) > 1.0).astype(int)
    fit, val = carve_validation(y, 0.25, 0)
    blocks = [Block("behavior", "dense", x)]
    head = TunedHead(head="logreg", trials=15).fit([b.rows(fit) for b in blocks], y[fit],
                                                   validation=([b.rows(val) for b in blocks], y[val]),
                                                   training=TRAINING, seed=0)
    assert head.trials_run_ == 15 and set(head.best_params_) == {"C"}
    assert head.best_score_ > 0.75


def test_a_validation_part_of_one_class_trains_the_given_values_once():
    x, y = np.random.default_rng(1).normal(size=(60, 5)), np.r_[np.ones(10), np.zeros(50)].astype(int)
    blocks = [Block("behavior", "dense", x)]
    head = TunedHead(head={"type": "logreg", "C": 0.5}).fit(
        [b.rows(np.arange(40)) for b in blocks], y[:40], validation=([b.rows(np.arange(40, 60)) for b in blocks],
                                                                     y[40:]), training=TRAINING, seed=0)
    assert head.fell_back_ and head.model_.C == 0.5


@pytest.mark.parametrize("head, fragment", [
    ({"type": "tuned", "head": {"type": "logreg"}, "space": {"alpha": {"low": 0, "high": 1}}}, "no parameter 'alpha'"),
    ({"type": "tuned", "head": {"type": "logreg"}, "space": {"C": {"low": 5, "high": 1}}}, "low < high"),
    ({"type": "tuned", "head": {"type": "logreg"}, "space": {"C": {"low": 0, "high": 1, "log": True}}}, "low > 0"),
    ({"type": "tuned", "head": {"type": "lstm"}}, "head.space must map parameters of 'lstm'"),
    ({"type": "tuned", "head": {"type": "tuned"}}, "cannot sit inside another"),
    ({"type": "tuned", "head": {"type": "logreg", "C": -1}}, "C"),
    ({"type": "stack", "members": [{"type": "logreg"}]}, "at least two heads"),
    ({"type": "stack", "members": [{"type": "logreg"}, {"type": "logreg", "blocks": ["fasttext"]}]},
     "names blocks ['fasttext']"),
    ({"type": "stack", "members": [{"type": "logreg"}, {"type": "cox"}]}, "learns time to return"),
])
def test_wrong_tuned_and_stack_blocks_are_refused_at_validation(head, fragment):
    with pytest.raises(ToolkitError, match=None) as info:
        parse_spec(spec_dict(head=head))
    assert fragment in str(info.value), str(info.value)


def test_a_top_level_tune_block_wraps_the_head_and_reads_back_the_same():
    spec = parse_spec(spec_dict(head={"type": "logreg", "C": 2.0}, tune={"trials": 7}))
    assert spec.head[0] == "tuned" and spec.head[1]["head"] == {"type": "logreg", "C": 2.0, "max_iter": 1000}
    again = parse_spec(spec.resolved())
    assert again.head == spec.head and "tune" not in spec.resolved()
    with pytest.raises(ToolkitError, match="tune must be a mapping"):
        parse_spec(spec_dict(tune={"trails": 7}))


def test_stack_combines_members_on_their_own_blocks_and_beats_each_alone():
    rng = np.random.default_rng(3)
    n = 600
    a, b = rng.normal(size=(n, 5)), rng.normal(size=(n, 5))
    y = (a[:, 0] + b[:, 0] + rng.normal(scale=0.8, size=n) > 1.2).astype(int)
    blocks = [Block("text", "dense", a), Block("behavior", "dense", b)]
    train, test = np.arange(400), np.arange(400, n)
    fit, val = carve_validation(y[train], 0.2, 0)

    def fitted(head):
        part = [blk.rows(train) for blk in blocks]
        return head.fit([blk.rows(fit) for blk in part], y[train][fit],
                        validation=([blk.rows(val) for blk in part], y[train][val]), training=TRAINING, seed=0)

    stack = fitted(StackHead(members=[{"type": "logreg", "blocks": ["text"]}, {"type": "logreg", "blocks": ["behavior"]}]))
    test_blocks = [blk.rows(test) for blk in blocks]
    members = stack.member_scores(test_blocks)
    auc = roc_auc_score(y[test], stack.predict(test_blocks))
    assert not stack.fell_back_ and all(w > 0 for w in stack.weights().values())
    assert auc > max(roc_auc_score(y[test], members[:, i]) for i in range(2)) + 0.02
    assert stack.count_params() == sum(m.count_params() for m in stack.models_) + 3


def test_stack_and_tuned_run_end_to_end_and_report_their_cost(tmp_path):
    import toolkit

    base = {"data": {"synthetic": {"users": 300, "seed": 2, "positive_rate": 0.25}},
            "featurizers": [{"type": "behavior"}], "evaluation": {"cv": {"folds": 3, "repeats": 1}, "bootstrap": 100}}
    stack = toolkit.run(spec_dict(name="stack", head={"type": "stack", "members": ["logreg", "gbdt"], "folds": 3},
                                  **base), results_dir=tmp_path / "r", cache_dir=tmp_path / "c")
    tuned = toolkit.run(spec_dict(name="tuned", head="logreg", tune={"trials": 4}, **base),
                        results_dir=tmp_path / "r", cache_dir=tmp_path / "c")
    for run in (stack, tuned):
        assert 0.5 < run.record.metrics["roc_auc"].mean <= 1.0
        assert run.record.cost["params"] > 0
