import numpy as np
import pytest

from toolkit.analysis.imbalance import paired_deltas, recall_at_precision

# descending scores .9 .8 .7 .6 .5 .4 .3 .2 with labels 1 0 1 1 0 0 1 0 (4 positives):
# precision at >= each: 1, 1/2, 2/3, 3/4, 3/5, 1/2, 4/7, 1/2; recall: 1/4, 1/4, 2/4, 3/4, 3/4, 3/4, 1, 1
Y = np.array([1, 0, 1, 1, 0, 0, 1, 0]).astype(bool)
S = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])


@pytest.mark.parametrize("precision, recall", [(1.0, 0.25), (0.75, 0.75), (0.6, 0.75), (0.55, 1.0), (0.5, 1.0)])
def test_recall_at_precision_by_hand(precision, recall):
    assert recall_at_precision(Y, S, precision) == recall


def test_recall_at_precision_is_zero_when_no_threshold_reaches_it():
    assert recall_at_precision(np.array([False, True]), np.array([0.9, 0.1]), 0.9) == 0.0


def test_paired_deltas_of_a_model_with_itself_are_exactly_zero():
    pred = S >= 0.6
    d = paired_deltas((Y, S[None], pred[None]), (Y, S[None], pred[None]), 0.75, n_boot=50)
    for name in ("recall_at_precision", "recall", "precision"):
        assert d[name]["mean"] == d[name]["ci_low"] == d[name]["ci_high"] == 0.0
        assert not d[name]["excludes_zero"]


def test_paired_deltas_point_estimate_by_hand():
    better = np.where(Y, S + 1.0, S)  # every positive above every negative: recall 1 at precision 1
    pred_a, pred_b = better >= 1.0, S >= 0.9
    d = paired_deltas((Y, better[None], pred_a[None]), (Y, S[None], pred_b[None]), 0.75, n_boot=50)
    assert d["recall_at_precision"]["mean"] == pytest.approx(1.0 - 0.75)
    assert d["recall"]["mean"] == pytest.approx(1.0 - 0.25)  # 4/4 flagged vs 1/4
    assert d["precision"]["mean"] == pytest.approx(0.0)  # both flag positives only
    assert d["recall"]["excludes_zero"]
