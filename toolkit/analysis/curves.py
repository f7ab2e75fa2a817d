"""Calibration, ROC and PR of a run's out-of-fold scores, with the operating point the run chose.

The scores are the run's own out-of-fold predictions (``predictions.csv``, first
repeat): every user scored by a model that never saw them. The operating point
is the one the hard predictions in that file sit at (each fold applied the
threshold it chose on its own validation data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.analysis.figures import pyplot, save


def out_of_fold(folder: Path) -> pd.DataFrame:
    """The first repeat's rows of a run's out-of-fold predictions (checked as every reader checks them)."""
    from toolkit.experiment.record import RunRecord

    table = RunRecord.open(folder).predictions
    return table[table["repeat"] == table["repeat"].min()]


def calibration(y: np.ndarray, scores: np.ndarray, *, bins: int = 10) -> dict:
    """Brier score and the reliability curve (quantile bins: each bin holds as many users)."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    observed, predicted = calibration_curve(y, scores, n_bins=bins, strategy="quantile")
    return {"brier": float(brier_score_loss(y, scores)), "base_rate_brier": float(np.mean(y) * (1 - np.mean(y))),
            "bins": [{"mean_score": float(p), "observed_rate": float(o)} for p, o in zip(predicted, observed)]}


def operating_point(y: np.ndarray, predicted: np.ndarray) -> dict:
    y, predicted = np.asarray(y).astype(bool), np.asarray(predicted).astype(bool)
    tp, fp = int((y & predicted).sum()), int((~y & predicted).sum())
    return {"recall": tp / max(int(y.sum()), 1), "fpr": fp / max(int((~y).sum()), 1),
            "precision": tp / (tp + fp) if tp + fp else 0.0, "flagged": int(predicted.sum())}


def curves_figures(y, scores, predicted, out: Path) -> dict[str, Path]:
    """reliability.png and roc_pr.png."""
    from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve, average_precision_score

    plt = pyplot()
    cal = calibration(y, scores)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8, label="perfectly calibrated")
    ax.plot([b["mean_score"] for b in cal["bins"]], [b["observed_rate"] for b in cal["bins"]], marker="o",
            label=f"out-of-fold (Brier {cal['brier']:.3f})")
    ax.set_xlabel("mean score in bin")
    ax.set_ylabel("share retained in bin")
    ax.set_title("Reliability (10 quantile bins)")
    ax.legend(fontsize=8)
    paths = {"reliability": save(fig, out / "reliability.png")}

    point = operating_point(y, predicted)
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(9, 4))
    fpr, tpr, _ = roc_curve(y, scores)
    roc_ax.plot(fpr, tpr, label=f"ROC-AUC {roc_auc_score(y, scores):.3f}")
    roc_ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
    roc_ax.plot(point["fpr"], point["recall"], "o", color="crimson", label="chosen threshold")
    roc_ax.set_xlabel("false positive rate")
    roc_ax.set_ylabel("recall (true positive rate)")
    precision, recall, _ = precision_recall_curve(y, scores)
    pr_ax.plot(recall, precision, label=f"PR-AUC {average_precision_score(y, scores):.3f}")
    pr_ax.axhline(np.mean(y), color="grey", linestyle="--", linewidth=0.8, label="base rate")
    pr_ax.plot(point["recall"], point["precision"], "o", color="crimson", label="chosen threshold")
    pr_ax.set_xlabel("recall")
    pr_ax.set_ylabel("precision")
    for ax in (roc_ax, pr_ax):
        ax.legend(fontsize=8)
    paths["roc_pr"] = save(fig, out / "roc_pr.png")
    return paths
