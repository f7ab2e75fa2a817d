"""Seed-aggregated comparison rows, Holm-corrected stars, and paired Δ refused across different folds."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from specs import spec_dict
from toolkit.bench.records import ConfigResult
from toolkit.bench.table import build_rows, header_lines
from toolkit.evaluation.metrics import bootstrap_p_value, holm
from toolkit.experiment.runner import run
from toolkit.experiment.spec import parse_spec

WEAK = [{"type": "tfidf", "max_features": 3}]
RESAMPLE = {"epochs": 3, "batch_size": 64, "resample": "oversample"}  # the seed changes the training rows


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seeds")

    def done(config_id, seed, *, weak=False, fold_seed=0):
        changes = {"featurizers": WEAK} if weak else {}
        spec = parse_spec(spec_dict(name=config_id, seed=seed, training=RESAMPLE, **changes))
        folder = run(spec, results_dir=tmp / "results", cache_dir=str(tmp / "cache"), fold_seed=fold_seed).folder
        axes = {"featurizers": "weak" if weak else "base", "seed": seed}
        label = f"{'tfidf-3' if weak else 'tfidf+behavior'} | logreg | seed {seed}"
        return ConfigResult(config_id, label, "done", folder=folder, is_baseline=not weak, axes=axes)

    results = [done("b-s0", 0), done("w-s0", 0, weak=True), done("b-s1", 1), done("w-s1", 1, weak=True)]
    baselines = {"b-s0": "b-s0", "w-s0": "b-s0", "b-s1": "b-s1", "w-s1": "b-s1"}
    other_folds = done("b-f1", 0, fold_seed=1)
    return SimpleNamespace(results=results, baselines=baselines, other_folds=other_folds)


def test_default_rows_aggregate_over_seeds(seeds):
    per_seed = {r["config_id"]: r for r in build_rows(seeds.results, baselines=seeds.baselines, n_boot=200,
                                                      per_seed=True) if r["kind"] == "config"}
    rows = [r for r in build_rows(seeds.results, baselines=seeds.baselines, n_boot=200) if r["kind"] == "config"]
    assert len(per_seed) == 4 and len(rows) == 2
    base, weak = rows
    assert base["label"] == "tfidf+behavior | logreg | 2 seeds" and weak["seeds"] == 2
    a, b = per_seed["w-s0"], per_seed["w-s1"]
    assert weak["roc_auc"] == pytest.approx((a["roc_auc"] + b["roc_auc"]) / 2)
    assert weak["roc_auc_seed_sd"] == pytest.approx(np.std([a["roc_auc"], b["roc_auc"]], ddof=1))
    assert a["roc_auc"] != b["roc_auc"], "oversampling with another seed must change the scores"
    assert weak["delta_roc_auc"] == pytest.approx((a["delta_roc_auc"] + b["delta_roc_auc"]) / 2)
    # the per-fold interval of two seeds x 3 folds is wide; the point says the weak row is worse
    assert weak["delta_roc_auc_ci_low"] < weak["delta_roc_auc"] < weak["delta_roc_auc_ci_high"]
    assert weak["delta_roc_auc"] < 0
    # the star follows the Holm-adjusted p of that interval's test (3 folds: 2 degrees of freedom)
    assert weak["delta_roc_auc_significant"] == (weak["delta_roc_auc_p_holm"] < 0.05)
    assert base["delta_roc_auc"] is None, "the baseline is not compared with itself"
    assert weak["timing_roc_auc"] == pytest.approx((a["timing_roc_auc"] + b["timing_roc_auc"]) / 2)


def test_stars_are_holm_corrected_over_the_rows_and_the_delta_columns(seeds):
    rows = [r for r in build_rows(seeds.results, baselines=seeds.baselines, n_boot=200, per_seed=True)
            if r["kind"] == "config"]
    tested = [r for r in rows if r["delta_roc_auc_p"] is not None]
    assert len(tested) == 2  # the two weak rows; the baselines against themselves are no test
    keys = ("delta_roc_auc", "delta_pr_auc")  # one family: every row and every Δ column of the table
    expected = iter(holm([r[f"{k}_p"] for k in keys for r in tested]))
    for k in keys:
        for r in tested:
            p = next(expected)
            assert r[f"{k}_p_holm"] == pytest.approx(p) and r[f"{k}_p_holm"] >= r[f"{k}_p"]
            assert r[f"{k}_significant"] == (p < 0.05)
    assert any("Holm" in line for line in header_lines(seeds.results))


def test_holm_and_bootstrap_p_value_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 1 x 0.04) = 0.06
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(holm([0.2, float("nan")])[1]) and holm([0.2, float("nan")])[0] == pytest.approx(0.2)
    # 3 of 99 draws at or below 0: p = 2 x (3 + 1) / 100
    assert bootstrap_p_value(np.r_[np.full(96, 0.1), [-0.1, -0.2, 0.0]]) == pytest.approx(0.08)


def test_compare_refuses_paired_delta_when_folds_differ(seeds):
    base = seeds.results[0]
    other = ConfigResult("x", "same spec, other folds", "done", folder=seeds.other_folds.folder)
    rows = build_rows([base, other], n_boot=50)
    assert rows[1]["delta_roc_auc"] is None
    assert "folds differ from the baseline's" in rows[1]["delta_note"]
