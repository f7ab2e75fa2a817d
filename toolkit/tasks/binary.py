"""The yes/no task: is the user still active in the label window (``label.retained_if``)?

The reference study's task. Every featurizer is fitted inside each training fold only; the
head's threshold is chosen on the validation part of the training fold, never on test rows;
all metrics come from the out-of-fold scores (with ``evaluation.split``, from the test part's
scores): ROC-AUC, PR-AUC, recall and precision at the threshold, each with its interval, the
confound baselines (timing, exposure) on the same folds, calibration, and (below 50 positives
or with ``evaluation.permutations``) the label-permutation test.

A yes/no label built another way (returned within a few days, posted at least N times) is a
subclass that overrides :meth:`BinaryTask.label_users` (and :meth:`BinaryTask.check_spec`);
everything else (folds, metrics, tables, ``explain``, ``predict``) it inherits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.heads.base import kept_start
from toolkit._version import __version__
from toolkit.analysis.eda.report import render
from toolkit.analysis.eda.run import binary_view
from toolkit.analysis.explain import explain_binary
from toolkit.analysis.predict import binary_scores
from toolkit.console import binary_baselines_table, binary_header, binary_metrics_table
from toolkit.cost import Cost, encoder_footprint, folder_bytes, peak_rss_mb
from toolkit.data.coverage_chart import text_chart
from toolkit.data.posts import LoadReport, load_posts
from toolkit.data.users import DataReport, build_users
from toolkit.environment import environment_record
from toolkit.errors import ToolkitError
from toolkit.evaluation.baselines import baselines, calendar_warning
from toolkit.evaluation.calibration import calibration_info, calibration_metrics, is_calibrated
from toolkit.evaluation.caveats import annotate
from toolkit.evaluation.folds import Fold, check_positives, make_folds
from toolkit.evaluation.metrics import (METRIC_NAMES, fold_delta_values, fold_ids, paired_delta_draws, point_metrics,
                                        summarize)
from toolkit.experiment.featurize import Featurized, FeatureStore, featurize
from toolkit.experiment.fit import fit_head
from toolkit.experiment.inputs import data_path, effective_label
from toolkit.experiment.permutation import permutation_test
from toolkit.experiment.record import FORMAT_VERSION, featurizer_file, model_info, write_model_info
from toolkit.experiment.run_report import binary_report_lines
from toolkit.experiment.spec import Spec
from toolkit.features.blocks import Block
from toolkit.interrupts import check_stop
from toolkit.progress import Progress
from toolkit.registry import register_task
from toolkit.tasks.base import Task


@dataclass
class Prepared:
    """The labelled users of a spec, ready for folds."""

    users: pd.DataFrame
    y: np.ndarray
    report: DataReport
    load: LoadReport
    source: str
    truth: np.ndarray | None = None  # synthetic data only: each user's true retention probability
    ceiling: np.ndarray | None = None  # synthetic data only: the same without the noise the file cannot show


@dataclass
class CrossValidation:
    """Out-of-fold scores and what producing them cost."""

    folds: list[Fold]
    scores: np.ndarray  # (repeats, users); nan where a user was not scored (outside a split's test part)
    preds: np.ndarray  # (repeats, users) 0/1 at each fold's threshold
    per_fold: list[dict] = field(default_factory=list)
    featurize_s: dict[str, float] = field(default_factory=dict)  # summed over folds
    train_s: float = 0.0  # summed over folds
    cache_hits: int = 0

    @property
    def scored(self) -> np.ndarray:
        """Users with a score in every repeat (all of them under cv; the test part under a split)."""
        return ~np.isnan(self.scores).any(axis=0)


@dataclass
class FinalModel:
    cost: Cost
    threshold: float
    cache_hits: int
    flagged: float = float("nan")  # share of the labelled users the final model flags at its threshold
    calibrated: bool = False


def cross_validate(spec: Spec, prepared: Prepared, store: FeatureStore, *, fold_seed: int,
                   progress: Progress) -> CrossValidation:
    """Featurize, train and score every fold; the folds are drawn with ``fold_seed``."""
    y = prepared.y
    folds = make_folds(y, spec.evaluation, fold_seed)
    store.folds = len(folds)
    repeats = spec.evaluation.repeats
    cv = CrossValidation(folds, np.full((repeats, len(y)), np.nan), np.zeros((repeats, len(y)), dtype=np.int8),
                         featurize_s=dict.fromkeys(spec.block_names(), 0.0))
    progress.start("folds", len(folds))
    for fold in folds:
        check_stop()  # a SIGTERM swallowed during the last fold stops the run here
        progress.start("featurize", len(spec.featurizers))
        feats = featurize(spec, prepared.users, fold.train, [fold.test], store, progress=progress)
        progress.start("epochs", spec.training.epochs)
        head, threshold, seconds, fell_back = fit_head(spec, feats.train, y[fold.train], on_epoch=progress.epoch)
        _score_fold(cv, fold, feats, head, threshold, y)
        cv.per_fold[-1]["threshold_fallback"] = fell_back
        cv.train_s += seconds
        cv.cache_hits += feats.cache_hits
        for name, s in feats.seconds.items():
            cv.featurize_s[name] += s
        progress.advance("folds")
        last = cv.per_fold[-1]
        progress.log(f"fold {fold.repeat}.{fold.fold}: roc_auc {last['roc_auc']:.3f}, pr_auc {last['pr_auc']:.3f}")
    return cv


def _score_fold(cv: CrossValidation, fold: Fold, feats: Featurized, head, threshold: float, y: np.ndarray) -> None:
    s = head.predict(feats.others[0])
    cv.scores[fold.repeat, fold.test] = s
    cv.preds[fold.repeat, fold.test] = s >= threshold
    yt = y[fold.test]
    cv.per_fold.append({"repeat": fold.repeat, "fold": fold.fold, "test_users": len(fold.test),
                        "positives": int(yt.sum()), "threshold": float(threshold), "calibrated": is_calibrated(head),
                        "epochs": int(getattr(head, "epochs_run_", 1)),
                        **kept_start(head),
                        **point_metrics(yt, s, (s >= threshold).astype(int))})


def final_model(spec: Spec, prepared: Prepared, store: FeatureStore, folder: Path | None) -> FinalModel:
    """Train on all labelled users, save the model, and measure inference, size, params and FLOPs."""
    users, y = prepared.users, prepared.y
    all_rows = np.arange(len(y))
    feats = featurize(spec, users, all_rows, [], store, need_fitted=True)
    head, threshold, _, _ = fit_head(spec, feats.train, y)
    flagged = float(np.mean(head.predict(feats.train) >= threshold))

    names = spec.block_names()
    infer_ms = _infer_ms_per_1k(users, names, feats.featurizers, head, store)
    frozen, weights = encoder_footprint(feats.featurizers)
    cost = Cost(infer_ms_per_1k=infer_ms, params=head.count_params(), frozen_params=frozen, weights_bytes=weights,
                flops_per_user=float(sum(f.flops_per_user() for f in feats.featurizers) + head.flops_per_user()))
    if folder is not None:
        _save_model(folder, spec, names, feats.featurizers, head, threshold)
        cost.model_bytes = folder_bytes(folder)
    cost.peak_rss_mb = peak_rss_mb()
    return FinalModel(cost, threshold, feats.cache_hits, flagged, is_calibrated(head))


def _infer_ms_per_1k(users, names: list[str], featurizers, head, store: FeatureStore) -> float:
    """Milliseconds to featurize and score 1,000 users with the final model.

    A frozen encoder's share is not embedded again: it is 1,000 x the seconds per text its
    rows took (measured this run, or recorded in the row cache when they were computed), and
    the head is timed on those users' rows as embedded. The other featurizers and the head
    are timed on 1,000 users, warm (graph tracing for the batch shape happens before the timer).
    """
    picked = np.resize(np.arange(len(users)), 1000)  # 1,000 users, repeating rows when there are fewer
    sample = users.iloc[picked]
    frozen_ms = 0.0
    given: dict[str, np.ndarray] = {}
    for name, feat in zip(names, featurizers):
        if getattr(feat, "stateless", False) and name in store.row_stats:
            given[name] = store.all_rows(name, feat, users)[picked]
            frozen_ms += store.row_stats[name].seconds_per_text * 1000.0 * 1000.0

    def predict_sample():
        head.predict([Block(n, f.output_kind(), given[n] if n in given else f.transform(sample))
                      for n, f in zip(names, featurizers)])

    predict_sample()
    start = time.perf_counter()
    predict_sample()
    return (time.perf_counter() - start) * 1000.0 + frozen_ms


def _save_model(folder: Path, spec: Spec, names: list[str], featurizers, head, threshold: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, f in zip(names, featurizers):
        f.save(folder / featurizer_file(n))
    head.save(folder / head.filename)
    # the hashes let predict and explain refuse files changed after this run saved them
    info = model_info(names, spec.head[0], head.filename, threshold, folder)
    write_model_info(folder, {**info, "calibration": calibration_info(head)})


def record(spec: Spec, prepared: Prepared, cv: CrossValidation, final: FinalModel, store: FeatureStore,
           task: str = "binary") -> dict:
    """The run's ``metrics.json``: data counts, metrics with intervals, baselines, thresholds, cost, environment."""
    ev, report, load = spec.evaluation, prepared.report, prepared.load
    scored = cv.scored
    y = prepared.y[scored]
    metrics = summarize(y, cv.scores[:, scored], cv.preds[:, scored], n_boot=ev.bootstrap, confidence=ev.confidence,
                        seed=spec.seed, fold_of=fold_ids(cv.folds, len(prepared.y), cv.scores.shape[0], scored))
    metrics.update(calibration_metrics(y, cv.scores[:, scored], n_boot=ev.bootstrap, confidence=ev.confidence,
                                       seed=spec.seed))
    final.cost.featurize_s = {n: s / len(cv.folds) for n, s in cv.featurize_s.items()}
    final.cost.train_s = cv.train_s / len(cv.folds)
    result = {
        "name": spec.name,
        "format_version": FORMAT_VERSION,
        "toolkit_version": __version__,
        "spec_sha256": spec.sha256(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "task": task,
        "data": {**report.to_dict(), "labelled": report.labelled, "source": prepared.source,
                 "rows_read": load.rows_read, "rows_skipped": load.rows_skipped},
        "evaluation": ev.describe(),
        "confidence": ev.confidence,
        "metrics": metrics,
        "fold_roc_auc": fold_mean(cv.per_fold, "roc_auc"),
        "baselines": baselines(prepared.users, prepared.y, cv.folds, cv.scores, scored, ev, spec.seed),
        "threshold": {"rule": ev.threshold, "mean": float(np.mean([f["threshold"] for f in cv.per_fold])),
                      "final_model": float(final.threshold),
                      "fallbacks": int(sum(f.get("threshold_fallback", False) for f in cv.per_fold)),
                      "min_validation_positives": ev.min_validation_positives,
                      "flagged": {"out_of_fold": float(cv.preds[:, scored].mean()), "final_model": final.flagged}},
        "calibration": {"method": spec.training.calibrate, "calibrated": final.calibrated and all(
            f["calibrated"] for f in cv.per_fold)},
        "folds": cv.per_fold,
        "cost": final.cost.to_dict(),
        "cache": {"enabled": store.cache is not None, "hits": cv.cache_hits + final.cache_hits,
                  "lookups": (len(cv.folds) + 1) * len(spec.featurizers) if store.cache is not None else 0},
        "environment": environment_record(spec.seed),
    }
    annotate(result)
    result["warnings"] = list(report.warnings) + [w for w in [calendar_warning(result["baselines"])] if w]
    if store.row_stats:  # stateless featurizers: rows embedded once per run, or read back by content
        result["rows"] = {name: stats.to_dict() for name, stats in store.row_stats.items()}
    for key, truth in (("oracle", prepared.truth), ("ceiling", prepared.ceiling)):
        if truth is not None:
            oracle = summarize(y, truth[scored][None, :], cv.preds[:1, scored], n_boot=ev.bootstrap,
                               confidence=ev.confidence, seed=spec.seed)
            result[key] = {k: oracle[k] for k in ("roc_auc", "pr_auc")}
    return result


def fold_mean(per_fold: list[dict], metric: str) -> dict:
    """A metric's mean and spread over the folds' own values, beside the pooled out-of-fold one."""
    values = np.array([f[metric] for f in per_fold], dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return {"mean": float("nan"), "sd": float("nan"), "folds": 0}
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "folds": int(len(values))}


def _log_data(progress: Progress, prepared: Prepared) -> None:
    report = prepared.report
    progress.log(f"data: {prepared.load.summary()}")
    progress.log(f"label: {report.label}")
    progress.log(f"users: {report.users} in file, {report.in_cohort} in cohort, {report.censored} censored by "
                 f"data_end, {report.censored_by_coverage} by crawl coverage, {report.not_yet_active} not yet active, "
                 f"{report.positives} positive ({report.positive_rate:.2%})")
    progress.log(report.arrival_text())
    for line in text_chart(report.volume, report.windows):
        progress.log(line)
    for warning in report.warnings:
        progress.log(f"warning: {warning}")


@register_task("binary")
class BinaryTask(Task):
    """Yes/no: ``label.retained_if`` (the default task of a spec with that label)."""

    target = "binary"
    label_form = "retained_if"
    metrics = ("roc_auc", "pr_auc", "recall", "precision")
    second_metric = "pr_auc"
    delta_metrics = ("roc_auc", "pr_auc")
    baseline_metrics = ("roc_auc", "pr_auc")
    has_threshold = True
    oracle_row = True
    positives_word = "positives"
    prediction_columns = ("user_id", "label", "repeat", "fold", "score", "predicted")
    whole_columns = ("label", "repeat", "fold", "predicted")
    score_column = "score"
    label_columns = ("label",)
    titles = {"headline": "ROC-AUC", "second": "PR-AUC", "delta": "model Δ ROC-AUC",
              "baseline_model": "logistic regression"}

    def check_spec(self, spec: Spec) -> None:
        if spec.label.retained_if is None:
            raise ToolkitError(f"task {self.registry_name!r} learns a yes/no label: the spec needs "
                               "label.retained_if (a window in which a retained user posts).")

    def label_users(self, spec: Spec, posts: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, DataReport]:
        """The users in the analysis, their 0/1 target and the data report (override for another yes/no label)."""
        return build_users(posts, effective_label(spec), timezone=spec.data.timezone, local_time=spec.data.local_time,
                           ip_zones=spec.data.ip_zones)

    def synthetic_truth(self, path: Path, users: pd.DataFrame):
        """Synthetic data only: each user's true chance of the target, and the same without noise.

        The generator knows the truth of ``retained_if`` only: a subclass with another label gets none.
        """
        if type(self).label_users is not BinaryTask.label_users:
            return None, None
        from toolkit.data.synth import read_truth  # the generator is only needed for synthetic data

        return read_truth(path, users["user_id"], ("p_retained", "p_noise_free"))

    def prepare(self, spec: Spec, *, cache_dir: str | None = None) -> Prepared:
        """Load the posts, build users and labels, and check there are enough positives per fold."""
        path = data_path(spec, cache_dir)
        posts, load = load_posts(path, **spec.data.load_options())
        users, y, report = self.label_users(spec, posts)
        check_positives(y, spec.evaluation, counts=report.counts_text())
        for featurizer in spec.build_featurizers():
            featurizer.check_available()
        prepared = Prepared(users, y, report, load, str(path))
        if spec.data.synthetic is not None:
            prepared.truth, prepared.ceiling = self.synthetic_truth(path, users)
        return prepared

    def log_data(self, progress: Progress, prepared: Prepared) -> None:
        _log_data(progress, prepared)

    def cross_validate(self, spec: Spec, prepared: Prepared, store: FeatureStore, *, fold_seed: int,
                       progress: Progress) -> CrossValidation:
        return cross_validate(spec, prepared, store, fold_seed=fold_seed, progress=progress)

    def permutation(self, spec, prepared, store, cv, *, fold_seed: int, progress, loop_seconds: float):
        return permutation_test(spec, prepared, store, cv, cross_validate, fold_seed=fold_seed, progress=progress,
                                loop_seconds=loop_seconds)

    def final_model(self, spec: Spec, prepared: Prepared, store: FeatureStore, folder: Path | None) -> FinalModel:
        return final_model(spec, prepared, store, folder)

    def record(self, spec, prepared, cv, final, store, permutation):
        result = record(spec, prepared, cv, final, store, self.registry_name)
        if permutation is not None:
            result["permutation"] = permutation
        return result

    def write(self, out, spec, prepared, cv, result) -> None:
        scored = cv.scored
        out.write_predictions(prepared.users["user_id"].to_numpy()[scored], prepared.y[scored],
                              cv.scores[:, scored], cv.preds[:, scored], cv.folds, scored)

    @classmethod
    def paired_draws(cls, metric, y, scores, base_scores, *, n_boot, seed):
        return paired_delta_draws(y, scores, base_scores, metric=metric, n_boot=n_boot, seed=seed)

    @classmethod
    def fold_deltas(cls, metric, y, scores, base_scores, folds):
        return fold_delta_values(y, scores, base_scores, folds, metric=metric)

    @classmethod
    def console_header(cls, result: dict) -> str:
        return binary_header(result)

    @classmethod
    def console_metrics(cls, result: dict):
        return binary_metrics_table(result)

    @classmethod
    def console_baselines(cls, result: dict):
        return binary_baselines_table(result)

    @classmethod
    def report_metric_lines(cls, result: dict) -> list[str]:
        return binary_report_lines(result)

    def eda_view(self, data, users, y, report, extra, assignment, folder, files) -> dict:
        return binary_view(data, users, y, report, assignment, folder, files)

    @classmethod
    def eda_markdown(cls, result: dict) -> str:
        return render(result)

    def explain(self, run_dir, spec, folder, **options) -> dict:
        return explain_binary(run_dir, spec, folder, **options)

    def score_users(self, spec, model, users, skipped):
        return binary_scores(spec, model, users, skipped)
