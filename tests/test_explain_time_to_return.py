"""``explain`` on time-to-return runs: permutation importance measured as the drop in Harrell's C."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolkit.analysis.explain_time_to_return import held_out_c_index, returned_by, risk_directions
from toolkit.analysis.importance import make_groups, permutation_drops
from toolkit.data.time_to_return import TimeToReturn
from toolkit.evaluation.survival import c_index
from toolkit.features.blocks import Block
from toolkit.heads.cox import CoxHead
from toolkit.heads.hazard_loss import pack_targets

BINS = 10


def hand_made_label(time: np.ndarray, censored: np.ndarray) -> TimeToReturn:
    """Returns seen in bin ``time`` (or censored after it): at risk through every bin before."""
    bins = np.arange(BINS)[None, :]
    at_risk = np.where(censored[:, None], bins <= time[:, None], bins < time[:, None])
    seen = np.where(censored, -1, time)
    return TimeToReturn(np.arange(BINS + 1) + 7, at_risk, seen, seen, np.where(censored, time, -1))


@pytest.fixture(scope="module")
def planted():
    """400 users whose return bin is set by one behavior column; two noise columns and a noise block."""
    rng = np.random.default_rng(11)
    n = 400
    signal, noise = rng.normal(size=n), rng.normal(size=(n, 2))
    time = np.clip(np.round(4.5 - 2.0 * signal + rng.normal(0, 0.3, n)), 0, BINS - 1).astype(int)
    censored = rng.random(n) < 0.3
    label = hand_made_label(time, censored)
    blocks = [Block("behavior", "dense", np.c_[signal, noise]), Block("tfidf", "dense", rng.normal(size=(n, 3)))]
    train, test = np.arange(300), np.arange(300, n)
    head = CoxHead(penalizer=0.01).fit([b.rows(train) for b in blocks], pack_targets(label.rows(train)))
    held = label.rows(test)
    return head, [b.rows(test) for b in blocks], held


def test_the_planted_column_ranks_first_and_ignored_ones_cover_zero(planted):
    head, blocks, held = planted
    groups = make_groups(blocks, {"behavior": ["signal", "noise_a", "noise_b"]})
    rows = permutation_drops(lambda b: c_index(held.time, held.event, head.predict_risk(b)), blocks, groups,
                             n_repeats=10, seed=0)
    names = [r["name"] for r in rows]
    assert set(names[:2]) == {"behavior:signal", "block:behavior"}  # the column, and the block holding it
    by_name = {r["name"]: r for r in rows}
    assert by_name["behavior:signal"]["mean"] > 0.2  # a near-perfect C falls towards 0.5
    for name in ("behavior:noise_a", "behavior:noise_b", "block:tfidf"):
        r = by_name[name]
        assert r["ci_low"] <= 0.0 <= r["ci_high"] and abs(r["mean"]) < 0.02, r
        assert r["repeats"] == 10


def test_direction_follows_the_cox_coefficients_sign(planted):
    head, blocks, _ = planted
    directions = risk_directions(head, blocks, {"behavior": ["signal", "noise_a", "noise_b"]})
    assert directions["signal"] > 0  # a larger signal: an earlier return, a higher hazard
    # proportional hazards: log(-log S) moves by exactly the coefficient times the step (on the head's scale)
    assert np.isclose(directions["signal"], head.coef_[0] * blocks[0].data[:, 0].std() / head.scale_[0])
    assert abs(directions["noise_a"]) < 0.25 * directions["signal"]


def test_a_column_the_head_never_reads_has_exactly_zero_importance(planted):
    _, blocks, held = planted

    class FirstColumnRisk:
        def predict_risk(self, bs):
            return np.asarray(bs[0].data)[:, 0]

        def predict_survival(self, bs):  # log(-log S) is the risk itself
            return np.exp(-np.exp(self.predict_risk(bs)))[:, None]

    head = FirstColumnRisk()
    groups = make_groups(blocks, {"behavior": ["signal", "noise_a", "noise_b"]})
    rows = {r["name"]: r for r in permutation_drops(lambda b: c_index(held.time, held.event, head.predict_risk(b)),
                                                    blocks, groups, n_repeats=3, seed=1)}
    for name in ("behavior:noise_a", "block:tfidf"):
        assert rows[name]["mean"] == rows[name]["ci_low"] == rows[name]["ci_high"] == 0.0
    assert risk_directions(head, blocks, {"behavior": ["signal", "noise_a"]})["noise_a"] == 0.0


def test_held_out_users_without_a_comparable_pair_are_refused_with_one_clear_error(planted):
    from toolkit.errors import ToolkitError

    head, blocks, held = planted
    assert 0.8 < held_out_c_index(head, blocks, held, "R") <= 1.0
    nobody_back = hand_made_label(np.full(len(held.time), 5), np.ones(len(held.time), bool))
    with pytest.raises(ToolkitError, match="hold no pair a C-index can compare \\(0 returns seen\\)"):
        held_out_c_index(head, blocks, nobody_back, "R")


def test_returned_by_is_one_minus_kaplan_meier():
    # S(0) = 1 - 1/4, S(1) = S(0) (1 - 1/3): a return by the end of bin 1 has chance 1/2
    out = returned_by(np.array([0, 1, 1, 2]), np.array([True, True, False, False]), 1)
    assert np.isclose(out["rate"], 0.5) and out["ci_low"] <= 0.5 <= out["ci_high"]
    assert returned_by(np.array([3, 4]), np.array([True, True]), 1)["rate"] == 0.0  # nobody back yet


# --- end to end: a small synthetic run, then explain ---------------------------------------------------------


@pytest.fixture(scope="module")
def survival_runs(tmp_path_factory):
    from test_time_to_return_run import _spec
    from toolkit.experiment.runner import run

    root = tmp_path_factory.mktemp("explain-survival")
    cache = str(root / "cache")
    return {head: run(_spec({"type": head, **extra}), results_dir=root / head, cache_dir=cache).folder
            for head, extra in (("cox", {}), ("hazard", {"units": [16]}))} | {"cache": cache}


@pytest.mark.slow
@pytest.mark.parametrize("head", ["cox", "hazard"])
def test_explain_writes_the_c_index_report_for_a_time_to_return_run(survival_runs, head, tmp_path, capsys):
    from toolkit.cli import main

    out = tmp_path / "explain"
    rc = main(["explain", str(survival_runs[head]), "--out", str(out), "--repeats", "2",
               "--cache-dir", survival_runs["cache"]])
    assert rc == 0, capsys.readouterr().err
    assert "block:behavior: C-index drop" in capsys.readouterr().out
    result = json.loads((out / "explain.json").read_text(encoding="utf-8"))
    assert result["metric"] == "C-index drop" and result["task"] == "time_to_return"
    assert sorted(r["name"] for r in result["importance"]["blocks"]) == ["block:behavior", "block:tfidf"]
    behavior = result["importance"]["behavior"]
    assert behavior and all(np.isfinite(r["log_hazard_change_per_sd"]) for r in behavior)
    assert all(r["ci_low"] <= r["mean"] <= r["ci_high"] and r["repeats"] == 2 for r in behavior)
    metrics = json.loads((survival_runs[head] / "metrics.json").read_text())
    d = result["design"]
    assert d["train_users"] + d["held_out_users"] == metrics["data"]["labelled"] and 0 <= d["held_out_c_index"] <= 1
    assert result["calibration"] == metrics["calibration_over_time"]  # the run's own, not computed again
    rates = [t["rate"] for t in result["topics"]["topics"]]
    assert rates == sorted(rates, reverse=True)
    text = (out / "explain.md").read_text(encoding="utf-8")
    assert "C-index drop" in text and r"n\_posts" in text and "ROC-AUC" not in text
    assert "Calibration over time" in text and "predicted / observed" in text
    assert (out / "importance.png").stat().st_size > 1000
