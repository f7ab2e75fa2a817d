"""The Keras heads' training defaults: AUC monitoring, Platt output, L2, wide path.

Tiny data and two or three epochs: these check that each parameter does what it says and is
validated, not how well the defaults score (``benchmarks/keras_defaults.py`` measures that).
"""

import numpy as np
import pytest
import scipy.sparse as sp

from toolkit.errors import ToolkitError
from toolkit.experiment.spec import parse_spec
from toolkit.heads import Block
from toolkit.heads.keras_head import KerasHead, watched
from toolkit.registry import HEADS
from toolkit.training import TrainingConfig

from specs import spec_dict

N, WIDTH = 160, 400


def data(seed=0, n=N):
    """A sparse text-like block and a dense one; the label follows the dense block's first column."""
    rng = np.random.default_rng(seed)
    text = sp.random(n, WIDTH, density=5 / WIDTH, format="csr", dtype=np.float32, random_state=seed)
    dense = rng.normal(size=(n, 4)).astype(np.float32)
    y = (dense[:, 0] + 0.5 * rng.normal(size=n) > 0.8).astype(int)
    return [Block("tfidf", "sparse", text), Block("behavior", "dense", dense)], y


def fit(head, training=None, logs=None):
    (train, y), (val, y_val) = data(0), data(1, n=80)
    record = (lambda e, n, l: logs.append(l)) if logs is not None else None
    head.fit(train, y, validation=(val, y_val), training=training or TrainingConfig(epochs=3, batch_size=32),
             seed=0, on_epoch=record)
    return head, val, y_val


def test_shipped_defaults_keep_the_seed_shape_and_add_auc_monitoring_and_platt():
    mlp, hybrid = HEADS.get("mlp")(), HEADS.get("hybrid")()
    assert (mlp.units, mlp.dropout, mlp.batch_norm) == ([128, 64], 0.2, True)
    assert mlp.platt and hybrid.platt and HEADS.get("lstm")().platt
    assert hybrid.batch_norm and not hybrid.branch_batch_norm
    assert TrainingConfig().monitor == "auc"


def test_auc_monitor_watches_the_validation_auc_and_loss_monitor_does_not():
    logs = []
    fit(HEADS.get("mlp")(units=[8]), logs=logs)
    assert "val_auc" in logs[-1]
    logs = []
    fit(HEADS.get("mlp")(units=[8]), TrainingConfig(epochs=2, batch_size=32, monitor="loss"), logs)
    assert "val_auc" not in logs[-1] and "val_loss" in logs[-1]


def test_watched_falls_back_to_the_loss_without_both_classes_or_for_the_hazard_head():
    training = TrainingConfig()
    assert watched(training, ([], np.array([0, 1, 0])), ranking=True) == "val_auc"
    assert watched(training, ([], np.zeros(5)), ranking=True) == "val_loss"
    assert watched(training, ([], np.array([])), ranking=True) == "loss"
    assert watched(training, ([], np.array([0, 1, 0])), ranking=False) == "val_loss"


def test_platt_puts_scores_on_the_validation_scale_without_changing_their_order(tmp_path):
    head, val, y_val = fit(HEADS.get("mlp")(units=[8]))
    scale, offset = head.platt_
    kernel, bias = head.model_.get_layer("platt").get_weights()
    assert (kernel[0, 0], bias[0]) == pytest.approx((scale, offset))
    calibrated = head.predict(val)
    # Platt's fit reproduces the validation part's positive rate (up to its tiny penalty).
    assert calibrated.mean() == pytest.approx(y_val.mean(), abs=0.02)
    head.model_.get_layer("platt").set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    raw = head.predict(val)
    assert not np.allclose(raw, calibrated)
    assert np.array_equal(np.argsort(raw, kind="stable"), np.argsort(calibrated, kind="stable"))


def test_platt_survives_save_and_load(tmp_path):
    head, val, _ = fit(HEADS.get("hybrid")(branch_units=8, units=[8]))
    assert head.platt_ is not None
    loaded = KerasHead.load(head.save(tmp_path / "head.keras"))
    np.testing.assert_allclose(loaded.predict(val), head.predict(val), rtol=1e-6)


def test_platt_off_leaves_the_identity():
    head, _, _ = fit(HEADS.get("mlp")(units=[8], platt=False))
    kernel, bias = head.model_.get_layer("platt").get_weights()
    assert head.platt_ is None and kernel[0, 0] == 1.0 and bias[0] == 0.0


def test_l2_and_the_wide_path_reach_the_model():
    head, _, _ = fit(HEADS.get("mlp")(units=[8], l2=1e-3, wide=True, wide_l2=1e-4))
    assert type(head.model_.get_layer("wide")).__name__ == "ConcatDense"  # the sparse block stays sparse
    assert len(head.model_.losses) == 2  # one penalty on the first layer, one on the wide path
    plain, _, _ = fit(HEADS.get("mlp")(units=[8], wide=False))
    assert not plain.model_.losses
    assert "wide" not in [layer.name for layer in plain.model_.layers]


def test_hybrid_branch_batch_norm_and_l2_are_parameters():
    head, _, _ = fit(HEADS.get("hybrid")(branch_units=8, units=[8], branch_batch_norm=True, l2=1e-3, wide=True))
    names = [layer.name for layer in head.model_.layers]
    assert "tfidf_bn" in names and "behavior_bn" in names and "wide" in names
    assert len(head.model_.losses) == 2  # one penalty per branch
    plain, _, _ = fit(HEADS.get("hybrid")(branch_units=8, units=[8]))
    assert "tfidf_bn" not in [layer.name for layer in plain.model_.layers]
    assert "shared_bn_0" in [layer.name for layer in plain.model_.layers]


@pytest.mark.parametrize("head, fragment", [
    ({"type": "mlp", "l2": -0.1}, "l2"),
    ({"type": "mlp", "wide_l2": 2}, "wide_l2"),
    ({"type": "mlp", "batch_norm_momentum": 1.0}, "batch_norm_momentum"),
    ({"type": "hybrid", "l2": -1}, "l2"),
    ({"type": "hybrid", "wide": "yes"}, "wide"),
    ({"type": "lstm", "platt": 3}, "platt"),
])
def test_bad_head_parameters_are_refused_with_the_spec(head, fragment):
    with pytest.raises(ToolkitError, match=fragment):
        parse_spec(spec_dict(head=head))


def test_bad_monitor_is_refused_with_the_spec():
    with pytest.raises(ToolkitError, match="monitor") as err:
        parse_spec(spec_dict(training={"monitor": "accuracy"}))
    assert "auc" in str(err.value) and "accuracy" in str(err.value)
