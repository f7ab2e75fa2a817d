"""The time-to-return label kind end to end: spec validation, the label from a crawl with a gap, a run."""

from __future__ import annotations

import pytest

from specs import BASE, spec_dict
from toolkit.errors import ToolkitError
from toolkit.experiment.spec import parse_spec

TTR = {"cohort": BASE["label"]["cohort"], "observe_days": 7, "time_to_return": {"after_days": 7, "follow_days": 28}}


def survival_spec(**changes):
    return spec_dict(**{"label": TTR, "head": {"type": "cox"}, **changes})


def test_a_time_to_return_spec_validates_with_either_survival_head():
    for head in ("cox", "hazard"):
        spec = parse_spec(survival_spec(head={"type": head}))
        assert spec.task[0] == "time_to_return" and spec.head[0] == head
        assert spec.label.time_to_return.horizon_days() == [7, 14, 21]
    assert parse_spec(spec_dict()).task[0] == "binary"


@pytest.mark.parametrize("changes, message", [
    ({"head": {"type": "hazard"}}, "head 'hazard' learns time_to_return targets, but the spec's task 'binary' (label.retained_if)"),
    ({"head": {"type": "cox"}}, "Use a head that takes it (gbdt, hybrid, logreg, lstm, mlp"),
    ({"label": TTR, "head": {"type": "logreg"}}, "head 'logreg' learns binary targets, but the spec's task 'time_to_return' (label.time_to_return)"),
    ({"label": {**TTR, "retained_if": BASE["label"]["retained_if"]}, "head": {"type": "cox"}},
     "exactly one of 'retained_if'"),
    ({"label": {k: v for k, v in TTR.items() if k != "time_to_return"}}, "exactly one of 'retained_if'"),
    ({"label": {**TTR, "time_to_return": {"after_days": 7, "follow_days": 28, "horizons": [30]}}, "head": "cox"},
     "time_to_return.horizons must be days after after_days that end a bin"),
    ({"label": {**TTR, "time_to_return": {"after_days": 3, "follow_days": 28}}, "head": "cox"},
     "time_to_return.after_days (3) must be >= observe_days"),
    ({"label": {**TTR, "time_to_return": {"after_days": 7, "follow_days": 7}}, "head": "cox"},
     "at least two time bins"),
    ({"label": TTR, "head": "cox", "training": {"resample": "oversample"}}, "training.resample and training.class_weight"),
    ({"label": TTR, "head": "cox", "evaluation": {"split": {"test_fraction": 0.2}}}, "Use evaluation.cv instead"),
    ({"label": TTR, "head": "cox", "training": {"calibrate": "sigmoid"}}, "training.calibrate: sigmoid turns yes/no"),
])
def test_task_and_head_mismatches_are_refused(changes, message):
    with pytest.raises(ToolkitError) as err:
        parse_spec(spec_dict(**changes))
    assert message in str(err.value)


# A hand-made crawl: a background account posts every day (so the coverage rule sees a crawler)
# except on 2025-01-05 and 2025-01-06, which the crawl missed. Cohort users (day 0 in brackets):
#   A [01-01] returns 01-07, right after the gap: interval-censored over days 4..6
#   B [01-01] never returns: seen through days 2, 3, 6, 7, 8 (the gap's days masked)
#   C [01-02] returns 01-04 (day 2): an exact return in the first bin
#   D [01-03] never returns; data_end (01-09) cuts follow-up at day 6, the gap masks days 2, 3
#   F [01-08] follow-up would start 01-10, after data_end: out of view
def _gap_crawl():
    import pandas as pd

    from posts_factory import frame, post

    gap = {pd.Timestamp("2025-01-05"), pd.Timestamp("2025-01-06")}
    rows = [post("bg", day + pd.Timedelta(hours=h)) for day in pd.date_range("2024-12-20", "2025-01-09")
            if day not in gap for h in range(8, 13)]
    for user, times in {"A": ["2025-01-01 10:00", "2025-01-07 10:00"], "B": ["2025-01-01 11:00"],
                        "C": ["2025-01-02 10:00", "2025-01-04 10:00"], "D": ["2025-01-03 10:00"],
                        "F": ["2025-01-08 10:00"]}.items():
        rows += [post(user, t) for t in times]
    return frame(rows)


def _gap_label(**form):
    from toolkit.data.label import parse_label

    return parse_label({"cohort": {"first_seen": ["2025-01-01", "2025-01-08"]}, "observe_days": 2,
                        "data_end": "2025-01-09", **form})


def test_a_gap_crawl_keeps_gap_users_in_the_risk_set_and_counts_them():
    import numpy as np

    from toolkit.data.time_to_return_users import build_time_to_return_users
    from toolkit.data.users import build_users

    posts = _gap_crawl()
    users, label, report, counts = build_time_to_return_users(
        posts, _gap_label(time_to_return={"after_days": 2, "follow_days": 8}), timezone="UTC")
    assert users["user_id"].tolist() == ["A", "B", "C", "D"]
    assert (counts.in_analysis, counts.returned, counts.interval_censored, counts.censored) == (4, 2, 1, 2)
    assert (counts.censored_by_data_end, counts.in_gap, counts.out_of_view) == (1, 4, 1)
    # nobody is dropped for the gap: the 4 are kept, counted as in a gap, not as censored by coverage
    assert (report.censored, report.censored_by_coverage, report.in_coverage_gap, report.positives) == (1, 0, 4, 2)
    at_risk = [np.flatnonzero(row).tolist() for row in label.at_risk]
    assert at_risk == [[0, 1], [0, 1, 4, 5, 6], [], [2, 3, 4]]
    assert label.event_first.tolist() == [2, -1, 0, -1] and label.event_last.tolist() == [4, -1, 0, -1]
    assert label.censor_bin.tolist() == [-1, 6, -1, 4]
    # the binary label on the same crawl and window drops every one of them (window not covered)
    with pytest.raises(ToolkitError, match="No user is left to learn from"):
        build_users(posts, _gap_label(retained_if={"returns_after_days": 2, "horizon_days": 8}), timezone="UTC")


def test_the_likelihood_of_the_gap_crawl_matches_a_hand_computation():
    import numpy as np

    from toolkit.data.time_to_return_users import build_time_to_return_users
    from toolkit.heads.hazard_loss import hazard_nll, pack_targets

    _, label, _, _ = build_time_to_return_users(_gap_crawl(), _gap_label(time_to_return={"after_days": 2, "follow_days": 8}),
                                          timezone="UTC")
    h = np.array([0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40])
    logits = np.tile(np.log(h / (1 - h)), (4, 1)).astype(np.float32)
    nll = np.asarray(hazard_nll(pack_targets(label), logits), dtype=float)
    s = np.log1p(-h)  # log(1 - h_k): a bin seen through without a return
    expected = [-(s[0] + s[1] + np.log(1 - np.prod(1 - h[2:5]))),  # A: return somewhere in bins 2..4
                -(s[[0, 1, 4, 5, 6]].sum()),  # B: the gap's bins 2, 3 add nothing
                -np.log(h[0]),  # C: exact return in bin 0
                -(s[[2, 3, 4]].sum())]  # D: the gap's bins 0, 1 and the bins past data_end add nothing
    np.testing.assert_allclose(nll, expected, rtol=1e-5)


def _spec(head):
    return parse_spec(survival_spec(
        data={"synthetic": {"users": 300, "seed": 2, "positive_rate": 0.3}}, head=head,
        featurizers=[{"type": "tfidf", "max_features": 200}, {"type": "behavior"}],
        training={"epochs": 2, "batch_size": 64}, evaluation={"cv": {"folds": 3}, "bootstrap": 100}))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One cox and one hazard run on the same users and folds (about a minute on a shared core)."""
    from toolkit.experiment.runner import run

    root = tmp_path_factory.mktemp("survival-runs")
    cache = str(root / "cache")
    return {head: run(_spec({"type": head, **extra}), results_dir=root / head, cache_dir=cache).folder
            for head, extra in (("cox", {}), ("hazard", {"units": [16]}))} | {"cache": cache}


def _check_outcome(folder, min_c_index: float = 0.0):
    import json

    import numpy as np
    import pandas as pd

    m = json.loads((folder / "metrics.json").read_text())
    assert m["task"] == "time_to_return" and m["survival"]["horizons_days"] == [7, 14, 21]
    counts = m["data"]["time_to_return"]
    assert m["data"]["labelled"] == counts["in_analysis"] == counts["returned"] + counts["censored"]
    assert counts["censored"] > 0 and counts["returned"] >= 15  # censored users are in the analysis
    shapes = {"c_index": m["metrics"]["c_index"], "uno_c": m["metrics"]["uno_c"], "ibs": m["metrics"]["ibs"],
              **{f"auc_at {h}": v for h, v in m["metrics"]["auc_at"].items()}}
    assert list(m["metrics"]["auc_at"]) == ["7", "14", "21"]
    for name, v in shapes.items():
        # the C-index and Uno's C also carry their t test against chance (the intervals are over the folds)
        extra = {"p_vs_chance"} if name in ("c_index", "uno_c") else set()
        assert set(v) == {"mean", "ci_low", "ci_high"} | extra, name
        assert 0 <= v["ci_low"] <= v["mean"] <= v["ci_high"] <= 1, name
    assert m["metrics"]["c_index"]["mean"] > min_c_index
    note = (m.get("intervals") or {}).get("note")  # labelled when the intervals rest on few returns
    assert (note is not None) == (counts["returned"] < 50)
    assert set(m["baselines"]) == {"timing", "exposure"}  # the binary run's confound columns and names
    for name in ("timing", "exposure"):
        b = m["baselines"][name]
        assert {"c_index", "uno_c", "auc_at", "ibs", "delta_c_index"} <= set(b)
        d = b["delta_c_index"]
        assert d["ci_low"] <= d["mean"] <= d["ci_high"]
        assert np.isclose(d["mean"], m["metrics"]["c_index"]["mean"] - b["c_index"]["mean"], atol=1e-9)
    assert len(m["folds"]) == 3 and sum(f["test_users"] for f in m["folds"]) == counts["in_analysis"]
    # the C-index interval is the yes/no task's corrected t over these folds' own C-indexes
    from toolkit.evaluation.metrics import CORRECTED_METHOD, corrected_t

    share = np.mean([f["test_users"] / (counts["in_analysis"] - f["test_users"]) for f in m["folds"]])
    t = corrected_t(m["metrics"]["c_index"]["mean"], [f["c_index"] for f in m["folds"]], share, m["confidence"], 0.5)
    assert m["metrics"]["c_index"]["ci_low"] == pytest.approx(max(t["ci_low"], 0.0))
    assert m["metrics"]["c_index"]["p_vs_chance"] == pytest.approx(t["p_value"])
    assert m["intervals"]["method"] == CORRECTED_METHOD
    preds = pd.read_csv(folder / "predictions.csv")
    assert len(preds) == counts["in_analysis"]
    p = preds[["p_return_by_7d", "p_return_by_14d", "p_return_by_21d"]].to_numpy()
    assert ((p >= 0) & (p <= 1)).all() and (np.diff(p, axis=1) >= -1e-12).all()
    assert (folder / "model" / "model.json").exists()


@pytest.mark.slow
def test_a_cox_time_to_return_run_writes_survival_metrics(runs):
    _check_outcome(runs["cox"], min_c_index=0.55)  # the synthetic returns follow the text and behavior


@pytest.mark.slow
def test_a_hazard_time_to_return_run_writes_survival_metrics(runs):
    # two epochs of a small network: the shapes are the point here, not how well it learns
    _check_outcome(runs["hazard"])


def test_a_time_to_return_spec_leaves_the_automatic_permutation_test_off():
    spec = parse_spec(survival_spec(evaluation={"permutations": 0}))
    assert spec.evaluation.permutations == 0 and parse_spec(survival_spec()).evaluation.permutations is None


def test_survival_users_get_the_binary_paths_rows():
    """Day 0, the cohort (a post in the observation window), the hour and timing columns are build_users'."""
    import pandas as pd

    from posts_factory import frame, post
    from toolkit.data.label import parse_label
    from toolkit.data.time_to_return_users import build_time_to_return_users
    from toolkit.data.users import build_users

    rows = [post("bg", day + pd.Timedelta(hours=h)) for day in pd.date_range("2025-01-01", "2025-01-20")
            for h in (9, 23)]
    for user, times in {"A": ["2025-01-02 23:30", "2025-01-03 00:30", "2025-01-10 10:00"],
                        "B": ["2025-01-03 08:00"], "C": ["2025-01-04 12:00", "2025-01-12 12:00"]}.items():
        rows += [post(user, t) for t in times]
    common = {"cohort": {"first_seen": ["2025-01-02", "2025-01-05"]}, "observe_days": 2, "data_end": "2025-01-20",
              "coverage": None}
    binary, y, _ = build_users(frame(rows), parse_label({**common, "retained_if": {"returns_after_days": 2,
                                                                                     "horizon_days": 12}}))
    survival, label, report, counts = build_time_to_return_users(
        frame(rows), parse_label({**common, "time_to_return": {"after_days": 2, "follow_days": 12}}))
    assert list(survival["user_id"]) == list(binary["user_id"]) == ["A", "B", "C"]
    pd.testing.assert_frame_equal(survival.drop(columns=["activity"]), binary.drop(columns=["activity"]))
    assert {"day0", "hour_sin", "hour_cos", "hour_spread"} <= set(survival.columns)
    assert list(label.event) == [True, False, True] and list(y) == [1, 0, 1]
    assert report.not_yet_active == 0 and counts.in_analysis == 3


@pytest.mark.slow
def test_a_time_to_return_run_reads_back_through_the_results_contract(runs):
    from toolkit import load_run
    from toolkit.experiment.record import RunRecord

    record = RunRecord.open(runs["cox"])
    assert record.task == "time_to_return" and record.threshold is None
    assert {"c_index", "uno_c", "ibs", "auc_at_7d", "auc_at_21d"} <= set(record.metrics)
    assert set(record.baselines) == {"timing", "exposure"} and "c_index" in record.baselines["timing"]
    oof = record.out_of_fold
    assert oof.y.shape == (len(oof.user_ids), 2) and oof.scores.shape == (1, len(oof.user_ids))
    run = load_run(runs["cox"])
    assert "c_index=" in repr(run) and "c_index" in set(run.metrics["metric"])
    assert {"user", "risk", "time_bin", "returned", "p_return_by_7d"} <= set(run.scores.columns)


@pytest.mark.slow
def test_predict_gives_each_users_chance_of_returning_by_each_horizon(runs):
    import numpy as np

    from toolkit.analysis.predict import predict
    from toolkit.analysis.run_model import load_run_model
    from toolkit.experiment.runner import data_path, prepare

    spec = _spec({"type": "cox"})
    table = predict(runs["cox"], data_path(spec, runs["cache"])).set_index("user_id")
    assert list(table.columns) == ["score", "p_return_by_7d", "p_return_by_14d", "p_return_by_21d", "reason"]
    prepared = prepare(spec, cache_dir=runs["cache"])
    model = load_run_model(runs["cox"])
    surv = model.head.predict_survival(model.blocks(prepared.users))
    mine = table.loc[prepared.users["user_id"]]
    np.testing.assert_allclose(mine["p_return_by_14d"], 1 - surv[:, 13], rtol=1e-6)
    np.testing.assert_allclose(mine["score"], 1 - surv[:, -1], rtol=1e-6)


@pytest.mark.slow
def test_the_bench_table_compares_time_to_return_runs(runs, tmp_path, capsys):
    import json

    from toolkit.cli import main

    assert main(["compare", str(runs["cox"]), str(runs["hazard"]), "--out", str(tmp_path / "cmp")]) == 0
    rows = json.loads((tmp_path / "cmp" / "table.json").read_text())["rows"]
    cox, hazard = (json.loads((runs[k] / "metrics.json").read_text())["metrics"] for k in ("cox", "hazard"))
    assert [r["c_index"] for r in rows] == [cox["c_index"]["mean"], hazard["c_index"]["mean"]]
    assert rows[0]["roc_auc"] is None and rows[1]["ibs"] == hazard["ibs"]["mean"]
    d = rows[1]["delta_c_index"]  # hazard - cox on the same users and folds
    assert abs(d - (hazard["c_index"]["mean"] - cox["c_index"]["mean"])) < 1e-9
    assert rows[1]["delta_c_index_ci_low"] <= d <= rows[1]["delta_c_index_ci_high"]
    header = (tmp_path / "cmp" / "table.md").read_text().splitlines()
    columns = next(line for line in header if line.startswith("| config"))
    assert "C-index" in columns and "Δ C-index" in columns and "ROC-AUC" not in columns
    html = (tmp_path / "cmp" / "report.html").read_text()
    assert "<th>Δ C-index</th>" in html and "<th>ROC-AUC</th>" not in html


def test_mlflow_gets_every_survival_metric_with_its_interval():
    from toolkit.analysis.tracking import metric_values

    m = {"mean": 0.7, "ci_low": 0.6, "ci_high": 0.8}
    values = metric_values({"metrics": {"c_index": m, "uno_c": m, "ibs": m, "auc_at": {"7": m, "14": m}}})
    assert {"c_index", "uno_c_ci_low", "ibs_ci_high", "auc_at_7d", "auc_at_14d_ci_low"} <= set(values)
    assert values["auc_at_14d"] == 0.7


def test_the_bench_tables_c_index_delta_matches_the_full_paired_comparison():
    import numpy as np

    from toolkit.evaluation.time_to_return_compare import paired_c_index_draws, paired_time_to_return_draws

    rng = np.random.default_rng(5)
    n, times = 120, np.arange(9.0)
    time, event = rng.integers(0, 10, n).astype(float), rng.random(n) < 0.4
    risk_a, risk_b = rng.normal(size=(2, n)), rng.normal(size=(2, n))
    surv = np.tile(np.linspace(1, 0.5, 9), (2, n, 1))
    full = paired_time_to_return_draws(time, event, (risk_a, surv), (risk_b, surv), times, metric="c_index", n_boot=200,
                                 seed=3)
    quick = paired_c_index_draws(time, event, risk_a, risk_b, n_boot=200, seed=3)
    assert np.isclose(full[0], quick[0]) and np.allclose(full[1], quick[1])
    assert quick[1].std() > 0


def test_survival_predictions_csv_keeps_formula_ids_inert_and_paired_across_repeats(tmp_path):
    import numpy as np
    import pandas as pd

    from toolkit.experiment.record import PREDICTIONS_FILE, pivot_predictions, read_predictions
    from toolkit.experiment.run_folder import ResultsFolder

    ids = ["=HYPERLINK(\"x\")", "u2", "+1-1"]
    frame = pd.concat([pd.DataFrame({"user_id": ids, "time_bin": [0, 3, 5], "returned": [1, 0, 1], "repeat": r,
                                     "fold": [0, 1, 0], "risk": [0.1 + r, 0.2, 0.3], "p_return_by_7d": 0.5})
                       for r in (0, 1)])
    with ResultsFolder(tmp_path, "ttr") as out:
        out.write_time_to_return_predictions(frame)
    path = out.final / PREDICTIONS_FILE
    text = path.read_text()
    assert "\n=HYPERLINK" not in text and "\n+1-1" not in text
    oof = pivot_predictions(read_predictions(path, 2**20, "time_to_return"), path, "time_to_event")
    assert len(oof.user_ids) == 3 and oof.scores.shape == (2, 3) and oof.y.shape == (3, 2)
    assert sorted(oof.y[:, 0].tolist()) == [0, 3, 5] and not oof.predicted.any()
    np.testing.assert_allclose(sorted(oof.scores[1]), [0.2, 0.3, 1.1])


@pytest.mark.parametrize("returned, labelled", [(12, True), (49, True), (50, False), (300, False)])
def test_intervals_resting_on_few_returns_are_labelled_in_metrics_and_terminal(returned, labelled):
    from rich.console import Console

    from toolkit.console import time_to_return_metrics_table
    from toolkit.evaluation.caveats import annotate_time_to_return

    interval = {"mean": 0.7, "ci_low": 0.6, "ci_high": 0.8}
    result = {"data": {"time_to_return": {"returned": returned}},
              "metrics": {"c_index": interval, "uno_c": interval, "auc_at": {"7": interval}, "ibs": interval},
              "survival": {"tau_days": 7, "bins": 2}}
    from toolkit.evaluation.metrics import CORRECTED_METHOD

    annotate_time_to_return(result, corrected=True)
    assert result["intervals"]["method"] == CORRECTED_METHOD  # named however many returns there are
    assert ("note" in result["intervals"]) == labelled
    console = Console(width=200, record=True)
    console.print(time_to_return_metrics_table(result))
    shown = " ".join(console.export_text().split())  # the caption wraps
    words = f"{returned} returns: the intervals include the fitting's noise and are wide"
    assert (words in shown) == labelled
    if labelled:
        assert result["intervals"]["note"].startswith(words)
