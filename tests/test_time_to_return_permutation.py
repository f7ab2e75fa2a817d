"""The permutation test of time-to-return runs: whole label records shuffled, honest under the null."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from specs import BASE, spec_dict
from toolkit.data.time_to_return import TimeToReturn
from toolkit.errors import ToolkitError
from toolkit.evaluation.config import CVConfig, EvaluationConfig
from toolkit.evaluation.permutation import AUTO_BELOW_POSITIVES, AUTO_PERMUTATIONS
from toolkit.evaluation.time_to_return_cv import time_to_return_folds
from toolkit.evaluation.time_to_return_permutation import (baseline_risk, shuffled_label, statistics,
                                                     time_to_return_permutation_test)
from toolkit.experiment.spec import parse_spec

BINS = 8
THREE_FOLDS = EvaluationConfig(cv=CVConfig(folds=3))
TRAINING = SimpleNamespace(validation_fraction=0.15)
TTR = {"cohort": BASE["label"]["cohort"], "observe_days": 7, "time_to_return": {"after_days": 7, "follow_days": 28}}


def make_label(rng: np.random.Generator, hazard: np.ndarray) -> TimeToReturn:
    """Discrete returns at each user's daily hazard, censored at random, a few seen only after a gap."""
    n = len(hazard)
    t = np.minimum(rng.geometric(hazard) - 1, BINS)  # BINS: no return inside follow-up
    c = rng.integers(1, BINS, size=n)  # last bin seen through when no return comes first
    event = t <= c
    gap = event & (t >= 2) & (rng.random(n) < 0.2)  # the bin before the return was not covered
    first = np.where(gap, t - 1, t)
    bins = np.arange(BINS)[None, :]
    at_risk = bins < np.where(event, first, c + 1)[:, None]
    return TimeToReturn(np.arange(BINS + 1), at_risk, np.where(event, first, -1), np.where(event, t, -1),
                        np.where(event, -1, c))


def records(label: TimeToReturn) -> list[tuple]:
    return sorted(zip(label.event_first.tolist(), label.event_last.tolist(), label.censor_bin.tolist(),
                      map(bytes, np.packbits(label.at_risk, axis=1))))


def sign_statistics(x: np.ndarray, base: np.ndarray):
    """The cheapest learner for the model and the baseline alike: a column, signed per fold by how it goes
    with returning among the fold's training users, on folds redrawn from each label as a run draws them."""

    def risk(label, column, folds):
        out = np.empty((max(f.repeat for f in folds) + 1, len(column)))
        for f in folds:
            returned = label.event[f.train]
            up = column[f.train][returned].mean() >= column[f.train][~returned].mean()
            out[f.repeat, f.test] = column[f.test] if up else -column[f.test]
        return out

    def stats(label):
        folds = time_to_return_folds(label, THREE_FOLDS, 0)
        return statistics(label, risk(label, x, folds), risk(label, base, folds))

    return stats


def test_a_shuffle_hands_whole_label_records_to_other_users():
    rng = np.random.default_rng(0)
    label = make_label(rng, np.full(200, 0.15))
    assert label.interval.any() and (~label.event).any()  # interval-censored and censored records both move
    shuffled = shuffled_label(label, rng)
    assert records(shuffled) == records(label)  # the same records, none split or altered
    assert not np.array_equal(shuffled.event_last, label.event_last)  # but paired with other users
    np.testing.assert_array_equal(shuffled.edges, label.edges)
    assert shuffled.in_analysis.all()


def test_labels_without_signal_are_declared_significant_at_most_at_the_nominal_rate():
    """100 null problems (60 users, 19 shuffles each): p <= 0.05 at most 0.05 plus two binomial errors.

    The seeds are fixed, so the test does not flake; a correct test exceeds the allowance about 2% of
    the time over seeds.
    """
    rng = np.random.default_rng(1)
    problems, rejections, p_values = 100, np.zeros(2), []
    for i in range(problems):
        x = rng.normal(size=(60, 2))
        label = make_label(rng, np.full(60, 0.2))  # returns drawn without looking at any column
        block = time_to_return_permutation_test(label, sign_statistics(x[:, 0], x[:, 1]), AUTO_PERMUTATIONS, seed=i,
                                          baseline="noise")
        p = [block["c_index"]["p_value"], block["delta_c_index"]["p_value"]]
        rejections += np.array(p) <= 0.05
        p_values.append(p)
    print(f"null problems declared significant (c_index, delta): {rejections} of {problems}; "
          f"mean p {np.mean(p_values, axis=0)}")
    margin = 2 * np.sqrt(0.05 * 0.95 / problems)
    assert (rejections / problems <= 0.05 + margin).all(), rejections
    assert 0.4 < np.mean(p_values) < 0.65  # p spreads over its grid rather than sitting at 1


def test_a_strong_planted_signal_gets_the_smallest_p_value_the_shuffles_allow():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(150, 2))
    label = make_label(rng, 1.0 / (1.0 + np.exp(-(2.5 * x[:, 0] - 1.5))))  # returns follow column 0

    def cox_statistics(shuffled):
        folds = time_to_return_folds(shuffled, THREE_FOLDS, 0)
        model = baseline_risk(shuffled, "model", x[:, :1], folds, training=TRAINING, seed=0)
        return statistics(shuffled, model, baseline_risk(shuffled, "noise", x[:, 1:], folds, training=TRAINING, seed=0))

    block = time_to_return_permutation_test(label, cox_statistics, 19, seed=0, baseline="noise")
    assert block["n"] == 19 and block["delta_c_index"]["baseline"] == "noise"
    assert block["c_index"]["observed"] > 0.75
    assert block["c_index"]["p_value"] == pytest.approx(1 / 20)
    assert block["delta_c_index"]["p_value"] == pytest.approx(1 / 20)
    null = block["c_index"]["null"]
    assert null["q05"] <= null["q50"] <= null["q95"] < 0.65


def test_evaluation_permutations_is_accepted_under_time_to_return_and_a_negative_count_still_refused():
    spec = parse_spec(spec_dict(label=TTR, head={"type": "cox"}, evaluation={"permutations": 20}))
    assert spec.evaluation.permutations == 20
    with pytest.raises(ToolkitError, match="'permutations' parameter of EvaluationConfig must be"):
        parse_spec(spec_dict(label=TTR, head={"type": "cox"}, evaluation={"permutations": -1}))


def _run(tmp_path, users: int, rate: float, **evaluation):
    from toolkit.experiment.runner import run

    spec = parse_spec(spec_dict(label=TTR, head={"type": "cox"}, featurizers=[{"type": "behavior"}],
                                data={"synthetic": {"users": users, "seed": 2, "positive_rate": rate}},
                                evaluation={"cv": {"folds": 3}, "bootstrap": 100, **evaluation}))
    return run(spec, results_dir=tmp_path / "r", cache_dir=str(tmp_path / "cache"))


def test_a_time_to_return_run_with_permutations_writes_the_block(tmp_path):
    from rich.console import Console

    from toolkit.console import time_to_return_metrics_table

    outcome = _run(tmp_path, 200, 0.3, permutations=3)
    m = json.loads((outcome.folder / "metrics.json").read_text())
    perm = m["permutation"]
    assert perm["n"] == 3 and perm["auto"] is False and perm["seconds"] >= 0
    assert perm["c_index"]["observed"] == pytest.approx(m["metrics"]["c_index"]["mean"])
    assert perm["c_index"]["p_value"] in (0.25, 0.5, 0.75, 1.0)
    delta = perm["delta_c_index"]
    assert delta["baseline"] == "timing" == next(iter(m["baselines"]))
    assert delta["observed"] == pytest.approx(m["metrics"]["c_index"]["mean"] - m["baselines"]["timing"]["c_index"]["mean"])
    assert set(delta["null"]) == {"q05", "q50", "q95", "mean"}
    estimate = [line for line in outcome.log if "permutation test:" in line]
    assert estimate and "3 shuffles x" in estimate[0] and "set by evaluation.permutations" in estimate[0]
    console = Console(width=200, record=True)
    console.print(time_to_return_metrics_table(m))
    shown = console.export_text()
    assert "c_index, permutation p" in shown and "Δ c_index over timing, permutation p" in shown


def test_few_returns_turn_the_test_on_and_the_caption_points_to_its_p_values(tmp_path):
    from rich.console import Console

    from toolkit.console import time_to_return_baselines_table, time_to_return_metrics_table

    outcome = _run(tmp_path, 150, 0.2, min_positives_per_fold=3)
    m = outcome.metrics
    returned = m["data"]["time_to_return"]["returned"]
    assert returned < AUTO_BELOW_POSITIVES
    assert m["permutation"]["n"] == AUTO_PERMUTATIONS and m["permutation"]["auto"] is True
    estimate = [line for line in outcome.log if "permutation test:" in line]
    assert estimate and f"only {returned} returns seen; evaluation.permutations: 0 turns it off" in estimate[0]
    assert m["intervals"]["note"].startswith(f"{returned} returns: the intervals include the fitting's noise")
    console = Console(width=250, record=True)
    console.print(time_to_return_metrics_table(m))
    console.print(time_to_return_baselines_table(m))
    shown = " ".join(console.export_text().split())
    assert "read the permutation p-values above" in shown and "read the permutation p-values under the metrics" in shown
    off = _run(tmp_path / "off", 150, 0.2, min_positives_per_fold=3, permutations=0).metrics
    assert "permutation" not in off and off["intervals"]["note"] == m["intervals"]["note"]
