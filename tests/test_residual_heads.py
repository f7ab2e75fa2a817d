"""``wide: logreg`` / ``wide: cox``: the Keras heads start as their linear counterparts and learn a residual.

Tiny data: these check that the untrained network *is* the linear model, that the start is kept
when training does not beat it on the validation part, and that the parameters are validated;
``benchmarks/keras_defaults.py`` measures how the defaults score.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import spearmanr

from toolkit.errors import ToolkitError
from toolkit.experiment.spec import parse_spec
from toolkit.heads import Block
from toolkit.heads.keras_head import start_wide_from_logreg, wide_mode
from toolkit.registry import HEADS
from toolkit.training import TrainingConfig

from specs import spec_dict


def data(seed=0, n=200):
    rng = np.random.default_rng(seed)
    text = sp.random(n, 300, density=0.02, format="csr", dtype=np.float32, random_state=seed)
    dense = rng.normal(size=(n, 4)).astype(np.float32)
    y = (dense[:, 0] - dense[:, 1] + 0.7 * rng.normal(size=n) > 1.0).astype(int)
    return [Block("tfidf", "sparse", text), Block("behavior", "dense", dense)], y


@pytest.mark.parametrize("name", ["mlp", "hybrid"])
def test_the_untrained_network_scores_what_the_logistic_regression_scores(name):
    import keras

    blocks, y = data()
    head = HEADS.get(name)(units=[8]) if name == "mlp" else HEADS.get(name)(branch_units=8, units=[8])
    assert wide_mode(head.wide) == "logreg"  # the shipped default
    keras.utils.set_random_seed(0)
    model = head.build(keras, blocks)
    x = [sp.csr_matrix(blocks[0].data), blocks[1].data]
    start_wide_from_logreg(model, x, y, TrainingConfig(), seed=0, C=1.0)
    assert not model.get_layer("wide").trainable
    logreg = HEADS.get("logreg")().fit(blocks, y, validation=None, training=TrainingConfig(), seed=0)
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)).ravel(), logreg.predict(blocks), atol=1e-4)


def test_a_network_that_cannot_train_keeps_its_logistic_start():
    (train, y), (val, y_val) = data(0), data(1, n=120)
    training = TrainingConfig(epochs=1, batch_size=32, learning_rate=1e-9)
    head = HEADS.get("mlp")(units=[8]).fit(train, y, validation=(val, y_val), training=training, seed=0)
    logreg = HEADS.get("logreg")().fit(train, y, validation=None, training=training, seed=0)
    assert head.kept_start_
    # Platt rescales monotonically, so the ranking is the logistic regression's
    assert spearmanr(head.predict(val), logreg.predict(val)).statistic > 0.999
    assert head.count_params() > 300  # the frozen linear path counts as the model's weights


def test_a_trained_residual_moves_off_the_start_and_the_frozen_path_stays():
    (train, y), (val, y_val) = data(0, n=400), data(1, n=200)
    head = HEADS.get("mlp")(units=[16], dropout=0.0).fit(
        train, y, validation=(val, y_val), training=TrainingConfig(epochs=5, batch_size=32, learning_rate=0.01), seed=0)
    logreg = HEADS.get("logreg")().fit(train, y, validation=None, training=TrainingConfig(), seed=0)
    kernel = head.model_.get_layer("wide").get_weights()[0].ravel()
    np.testing.assert_allclose(kernel, logreg.model_.coef_.ravel(), rtol=1e-5, atol=1e-6)
    if not head.kept_start_:
        assert np.abs(head.model_.get_layer("logit").get_weights()[0]).max() > 0


def test_wide_false_is_the_seeds_network_alone():
    blocks, y = data()
    head = HEADS.get("mlp")(units=[8], wide=False).fit(blocks, y, validation=data(1, n=80),
                                                        training=TrainingConfig(epochs=1), seed=0)
    assert "wide" not in [layer.name for layer in head.model_.layers] and not hasattr(head, "kept_start_")


def test_the_hazard_network_starts_as_the_cox_model():
    from toolkit.heads.cox import CoxHead
    from toolkit.heads.hazard import HazardHead

    from test_time_to_return_heads import _cohort
    from toolkit.heads.hazard_loss import pack_targets

    blocks, label = _cohort(3, n=240)
    targets = pack_targets(label)
    training = TrainingConfig(epochs=1, batch_size=32, learning_rate=1e-9)
    head = HazardHead(units=[8]).fit(blocks, targets, validation=(blocks, targets), training=training, seed=0)
    cox = CoxHead(penalizer=0.1).fit(blocks, targets)
    assert head.kept_start_ or np.abs(head.model_.get_layer("logits").get_weights()[0]).max() < 1e-6
    assert spearmanr(head.predict_risk(blocks), cox.predict_risk(blocks)).statistic > 0.999
    plain = HazardHead(units=[8], wide=False).fit(blocks, targets, validation=(blocks, targets),
                                                  training=training, seed=0)
    assert "wide" not in [layer.name for layer in plain.model_.layers]


@pytest.mark.parametrize("head, fragment", [
    ({"type": "mlp", "wide": "cox"}, "wide"),
    ({"type": "mlp", "wide_C": 0}, "wide_C"),
    ({"type": "hybrid", "wide": "linear"}, "wide"),
])
def test_bad_wide_parameters_are_refused_with_the_spec(head, fragment):
    with pytest.raises(ToolkitError, match=fragment):
        parse_spec(spec_dict(head=head))
