"""Calibration over time: predicted versus Kaplan-Meier chance of returning, by out-of-fold risk group."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import ToolkitError
from toolkit.evaluation.calibration_over_time import (MIN_RETURNS, calibration_over_time, group_curves,
                                                     horizon_summary, risk_groups)

HORIZONS = {7: 6, 14: 13, 21: 20}  # days -> the bin each ends (daily bins)


def _population(n=3000, bins=21, seed=0):
    """Users with a known per-bin hazard from one covariate, returns drawn from it, then right-censored."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    hazard = np.repeat((1 / (1 + np.exp(3.5 - 0.8 * x)))[:, None], bins, axis=1)
    first = np.where((hits := rng.random((n, bins)) < hazard).any(axis=1), hits.argmax(axis=1), bins)
    last_seen = np.minimum(rng.integers(3, bins + 5, size=n), bins - 1)  # independent censoring
    event = first <= last_seen
    return x, hazard, np.where(event, first, last_seen), event


def test_a_well_specified_model_matches_the_observed_returns_in_every_group():
    x, hazard, time, event = _population()
    true_surv = np.cumprod(1 - hazard, axis=1)
    out = calibration_over_time(time, event, x, true_surv, HORIZONS)
    assert out["groups"] == 3 and [g["users"] for g in out["by_group"]] == [1000, 1000, 1000]
    for g in out["by_group"]:
        for days, cell in g["at"].items():
            assert abs(cell["predicted"] - cell["observed"]) < 0.03, (g["group"], days)
            assert cell["observed_low"] <= cell["observed"] <= cell["observed_high"]
    for s in out["summary"].values():
        assert s["mean_abs_gap"] < 0.02 and s["df"] == 3 and s["p_value"] > 0.05
    # the groups rise with risk: the top tertile returns far more than the bottom one
    by = [g["at"]["21"]["observed"] for g in out["by_group"]]
    assert by[0] < by[1] < by[2] and by[2] - by[0] > 0.3


def test_a_miscalibrated_model_is_caught_at_every_horizon():
    x, hazard, time, event = _population()
    doubled = np.cumprod(1 - np.minimum(2 * hazard, 1), axis=1)  # the same ranking, twice the hazard
    out = calibration_over_time(time, event, 5 * x, doubled, HORIZONS)  # scaled risks: same groups
    for s in out["summary"].values():
        assert s["mean_abs_gap"] > 0.1 and s["p_value"] < 1e-6
    for g in out["by_group"]:
        cell = g["at"]["14"]
        assert cell["predicted"] > cell["observed_high"]  # predicted returns above the observed band


def test_groups_come_from_the_risk_alone():
    x, hazard, time, event = _population(n=600)
    surv = np.cumprod(1 - hazard, axis=1)
    rng = np.random.default_rng(1)
    a = group_curves(time, event, x, surv)
    b = group_curves(rng.permutation(time), rng.permutation(event), x, surv)  # labels shuffled
    np.testing.assert_array_equal(a.users, b.users)
    np.testing.assert_array_equal(a.risk_range, b.risk_range)
    np.testing.assert_allclose(a.predicted, b.predicted)  # same members: predictions do not use the label
    assert not np.allclose(a.observed, b.observed)
    which = risk_groups(x, 4)
    assert np.bincount(which).tolist() == [150] * 4
    assert all(x[which == g].max() < x[which == g + 1].min() for g in range(3))  # quartiles, lowest first


def test_tied_risks_share_a_group_and_empty_groups_are_left_out():
    risk = np.array([0.0] * 6 + [1.0, 2.0, 3.0])
    assert risk_groups(risk, 3).tolist() == [0] * 6 + [2, 2, 2]
    time, event = np.arange(9) % 4, np.arange(9) % 2 == 0
    curves = group_curves(time, event, risk, np.full((9, 4), 0.5))
    assert curves.users.tolist() == [6, 3]


def test_repeats_are_averaged_per_user():
    x, hazard, time, event = _population(n=300)
    surv = np.cumprod(1 - hazard, axis=1)
    once = group_curves(time, event, x, surv)
    twice = group_curves(time, event, np.stack([x - 0.1, x + 0.1]), np.stack([surv * 0.9, surv * 1.1]))
    np.testing.assert_array_equal(once.users, twice.users)
    np.testing.assert_allclose(once.predicted, twice.predicted)


def test_observed_is_one_minus_kaplan_meier_with_a_flipped_band():
    from toolkit.evaluation.kaplan_meier import kaplan_meier

    time = np.array([0, 1, 1, 2, 3, 3, 4, 5, 5, 5])
    event = np.array([1, 1, 0, 1, 0, 1, 1, 0, 0, 1], dtype=bool)
    curves = group_curves(time, event, np.zeros(10), np.full((10, 6), 0.7), groups=2)
    assert curves.users.tolist() == [10]  # every risk tied: one group
    km = kaplan_meier(time, event)
    np.testing.assert_allclose(curves.observed[0], 1 - km.survival)
    np.testing.assert_allclose(curves.observed_low[0], 1 - km.ci_high)
    np.testing.assert_allclose(curves.observed_high[0], 1 - km.ci_low)
    s, d, n = km.survival, km.events, km.at_risk
    greenwood = s**2 * np.cumsum(np.where(n > d, d / (n * (n - d)), 0))
    np.testing.assert_allclose(curves.variance[0], greenwood)
    assert curves.returns[0].tolist() == [1, 2, 3, 4, 5, 6]


def test_groups_with_few_returns_stay_out_of_the_chi_square():
    x, hazard, time, event = _population(n=300)
    curves = group_curves(time, event, x, np.cumprod(1 - hazard, axis=1))
    early = horizon_summary(curves, 0)
    assert early["df"] == int((curves.returns[:, 0] >= MIN_RETURNS).sum()) < 3
    late = horizon_summary(curves, 20)
    assert late["df"] == 3 and late["chi2"] > 0


@pytest.mark.parametrize("groups, message", [(1, "groups must be a whole number >= 2"),
                                             (2.5, "groups must be a whole number >= 2"),
                                             (20, "10 users cannot fill 20 risk groups")])
def test_bad_groups_are_refused(groups, message):
    with pytest.raises(ToolkitError, match=message):
        calibration_over_time(np.arange(10) % 3, np.ones(10, bool), np.arange(10.0), np.full((10, 3), 0.5),
                              {1: 0}, groups=groups)


def test_the_terminal_table_shows_each_group_and_horizon():
    from rich.console import Console

    from toolkit.console import calibration_over_time_table

    x, hazard, time, event = _population(n=600)
    result = {"calibration_over_time": calibration_over_time(time, event, x, np.cumprod(1 - hazard, axis=1),
                                                             HORIZONS)}
    console = Console(width=200, record=True)
    console.print(calibration_over_time_table(result))
    text = console.export_text()
    assert "predicted / observed [95% CI]" in text and "by 14 days" in text and "3 of 3" in text and "GND p" in text
    cell = result["calibration_over_time"]["by_group"][2]["at"]["21"]
    assert f"{cell['predicted']:.3f} / {cell['observed']:.3f} [{cell['observed_low']:.3f}" in text
    assert calibration_over_time_table({"metrics": {}}) is None  # binary runs have none


def test_a_time_to_return_run_writes_calibration_over_time_and_its_figure(tmp_path):
    """A small cox run (about 12 s on a shared core): the key, the figure and the record's view of it."""
    import json

    from specs import BASE, spec_dict
    from toolkit.experiment.record import RunRecord
    from toolkit.experiment.runner import run
    from toolkit.experiment.spec import parse_spec

    label = {"cohort": BASE["label"]["cohort"], "observe_days": 7,
             "time_to_return": {"after_days": 7, "follow_days": 28}}
    spec = parse_spec(spec_dict(label=label, head={"type": "cox"},
                                data={"synthetic": {"users": 300, "seed": 2, "positive_rate": 0.3}},
                                featurizers=[{"type": "behavior"}], evaluation={"cv": {"folds": 3}, "bootstrap": 100}))
    folder = run(spec, results_dir=tmp_path / "runs", cache_dir=str(tmp_path / "cache")).folder
    m = json.loads((folder / "metrics.json").read_text())
    cal = m["calibration_over_time"]
    assert cal["horizons_days"] == [7, 14, 21] and cal["groups"] == 3
    assert sum(g["users"] for g in cal["by_group"]) == m["data"]["labelled"]
    returns_by_21 = sum(g["at"]["21"]["returns"] for g in cal["by_group"])
    assert 0 < returns_by_21 <= m["data"]["time_to_return"]["returned"]
    for g in cal["by_group"]:
        for cell in g["at"].values():
            assert 0 <= cell["observed_low"] <= cell["observed"] <= cell["observed_high"] <= 1
            assert 0 <= cell["predicted"] <= 1
    assert set(cal["summary"]) == {"7", "14", "21"}
    png = (folder / "survival_calibration.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert RunRecord.open(folder).calibration_over_time == cal
    # the intervals are the yes/no task's corrected t over the 3 test folds, and say so
    from toolkit.evaluation.metrics import CORRECTED_METHOD

    assert m["intervals"]["method"] == CORRECTED_METHOD
    assert 0 <= m["metrics"]["c_index"]["p_vs_chance"] <= 1
    d = m["baselines"]["timing"]["delta_c_index"]
    assert d["excludes_zero"] == (d["ci_low"] > 0 or d["ci_high"] < 0) and 0 <= d["p_value"] <= 1


def _hand_crawl():
    """The label module's worked example: after_days 7, follow_days 14, days 9 and 10 not covered."""
    import datetime as dt

    from toolkit.data.time_to_return import time_to_return

    day0 = dt.date(2025, 1, 1)
    posts = {0: [0, 11], 1: [0, 8], 2: [0], 3: [0, 13]}
    user = [u for u, days in posts.items() for _ in days]
    day = [d for days in posts.values() for d in days]
    covered = {day0 + dt.timedelta(days=i) for i in range(15) if i not in (9, 10)}
    return time_to_return([day0] * 4, user, day, after_days=7, follow_days=14,
                          data_end=day0 + dt.timedelta(days=14), covered=covered)


def test_given_the_label_the_observed_side_is_the_kaplan_meier_of_the_masked_risk_sets():
    from toolkit.evaluation.logrank import kaplan_meier_bins

    label = _hand_crawl()
    surv = np.full((4, label.at_risk.shape[1]), 0.5)
    masked = group_curves(label.time, label.event, np.zeros(4), surv, groups=2, label=label)
    km = kaplan_meier_bins(label)  # the eda's curve: the gap's bins out of every risk set
    np.testing.assert_allclose(masked.observed[0], 1 - km.survival)
    np.testing.assert_allclose(masked.observed_high[0], 1 - km.ci_low)
    # a user out of view in bin 1 (an uncovered day), censored after bin 2; one returning in bin 1; one
    # seen through every bin. Masked: 1 return among 2 at risk in bin 1; one time per user: among 3.
    from toolkit.data.time_to_return import TimeToReturn

    at_risk = np.array([[1, 0, 1], [1, 0, 0], [1, 1, 1]], dtype=bool)
    gap = TimeToReturn(np.arange(4), at_risk, np.array([-1, 1, -1]), np.array([-1, 1, -1]), np.array([2, -1, 2]))
    surv = np.full((3, 3), 0.5)
    masked = group_curves(gap.time, gap.event, np.zeros(3), surv, groups=2, label=gap)
    plain = group_curves(gap.time, gap.event, np.zeros(3), surv, groups=2)
    np.testing.assert_allclose(masked.observed[0], [0, 1 / 2, 1 / 2])
    np.testing.assert_allclose(plain.observed[0], [0, 1 / 3, 1 / 3])
    assert masked.returns[0].tolist() == plain.returns[0].tolist() == [0, 1, 1]  # same returns, other risk sets


def test_a_label_of_other_users_is_refused():
    label = _hand_crawl()
    with pytest.raises(ToolkitError, match="the label must describe the 5 users and 8 bins"):
        group_curves(np.zeros(5), np.zeros(5, bool), np.arange(5.0), np.full((5, 8), 0.5), label=label)


def test_on_a_crawl_with_planted_gaps_the_true_curves_match_the_masked_kaplan_meier(tmp_path):
    """2,000 synthetic users, 5 gap days (``data synth --gaps 5``); the true curves stand for a well-specified
    model. Against one time per user (gap days counted as survived) they read too high, and the test rejects."""
    from specs import BASE, spec_dict
    from toolkit.data.synth import write_synthetic
    from toolkit.evaluation.time_to_return_oracle import oracle_hazard, true_survival
    from toolkit.experiment.spec import parse_spec
    from toolkit.tasks.time_to_return import prepare_time_to_return

    path = write_synthetic(tmp_path / "crawl.csv", 2000, 0, 0.3, gaps=5)
    label = {"cohort": BASE["label"]["cohort"], "observe_days": 7,
             "time_to_return": {"after_days": 7, "follow_days": 28}}
    spec = parse_spec(spec_dict(label=label, head={"type": "cox"}, featurizers=[{"type": "behavior"}],
                                data={"path": str(path)}))
    prepared = prepare_time_to_return(spec)
    lab = prepared.label
    assert prepared.counts.in_gap > 0.5 * prepared.counts.in_analysis  # the gaps reach most users' follow-up
    hazard = oracle_hazard(path, prepared.users["user_id"], lab, "first_post")
    horizons = {d: lab.horizon_bin(d) for d in (7, 14, 21)}
    args = (lab.time, lab.event, hazard, true_survival(hazard, lab.edges), horizons)
    masked, plain = calibration_over_time(*args, label=lab), calibration_over_time(*args)
    for m, p in zip(masked["by_group"], plain["by_group"]):
        for days in ("7", "14", "21"):
            assert m["at"][days]["observed"] > p["at"][days]["observed"], (m["group"], days)
            assert m["at"][days]["predicted"] == p["at"][days]["predicted"]
    for days in ("7", "14", "21"):
        assert masked["summary"][days]["p_value"] > 0.05, days  # a well-specified model is not rejected
        assert masked["summary"][days]["mean_abs_gap"] < plain["summary"][days]["mean_abs_gap"]
    assert min(s["p_value"] for s in plain["summary"].values()) < 0.001  # the unmasked one rejects it
