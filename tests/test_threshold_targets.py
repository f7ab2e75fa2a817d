"""The precision target rule and the YAML mapping forms of the target rules."""

import numpy as np
import pytest

from toolkit.errors import ToolkitError
from toolkit.evaluation.thresholds import FALLBACK_THRESHOLD, choose_threshold, choose_threshold_info, validate_threshold_rule


# scores, descending:   .9  .8  .7  .6  .5  .4  .3  .2
# labels:                1   0   1   1   0   0   1   0
# precision at >= each: 1  1/2 2/3 3/4 3/5 1/2 4/7 1/2
Y = np.array([1, 0, 1, 1, 0, 0, 1, 0])
S = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])


@pytest.mark.parametrize("target, expected", [(0.75, 0.6), (0.7, 0.6), (0.6, 0.5), (0.55, 0.3), (0.5, 0.2), (1.0, 0.9)])
def test_precision_rule_takes_the_lowest_threshold_reaching_the_target(target, expected):
    # by hand from the table above: the lowest score whose precision is still >= target
    assert choose_threshold(Y, S, f"precision@{target}") == expected
    assert choose_threshold(Y, S, {"recall_at_precision": target}) == expected


def test_precision_rule_that_no_threshold_reaches_falls_back():
    choice = choose_threshold_info(np.array([0, 1, 0]), np.array([0.9, 0.5, 0.1]), "precision@0.9")
    assert choice.fell_back and choice.threshold == FALLBACK_THRESHOLD


def test_mapping_form_of_the_recall_rule_is_the_recall_rule():
    # recall >= 0.75 needs 3 of the 4 positives: first reached at 0.6
    assert choose_threshold(Y, S, {"precision_at_recall": 0.75}) == choose_threshold(Y, S, "recall@0.75") == 0.6


@pytest.mark.parametrize("rule, phrase", [("precision@0", "precision target"), ("precision@x", "precision target"),
                                          ({"recall_at_precision": 2}, "precision target"),
                                          ({"recall_at": 0.5}, "recall_at_precision")])
def test_bad_target_rules_say_what_was_expected(rule, phrase):
    problem = validate_threshold_rule(rule)
    assert problem and phrase in problem
    with pytest.raises(ToolkitError):
        choose_threshold(Y, S, rule)
