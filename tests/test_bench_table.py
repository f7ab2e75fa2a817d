"""The comparison table, its files, plots and HTML report, from real small run folders."""

import base64
import csv
import html
import json
import math
import re
import shutil
from types import SimpleNamespace

import pandas as pd
import pytest
from rich.console import Console
from sklearn.metrics import average_precision_score, roc_auc_score

from browser import needs_chromium, scroll_width
from specs import spec_dict
from toolkit.bench import plots
from toolkit.bench.html import write_report
from toolkit.bench.records import ConfigResult
from toolkit.bench.table import (ORACLE_LABEL, ROW_KEYS, build_rows, header_lines, load_scores, mark_pareto,
                                 rich_table, write_tables)
from toolkit.experiment.runner import run
from toolkit.experiment.spec import parse_spec
from toolkit.sanitize import for_markdown_cell

PNG = b"\x89PNG\r\n\x1a\n"
SCRIPT_LABEL = "<script>alert('x')</script> C=0.01"
SKIP_REASON = "needs the [distilbert] extra: pip install 'retention-toolkit[distilbert]'"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """Three finished runs on the same users and folds (same seed), a skipped and a failed configuration."""
    tmp = tmp_path_factory.mktemp("bench")

    def done(config_id, label, *, baseline=False, **changes):
        spec = parse_spec(spec_dict(name=config_id, **changes))
        outcome = run(spec, results_dir=tmp / "results", cache_dir=str(tmp / "cache"))
        return ConfigResult(config_id, label, "done", folder=outcome.folder, is_baseline=baseline)

    results = [
        done("c01", "tfidf+behavior | logreg", baseline=True),
        # three TF-IDF terms and no behavior: far weaker than the baseline on the synthetic data
        done("c02", "tfidf-3 | logreg", featurizers=[{"type": "tfidf", "max_features": 3}]),
        done("c03", SCRIPT_LABEL, head={"type": "logreg", "C": 0.01}),
        ConfigResult("c04", "distilbert | mlp", "skipped", reason=SKIP_REASON),
        ConfigResult("c05", "fasttext | lstm", "failed", reason="ToolkitError: out of memory"),
    ]
    rows = build_rows(results, n_boot=200)
    header = header_lines(results)
    out = tmp / "out"
    tables = write_tables(rows, out, header)
    by_id = {r["config_id"]: r for r in rows}
    front = [r for r in results if r.status == "done" and by_id[r.config_id]["pareto"]]
    figures = {"ROC-AUC vs cost": plots.pareto_plot(rows, out / "pareto.png"),
               "ROC and PR curves": plots.curves_plot(front, out / "curves.png"),
               "cost": plots.cost_plot(rows, out / "cost.png")}
    report = write_report(rows, header, figures, out)
    return SimpleNamespace(tmp=tmp, results=results, rows=rows, by_id=by_id, header=header, tables=tables,
                           figures=figures, report=report)


def test_load_scores_sorts_users_and_keeps_every_repeat(bench):
    ids, y, scores = load_scores(bench.results[0].folder)
    preds = pd.read_csv(bench.results[0].folder / "predictions.csv", dtype={"user_id": str})
    assert list(ids) == sorted(preds["user_id"].unique())
    assert scores.shape == (preds["repeat"].nunique(), len(ids))
    assert y.sum() == bench.results[0].metrics["data"]["positives"]


def test_baseline_delta_is_exactly_zero(bench):
    base = bench.by_id["c01"]
    for m in ("roc_auc", "pr_auc"):
        assert base[f"delta_{m}"] == 0.0
        assert base[f"delta_{m}_ci_low"] == base[f"delta_{m}_ci_high"] == 0.0
        assert base[f"delta_{m}_significant"] is False


def test_clearly_worse_configuration_has_a_negative_delta(bench):
    worse = bench.by_id["c02"]
    assert worse["delta_roc_auc"] < 0
    # the interval is the corrected t over 3 test folds (the user bootstrap it replaced starred null
    # configurations four times too often); with 2 degrees of freedom it is wide, so no star is promised here
    assert worse["delta_roc_auc_ci_low"] < worse["delta_roc_auc"] < worse["delta_roc_auc_ci_high"]
    assert 0 < worse["delta_roc_auc_p"] <= 1 and worse["delta_roc_auc_p_holm"] >= worse["delta_roc_auc_p"]
    assert worse["roc_auc"] == pytest.approx(bench.by_id["c01"]["roc_auc"] + worse["delta_roc_auc"], abs=1e-12)


def test_delta_is_left_empty_with_a_note_when_users_differ_or_no_baseline(bench, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(bench.results[1].folder, other)
    preds = pd.read_csv(other / "predictions.csv", dtype={"user_id": str})
    preds.iloc[5:].to_csv(other / "predictions.csv", index=False)
    rows = build_rows([bench.results[0], ConfigResult("x", "fewer users", "done", folder=other)], n_boot=50)
    assert rows[1]["delta_roc_auc"] is None and "users differ" in rows[1]["delta_note"]
    rows = build_rows([bench.results[1]], n_boot=50)
    assert rows[0]["delta_roc_auc"] is None and rows[0]["delta_note"] == "no baseline marked"


def test_a_baselines_map_gives_each_configuration_its_own_baseline(bench):
    rows = build_rows(bench.results, baselines={"c01": "c01", "c02": "c03", "c03": None, "c04": None, "c05": "c04"},
                      n_boot=50)
    by_id = {r["config_id"]: r for r in rows}
    assert by_id["c01"]["delta_roc_auc"] == 0.0
    assert by_id["c02"]["delta_roc_auc"] == pytest.approx(by_id["c02"]["roc_auc"] - by_id["c03"]["roc_auc"], abs=1e-12)
    assert by_id["c03"]["delta_roc_auc"] is None and by_id["c03"]["delta_note"] == "no baseline for this configuration"
    rows = build_rows(bench.results[:2] + bench.results[3:4], baselines={"c02": "c04"}, n_boot=50)
    assert rows[0]["delta_roc_auc"] == 0.0  # not in the map: the result marked is_baseline
    assert rows[1]["delta_roc_auc"] is None and rows[1]["delta_note"] == "baseline distilbert | mlp skipped"


def test_pareto_flags_on_hand_made_rows():
    def row(auc, cost, status="done"):
        return {"status": status, "kind": "config", "roc_auc": auc, "total_cost_s": cost}

    rows = mark_pareto([row(0.80, 1.0), row(0.75, 2.0), row(0.85, 10.0), row(0.70, 0.5), row(0.80, 1.0),
                        row(0.90, 0.1, "skipped"), row(math.nan, 0.1), row(0.80, 3.0)])
    assert [r["pareto"] for r in rows] == [True, False, True, True, True, False, False, False]
    assert mark_pareto([row(0.6, 5.0)])[0]["pareto"] is True


def test_rows_have_every_key_and_skipped_rows_keep_their_reason(bench):
    assert all(list(r) == list(ROW_KEYS) for r in bench.rows)
    assert [r["config_id"] for r in bench.rows] == ["c01", "c02", "c03", "c04", "c05", "oracle"]
    skipped = bench.by_id["c04"]
    assert skipped["status"] == "skipped" and skipped["reason"] == SKIP_REASON
    assert skipped["roc_auc"] is None and skipped["total_cost_s"] is None and skipped["pareto"] is False
    assert bench.by_id["c05"]["status"] == "failed"


def test_tables_contain_every_configuration_and_the_reasons(bench):
    with bench.tables["csv"].open() as f:
        csv_rows = list(csv.DictReader(f))
    assert [r["config_id"] for r in csv_rows] == [r["config_id"] for r in bench.rows]
    assert {"roc_auc_ci_low", "delta_pr_auc_significant", "total_cost_s", "pareto"} <= set(csv_rows[0])
    data = json.loads(bench.tables["json"].read_text())
    assert data["header"] == bench.header and len(data["rows"]) == len(bench.rows)
    assert data["rows"][3]["reason"] == SKIP_REASON
    md = bench.tables["md"].read_text()
    assert md.startswith(bench.header[0])
    for r in bench.results:
        # a bare "|" would split the cell; "<", "[" or "!" from a label must not start Markdown or HTML
        assert for_markdown_cell(r.label) in md
        assert r.label in {c["label"] for c in csv_rows}
    assert for_markdown_cell(SKIP_REASON) in md and csv_rows[3]["reason"] == SKIP_REASON
    assert html.escape(SKIP_REASON) in bench.report.read_text()


def test_header_states_positive_rate_and_threshold_rule(bench):
    data = bench.results[0].metrics["data"]
    assert f"{data['positives'] / data['labelled']:.2%}" in bench.header[0]
    assert bench.results[0].metrics["threshold"]["rule"] in bench.header[1]


def test_oracle_row_matches_sklearn_on_the_truth(bench):
    oracle = bench.rows[-1]
    assert oracle["label"] == ORACLE_LABEL and oracle["pareto"] is False
    source = bench.results[0].metrics["data"]["source"]
    truth = pd.read_csv(source[: -len(".csv")] + ".truth.csv", dtype={"user_id": str}, encoding="utf-8-sig")
    preds = pd.read_csv(bench.results[0].folder / "predictions.csv", dtype={"user_id": str})
    users = preds[preds["repeat"] == 0].merge(truth, on="user_id")
    assert len(users) == len(preds[preds["repeat"] == 0])
    assert oracle["roc_auc"] == pytest.approx(roc_auc_score(users["label"], users["p_retained"]), abs=1e-12)
    assert oracle["pr_auc"] == pytest.approx(average_precision_score(users["label"], users["p_retained"]), abs=1e-12)
    assert oracle["roc_auc_ci_low"] <= oracle["roc_auc"] <= oracle["roc_auc_ci_high"]


def test_report_embeds_the_images_and_escapes_labels(bench):
    text = bench.report.read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 3 and all(base64.b64decode(i).startswith(PNG) for i in images)
    assert "<script>" not in text and html.escape(SCRIPT_LABEL) in text
    assert "Generated at" in text


def test_plots_are_png_also_for_one_configuration_and_for_skipped_only(bench, tmp_path):
    assert all(p.read_bytes().startswith(PNG) for p in bench.figures.values())
    one = build_rows(bench.results[:1], n_boot=50)
    skipped = build_rows(bench.results[3:])
    for name, rows, front in (("one", one, bench.results[:1]), ("none", skipped, [])):
        paths = [plots.pareto_plot(rows, tmp_path / f"{name}-pareto.png"),
                 plots.curves_plot(front, tmp_path / f"{name}-curves.png"),
                 plots.cost_plot(rows, tmp_path / f"{name}-cost.png")]
        assert all(p.read_bytes().startswith(PNG) for p in paths)


def test_rich_table_shows_intervals_front_and_dimmed_reasons(bench):
    console = Console(record=True, width=400)
    console.print(rich_table(bench.rows, bench.header))
    text = console.export_text()
    assert re.search(r"0\.\d{3} \[0\.\d\d, 0\.\d\d\]", text)  # brackets kept, not eaten as markup
    assert "◆" in text and "skipped" in text and "-0." in text and "*" in text
    assert text.index("Positive rate") < text.index("ROC-AUC")  # the header is stated above the table


@needs_chromium
def test_report_fits_a_laptop_screen(bench):
    assert scroll_width(bench.report) <= 1366


def test_report_puts_reasons_in_footnotes_and_cost_in_a_second_table(bench):
    text = bench.report.read_text()
    assert text.count(html.escape(SKIP_REASON)) == 1  # once, as a note, not in a wide column
    assert "skipped, see note" in text and "<h2>Cost</h2>" in text
    assert text.index("<th>frozen params</th>") > text.index("<h2>Cost</h2>")


def test_cache_column_counts_rows_read_back_from_the_row_cache():
    from toolkit.bench.table import _cache_cell

    rows = {"distilbert": {"computed": 0, "from_cache": 3000, "texts_embedded": 0, "seconds": 0.0}}
    assert _cache_cell({"cache": {"hits": 6, "lookups": 12}, "rows": rows}) == "hit 6/12, rows 3000/3000"
    assert _cache_cell({"cache": {"enabled": False}}) is None


def test_the_gap_to_the_oracle_is_the_oracles_roc_auc_less_the_rows():
    from toolkit.bench.table import ROW_KEYS, cells, set_oracle_gaps

    def row(config_id, status, auc):
        r = dict.fromkeys(ROW_KEYS)
        r.update(config_id=config_id, label=config_id, status=status, roc_auc=auc, is_baseline=False, reason="")
        return r

    rows = [row("a", "done", 0.78), row("b", "failed", None), row("c", "done", 0.70)]
    set_oracle_gaps(rows, {"roc_auc": 0.85})
    assert rows[0]["oracle_gap_roc_auc"] == pytest.approx(0.07)
    assert rows[2]["oracle_gap_roc_auc"] == pytest.approx(0.15)
    assert rows[1]["oracle_gap_roc_auc"] is None
    assert cells(rows[2], ["gap to oracle"]) == ["0.150"]
    untouched = [row("a", "done", 0.78)]
    set_oracle_gaps(untouched, {"roc_auc": None})  # a task without an oracle score leaves the cell empty
    assert untouched[0]["oracle_gap_roc_auc"] is None
