"""Run.metrics has every figure a run records, warnings arrive as ToolkitWarning, leaderboards rank best first."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import toolkit
from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from specs import spec_dict
from toolkit import frames
from toolkit.experiment.record import RunRecord
from toolkit.registry import TASKS
from test_time_to_return_run import survival_spec

#: every validation part is below this many positives: each fold's threshold falls back, a warning every time
FALLBACK = {"min_validation_positives": 10_000, "permutations": 0, "bootstrap": 100, "cv": {"folds": 3}}


@pytest.fixture(scope="module")
def weak_run(tmp_path_factory):
    """A behavior-only run of finished_run's users, whose threshold falls back in every fold; warnings caught."""
    raw = spec_dict(name="weak", data={"synthetic": {"users": 300, "seed": 3, "positive_rate": 0.2}},
                    featurizers=[{"type": "behavior"}], evaluation=FALLBACK)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = toolkit.run(raw, results_dir=tmp_path_factory.mktemp("weak"), use_cache=False)
    return run, [w for w in caught if issubclass(w.category, toolkit.ToolkitWarning)]


@pytest.fixture(scope="module")
def survival_run(tmp_path_factory):
    raw = survival_spec(data={"synthetic": {"users": 300, "seed": 2, "positive_rate": 0.3}},
                        featurizers=[{"type": "behavior"}], evaluation={"cv": {"folds": 3}, "bootstrap": 100,
                                                                        "permutations": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", toolkit.ToolkitWarning)
        return toolkit.run(raw, results_dir=tmp_path_factory.mktemp("survival"), use_cache=False)


def _flat(section: dict, prefix: str = "") -> set[str]:
    """``{name: {mean, ...}}`` as names, ``{name: {horizon: {mean, ...}}}`` as ``name_<horizon>d``."""
    names = set()
    for name, m in section.items():
        if isinstance(m, dict) and "mean" in m:
            names.add(prefix + name)
        elif isinstance(m, dict):
            names |= {f"{prefix}{name}_{h}d" for h, v in m.items() if isinstance(v, dict) and "mean" in v}
    return names


def _recorded_names(raw: dict) -> set[str]:
    """The names metrics.json gives its figures, flattened as Run.metrics names them."""
    names = _flat(raw["metrics"])
    for name, entry in raw.get("baselines", {}).items():
        names |= _flat(entry, f"{name}_")
    for key in ("oracle", "ceiling"):
        names |= _flat(raw.get(key) or {}, f"{key}_")
    names |= {f"{k}_permutation_p" for k, v in (raw.get("permutation") or {}).items()
              if isinstance(v, dict) and "p_value" in v}
    return names


def test_a_yes_no_runs_metrics_hold_every_figure_of_its_metrics_json(finished_run):  # noqa: F811
    folder, _ = finished_run
    raw = json.loads((folder / "metrics.json").read_text())
    table = toolkit.load_run(folder).metrics
    assert list(table.columns) == ["metric", "mean", "low", "high", "group", "note"]
    names = set(table["metric"])
    assert _recorded_names(raw) <= names
    for name in ("f1", "brier", "ece", "timing_delta_roc_auc", "roc_auc_mean_of_folds"):
        assert name in names
    rows = table.set_index("metric")
    assert rows.loc["f1", "high"] == raw["metrics"]["f1"]["ci_high"]
    assert rows.loc["timing_delta_roc_auc", "low"] == raw["baselines"]["timing"]["delta_roc_auc"]["ci_low"]
    assert math.isnan(rows.loc["ece", "low"]) and "base rate" in rows.loc["brier", "note"]
    if raw.get("permutation"):  # below 50 positives the test runs, and its p-values are rows
        assert rows.loc["roc_auc_permutation_p", "mean"] == raw["permutation"]["roc_auc"]["p_value"]
    assert not any(n.startswith(("c_index", "ibs", "uno_c")) for n in names)


def test_a_time_to_return_runs_metrics_are_its_own(survival_run):
    raw = survival_run.record.raw
    names = set(survival_run.metrics["metric"])
    assert _recorded_names(raw) <= names
    horizons = list(raw["metrics"]["auc_at"])
    assert {"c_index", "uno_c", "ibs", "no_features_ibs", *(f"auc_at_{h}d" for h in horizons)} <= names
    assert not {"roc_auc", "pr_auc", "recall", "precision", "f1", "brier"} & names
    rows = survival_run.metrics.set_index("metric")
    assert rows.loc["c_index", "low"] == raw["metrics"]["c_index"]["ci_low"]
    assert "lower is better" in rows.loc["ibs", "note"]


def test_a_runs_warnings_are_issued_once_each_listed_and_shown(weak_run):
    run, caught = weak_run
    texts = run.warnings
    assert any("fell back" in t for t in texts)  # every fold fell back: deterministic
    assert len(texts) == len(set(texts))
    assert sorted(f"warning: {w.message}" for w in caught) == sorted(texts)
    assert all(f"warning: {w}" in texts or w in texts for w in run.record.warnings)
    assert run.data["warnings"] == texts
    shown = repr(run).splitlines()
    assert shown[0].startswith("Run('weak'") and [line.strip() for line in shown[1:]] == texts
    assert all(w.filename == __file__ for w in caught)  # attributed to the caller, not to the toolkit


def test_a_run_is_a_one_row_leaderboard_with_its_cost(weak_run):
    run, _ = weak_run
    board = run.leaderboard()
    assert len(board) == 1 and board.loc[0, "model"] == "weak"
    assert board.loc[0, "roc_auc"] == run.record.metrics["roc_auc"].mean
    assert board.loc[0, "delta_roc_auc"] == run.record.raw["baselines"]["timing"]["delta_roc_auc"]["mean"]
    cost = run.cost
    fit = sum(cost["featurize_s"].values()) + cost["train_s"]
    assert board.loc[0, "fit_time_s"] == pytest.approx(fit)
    assert board.loc[0, "total_cost_s"] == pytest.approx(fit + cost["infer_ms_per_1k"] / 1000)


def test_a_comparison_leaderboard_is_sorted_best_first_with_the_delta(finished_run, weak_run):  # noqa: F811
    folder, _ = finished_run
    weak, _ = weak_run
    comparison = toolkit.compare([weak.folder, folder])  # the first folder is the baseline
    board = comparison.leaderboard()
    assert len(board) == 2 and "oracle" not in set(board["config_id"])
    assert list(board["roc_auc"]) == sorted(board["roc_auc"], reverse=True)
    by_label = board.set_index("model")
    table = comparison.table.set_index("label")
    for label in by_label.index:
        assert by_label.loc[label, "total_cost_s"] == table.loc[label, "total_cost_s"]
        assert by_label.loc[label, "fit_time_s"] == pytest.approx(table.loc[label, "featurize_s"]
                                                                  + table.loc[label, "train_s"])
    other = board[~board["is_baseline"]].iloc[0]
    assert other["delta_roc_auc"] == table.loc[other["model"], "delta_roc_auc"]
    assert other["baseline"] == board[board["is_baseline"]].iloc[0]["model"]


def test_leaderboard_puts_rows_without_a_headline_last_in_their_order():
    from toolkit.tasks.binary import BinaryTask

    rows = [{"model": m, "roc_auc": v} for m, v in (("a", 0.6), ("failed", math.nan), ("b", 0.8), ("c", 0.7),
                                                    ("skipped", math.nan))]
    assert list(frames.leaderboard(rows, BinaryTask)["model"]) == ["b", "c", "a", "failed", "skipped"]


def test_comparison_tables_have_only_their_tasks_columns(finished_run, survival_run):  # noqa: F811
    folder, _ = finished_run
    yes_no = toolkit.compare([folder]).table.columns
    survival = toolkit.compare([survival_run.folder]).table.columns
    assert "roc_auc" in yes_no and "delta_roc_auc_p_holm" in yes_no and "total_cost_s" in yes_no
    assert not [c for c in yes_no if "c_index" in c or c.startswith(("ibs", "uno_c"))]
    assert "c_index" in survival and "delta_c_index" in survival and "total_cost_s" in survival
    assert not [c for c in survival if "roc_auc" in c or "pr_auc" in c or c.startswith(("recall", "precision"))]
    survival_board = toolkit.compare([survival_run.folder]).leaderboard()
    assert "c_index_low" in survival_board.columns and "roc_auc" not in survival_board.columns


def test_a_comparison_of_two_tasks_keeps_every_column_and_refuses_one_ranking(finished_run, survival_run):  # noqa: F811
    folder, _ = finished_run
    both = toolkit.compare([folder, survival_run.folder])
    assert {"roc_auc", "c_index"} <= set(both.table.columns)
    with pytest.raises(toolkit.ToolkitError, match="ranks runs of one task"):
        both.leaderboard()


def test_task_columns_follow_the_installed_tasks_metrics():
    installed = [TASKS.get(n) for n in TASKS.names()]
    binary, survival = TASKS.get("binary"), TASKS.get("time_to_return")
    columns = ["label", "roc_auc", "timing_roc_auc", "uno_c_ci_low", "delta_c_index_p", "ibs_seed_sd", "pareto"]
    assert frames.task_columns(columns, [binary], installed) == ["label", "roc_auc", "timing_roc_auc", "pareto"]
    assert frames.task_columns(columns, [survival], installed) == ["label", "uno_c_ci_low", "delta_c_index_p",
                                                                   "ibs_seed_sd", "pareto"]
    assert frames.task_columns(columns, [], installed) == columns


def test_metric_rows_read_a_loaded_record_like_a_fresh_one(weak_run):
    run, _ = weak_run
    again = toolkit.load_run(run.folder)
    assert again.metrics.equals(run.metrics) and again.warnings == run.warnings
    assert isinstance(again.record, RunRecord) and np.isfinite(again.metrics.set_index("metric").loc["roc_auc", "mean"])


def test_warnings_are_shown_again_for_a_run_again_and_obey_filters():
    from toolkit.api import issue_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(2):  # the same cell run twice: each run shows its warning
            issue_warnings(["warning: the threshold fell back"])
    assert [str(w.message) for w in caught] == ["the threshold fell back"] * 2
    assert caught[0].category is toolkit.ToolkitWarning and caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error", toolkit.ToolkitWarning)
        with pytest.raises(toolkit.ToolkitWarning):
            issue_warnings(["warning: x"])
