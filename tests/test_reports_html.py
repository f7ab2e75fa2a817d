"""The HTML reports people read: run and explain pages, the eda survival view, and figures that read right."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from test_hostile_reports import SECRET, _active_markup
from toolkit.experiment.run_report import write_run_report

CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def test_a_run_folder_holds_its_report_page_with_the_runs_own_numbers(finished_run):
    folder, _ = finished_run
    page = (folder / "report.html").read_text(encoding="utf-8")
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert f"<td class=\"num\">{metrics['metrics']['roc_auc']['mean']:.3f}</td>" in page
    assert f"{metrics['baselines']['timing']['roc_auc']['mean']:.3f}" in page
    assert "<h2>Confound baselines</h2>" in page and "<h2>Cost</h2>" in page
    assert page.count("data:image/png;base64,") == 1  # coverage.png, the one figure a yes/no run writes
    assert _active_markup(page) == []


def test_the_run_page_escapes_what_came_from_the_data_and_embeds_only_its_figures(finished_run, tmp_path):
    folder, _ = finished_run
    result = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    (tmp_path / "secret.key").write_bytes(SECRET)
    out = tmp_path / "run"
    out.mkdir()
    (out / "coverage.png").write_bytes((folder / "coverage.png").read_bytes())
    (out / "survival_calibration.png").symlink_to(tmp_path / "secret.key")  # planted: never followed
    hostile = "<script>alert(1)</script> \x1b]0;pwned\x07 ![k](../secret.key)"
    result["data"]["label"] = hostile
    result["warnings"] = [f"warning: {hostile}"]
    result["name"] = "x<img src=x onerror=alert(1)>"
    page = write_run_report(out, result).read_text(encoding="utf-8")
    assert SECRET.decode() not in page and page.count("data:image/png;base64,") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert not CONTROLS.search(page.replace("\n", ""))
    assert _active_markup(page) == []


def test_explain_writes_its_page_beside_the_markdown(finished_run, tmp_path):
    from toolkit.analysis.explain import explain
    from toolkit.analysis.figures import BELOW_ZERO

    folder, _ = finished_run
    result = explain(folder, tmp_path / "explain", repeats=2)
    page = (tmp_path / "explain" / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(result["figures"]) == 3
    assert "<h2>Permutation importance</h2>" in page and BELOW_ZERO in page
    assert _active_markup(page) == []


def test_the_importance_chart_says_what_below_zero_means(tmp_path, monkeypatch):
    from toolkit.analysis import figures

    drawn = {}
    monkeypatch.setattr(figures, "save", lambda fig, path, within=None: drawn.setdefault("fig", fig) and path)
    rows = [{"name": "a", "mean": 0.05, "ci_low": 0.02, "ci_high": 0.08},
            {"name": "b", "mean": -0.03, "ci_low": -0.05, "ci_high": -0.01}]
    figures.interval_bars(rows, tmp_path / "i.png", title="t", xlabel="drop", note=figures.BELOW_ZERO)
    assert figures.BELOW_ZERO in drawn["fig"].axes[0].get_xlabel()


def test_the_correlation_figure_draws_no_interval_where_the_table_says_too_few(tmp_path, monkeypatch):
    from toolkit.analysis import figures
    from toolkit.analysis.eda import figures as eda_figures
    from toolkit.analysis.eda import stats

    def refuse(*args, **kwargs):
        raise AssertionError("intervals drawn for a table marked too few to read")

    monkeypatch.setattr(figures, "interval_bars", refuse)
    table = pd.DataFrame([{"column": "n_posts", "r": 0.4, "ci_low": 0.1, "ci_high": 0.7, "p_perm": 0.2,
                           "readable": False}])
    path = eda_figures.correlation_figure(table, tmp_path / "correlation.png")
    assert path.stat().st_size > 500 and stats.TOO_FEW  # a note figure, written


def _captured(monkeypatch, module):
    drawn = []
    monkeypatch.setattr(module, "save", lambda fig, path, within=None: drawn.append(fig) or path)
    return drawn


def test_kaplan_meier_by_group_is_panels_without_overlapping_bands(monkeypatch, tmp_path):
    from matplotlib.collections import PolyCollection

    from toolkit.analysis.eda import km
    from toolkit.data.time_to_return import TimeToReturn

    rng = np.random.default_rng(0)
    n, k = 600, 10
    t = rng.integers(0, k + 4, n)
    event = t < k
    at_risk = np.arange(k)[None, :] < np.where(event, t, k)[:, None]
    label = TimeToReturn(edges=np.arange(7, 8 + k), at_risk=at_risk, event_first=np.where(event, t, -1),
                         event_last=np.where(event, t, -1), censor_bin=np.where(event, -1, k - 1))
    group = np.array([f"topic {i}" for i in rng.integers(0, 12, n)])
    rows, fitted = km.group_rows(label, group, [3, 6])
    drawn = _captured(monkeypatch, km)
    km.km_figure(label, fitted["curves"], rows, tmp_path / "km.png", title="by topic")
    axes = [ax for ax in drawn[0].axes if ax.get_visible()]
    assert len(axes) == km.MAX_PANELS  # the largest groups, one panel each
    assert all(sum(isinstance(c, PolyCollection) for c in ax.collections) <= 1 for ax in axes)
    assert axes[-1].get_xlabel() == "days after the observation window"


def test_the_pareto_plot_names_dominated_points_and_its_ticks_never_overlap():
    from toolkit.bench.plots import pareto_figure

    rows = []
    for i, (cost, auc, front) in enumerate([(0.15, 0.63, True), (0.17, 0.70, True), (0.41, 0.71, True),
                                            (0.30, 0.60, False), (0.35, 0.55, False)]):
        rows.append({"status": "done", "kind": "config", "roc_auc": auc, "roc_auc_ci_low": auc - 0.1,
                     "roc_auc_ci_high": auc + 0.1, "total_cost_s": cost, "pareto": front, "label": f"config {i}"})
    fig = pareto_figure(rows)
    ax = fig.axes[0]
    named = {t.get_text() for t in ax.texts}
    assert {"config 3", "config 4"} <= named  # dominated points are named too
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # the figure comes closed in pyplot: give it a canvas to lay out on
    canvas.draw()
    renderer = canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels(minor=False) + ax.get_xticklabels(minor=True)
              if t.get_text() and t.get_visible()]
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
    assert len(boxes) >= 2 and all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:]))
    assert not any("10^" in t.get_text() or "times" in t.get_text() for t in labels)


def test_the_comparison_page_shows_the_baseline_columns_the_terminal_shows(tmp_path):
    from toolkit.bench.html import write_report
    from toolkit.bench.table import ROW_KEYS

    row = dict.fromkeys(ROW_KEYS)
    row.update(config_id="c00", label="tfidf", kind="config", status="done", reason="", is_baseline=True,
               pareto=True, roc_auc=0.7, roc_auc_ci_low=0.6, roc_auc_ci_high=0.8, timing_roc_auc=0.552,
               exposure_roc_auc=0.661, total_cost_s=1.0)
    page = write_report([row], ["header"], {}, tmp_path).read_text(encoding="utf-8")
    assert "<th>timing AUC</th>" in page and "<th>exposure AUC</th>" in page
    assert "<td>0.552</td>" in page and "<td>0.661</td>" in page


def _independent_information(x, beta, time, event):
    """Minus the second derivative of Breslow's partial log-likelihood, by central differences."""
    def pl(b):
        out = 0.0
        for k in np.unique(time[event]):
            risk = time >= k
            d = event & (time == k)
            out += b * x[d].sum() - d.sum() * np.log(np.exp(b * x[risk]).sum())
        return out
    h = 1e-4
    return -(pl(beta + h) - 2 * pl(beta) + pl(beta - h)) / h ** 2


def test_the_univariate_cox_ratio_and_its_interval_match_an_independent_fit():
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.util import Surv

    from toolkit.analysis.eda.hazard import univariate_cox

    rng = np.random.default_rng(1)
    n, k = 400, 10
    x = rng.normal(size=n)
    t = np.minimum(rng.geometric(0.05 * np.exp(0.5 * x)) - 1, k)
    event = t < k
    at_risk = np.arange(k)[None, :] < np.where(event, t, k)[:, None]
    targets = np.concatenate([at_risk, (np.arange(k)[None, :] == t[:, None]) & event[:, None]], axis=1)
    fit = univariate_cox(x, targets.astype(float))
    xs = (x - x.mean()) / x.std()
    time = np.where(event, t, k - 1)
    reference = CoxPHSurvivalAnalysis(ties="breslow").fit(xs[:, None], Surv.from_arrays(event, time))
    assert fit["beta"] == pytest.approx(float(reference.coef_[0]), abs=1e-4)
    se = 1 / np.sqrt(_independent_information(xs, fit["beta"], time, event))
    assert fit["se"] == pytest.approx(se, rel=1e-3)
    assert fit["ci_low"] < fit["hr"] < fit["ci_high"] and fit["p"] < 0.01


@pytest.fixture(scope="module")
def time_to_return_eda(tmp_path_factory):
    from toolkit.analysis.eda import run_eda
    from toolkit.experiment.spec import apply_override

    folder = tmp_path_factory.mktemp("eda-survival")
    raw = yaml.safe_load((Path(__file__).parent.parent / "experiments" / "time_to_return.yaml").read_text())
    apply_override(raw, "data.synthetic.users=400")
    spec = folder / "time_to_return.yaml"
    spec.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return run_eda(spec, results_dir=folder / "r", n_topics=3)


def test_eda_on_a_time_to_return_spec_counts_what_its_survival_section_reads(time_to_return_eda):
    from toolkit.analysis.eda.stats import TOO_FEW

    out, result = time_to_return_eda
    c, ttr = result["counts"], result["time_to_return"]["counts"]
    assert (c["labelled"], c["positives"]) == (ttr["in_analysis"], ttr["returned"]) and ttr["returned"] > 10
    markdown = (out / "report.md").read_text(encoding="utf-8")
    counts_row = markdown.split("## Counts", 1)[1].split("\n")[4]
    assert f"| {ttr['in_analysis']} | {ttr['returned']} |" in counts_row
    assert TOO_FEW not in markdown and "Pearson" not in markdown and "correlations" not in result
    assert "## Behavior and returning" in markdown and "hazard ratio per SD" in markdown
    columns = [h["column"] for h in result["hazard_ratios"]]
    assert len(columns) > 10 and all(h["ci_low"] <= h["hr"] <= h["ci_high"] for h in result["hazard_ratios"])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(result["figures"]) and "hazard_ratios" in result["figures"]
    assert "retention_by_day" not in result["figures"]
