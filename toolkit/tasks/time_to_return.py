"""The time-to-return task: how long after ``after_days`` until a user posts again (``label.time_to_return``).

Its pipeline steps, as :func:`toolkit.experiment.runner.run` calls them: prepare -> out-of-fold
survival predictions -> final model -> record -> write. The users are the cohort with censored users kept
(:mod:`toolkit.data.time_to_return_users`); the folds are the binary evaluation's, stratified by
"return seen"; every featurizer is fitted inside each training fold only, and the metrics
(``c_index``, ``uno_c``, ``auc_at`` per horizon, ``ibs``) come from the out-of-fold predictions,
each with the corrected resampled t interval over the test folds (the yes/no task's; named in
``intervals.method``). The confound baselines (timing: day 0 and the delay to the first
post; exposure) become Cox models on the same columns and the same folds, with the model's paired
Δ C-index (the same corrected t over the per-fold Δs). Calibration over time
(:mod:`toolkit.evaluation.calibration_over_time`) compares the predicted and the Kaplan-Meier
chance of returning per out-of-fold risk tertile, the Kaplan-Meier on the risk sets the model was
fitted on (uncovered bins masked), in ``metrics.json`` and ``survival_calibration.png``. Below 50 returns seen, or with ``evaluation.permutations``, the fold
loop is rerun on shuffled label records (:mod:`toolkit.experiment.time_to_return_permutation`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.heads.base import kept_start
from toolkit._version import __version__
from toolkit.analysis.eda.run import time_to_return_users, time_to_return_view
from toolkit.analysis.eda.time_to_return_report import render_time_to_return
from toolkit.analysis.explain_time_to_return import explain_time_to_return
from toolkit.analysis.predict import time_to_return_scores
from toolkit.console import (time_to_return_baselines_table, time_to_return_header,
                             time_to_return_metrics_table)
from toolkit.cost import Cost, encoder_footprint, folder_bytes, peak_rss_mb
from toolkit.data.coverage_chart import text_chart
from toolkit.data.posts import LoadReport, load_posts
from toolkit.data.time_to_return_users import TimeToReturnCounts, build_time_to_return_users
from toolkit.data.time_to_return import TimeToReturn
from toolkit.data.users import DataReport
from toolkit.environment import environment_record
from toolkit.errors import ToolkitError
from toolkit.evaluation.baselines import baseline_entry, confound_features
from toolkit.evaluation.caveats import annotate_time_to_return
from toolkit.evaluation.folds import Fold, carve_validation
from toolkit.evaluation.calibration_over_time import GroupCurves, curves_record, group_curves
from toolkit.evaluation.calibration_over_time_chart import write_calibration_png
from toolkit.evaluation.time_to_return_cv import (TimeToReturnPredictions, fixed_blocks, fold_of, out_of_fold,
                                                 paired_metric_delta, time_to_return_folds, survival_metrics)
from toolkit.evaluation.time_to_return_oracle import oracle_hazard, oracle_metrics
from toolkit.experiment.featurize import FeatureStore, featurize
from toolkit.evaluation.survival import c_index
from toolkit.evaluation.time_to_return_compare import c_index_fold_deltas, paired_c_index_draws
from toolkit.experiment.inputs import data_path, effective_label
from toolkit.experiment.record import FORMAT_VERSION, featurizer_file, model_info, write_model_info
from toolkit.experiment.spec import Spec
from toolkit.experiment.time_to_return_permutation import time_to_return_permutation
from toolkit.features.blocks import Block
from toolkit.heads.hazard_loss import pack_targets
from toolkit.heads.cox import CoxHead
from toolkit.progress import Progress
from toolkit.experiment.run_report import time_to_return_report_lines
from toolkit.registry import register_task
from toolkit.tasks.base import Task


@dataclass
class TimeToReturnPrepared:
    """The cohort's users in the analysis and their time-to-return label."""

    users: pd.DataFrame
    label: TimeToReturn
    report: DataReport
    counts: TimeToReturnCounts
    load: LoadReport
    source: str
    hazard: np.ndarray | None = None  # synthetic data only: each user's true daily hazard of a return


@dataclass
class TimeToReturnCV:
    folds: list[Fold]
    preds: TimeToReturnPredictions
    per_fold: list[dict] = field(default_factory=list)
    featurize_s: dict[str, float] = field(default_factory=dict)  # summed over folds
    train_s: float = 0.0  # summed over folds
    cache_hits: int = 0
    curves: GroupCurves | None = None  # calibration over time, once the record has computed it


def prepare_time_to_return(spec: Spec, *, cache_dir: str | None = None) -> TimeToReturnPrepared:
    """Load the posts, build the users and their label, and check each test fold would hold returns."""
    path = data_path(spec, cache_dir)
    posts, load = load_posts(path, **spec.data.load_options())
    users, label, report, counts = build_time_to_return_users(posts, effective_label(spec), timezone=spec.data.timezone,
                                                        local_time=spec.data.local_time, ip_zones=spec.data.ip_zones)
    ev = spec.evaluation
    per_fold = counts.returned // ev.folds
    if per_fold < ev.min_positives_per_fold or counts.censored < ev.folds:
        raise ToolkitError(
            f"Too few returns to evaluate: {counts.text()}. With {ev.folds} folds a test fold would hold as few as "
            f"{per_fold} returns (evaluation.min_positives_per_fold = {ev.min_positives_per_fold}) and each needs a "
            "censored user. Use fewer folds (evaluation.cv.folds), a longer follow-up (label.time_to_return."
            "follow_days), a larger cohort (label.cohort) or more data.")
    for featurizer in spec.build_featurizers():
        featurizer.check_available()
    prepared = TimeToReturnPrepared(users, label, report, counts, load, str(path))
    if spec.data.synthetic is not None:
        prepared.hazard = oracle_hazard(path, users["user_id"], label, spec.label.day0)
    return prepared


def cross_validate_time_to_return(spec: Spec, prepared: TimeToReturnPrepared, store: FeatureStore, *, fold_seed: int,
                            progress: Progress) -> TimeToReturnCV:
    """Featurize, train and score every fold; the folds are drawn with ``fold_seed``."""
    label, users = prepared.label, prepared.users
    folds = time_to_return_folds(label, spec.evaluation, fold_seed)
    store.folds = len(folds)
    cv = TimeToReturnCV(folds, None, featurize_s=dict.fromkeys(spec.block_names(), 0.0))
    last = {}  # the current fold's test blocks, for its own C-index

    def fold_blocks(train, test):
        progress.start("featurize", len(spec.featurizers))
        feats = featurize(spec, users, train, [test], store, progress=progress)
        cv.cache_hits += feats.cache_hits
        for name, s in feats.seconds.items():
            cv.featurize_s[name] += s
        progress.start("epochs", spec.training.epochs)
        last["test"] = feats.others[0]
        return feats.train, feats.others[0]

    def fold_done(fold, head, seconds):
        cv.train_s += seconds
        test = label.rows(fold.test)
        c = float(c_index(test.time, test.event, head.predict_risk(last["test"])))
        cv.per_fold.append({"repeat": fold.repeat, "fold": fold.fold, "test_users": len(fold.test),
                            "returns": int(test.event.sum()), "epochs": int(getattr(head, "epochs_run_", 1)),
                        **kept_start(head),
                            "c_index": c})
        progress.advance("folds")
        progress.log(f"fold {fold.repeat}.{fold.fold}: c_index {c:.3f}")

    progress.start("folds", len(folds))
    cv.preds = out_of_fold(label, fold_blocks, spec.build_head, folds, training=spec.training, seed=spec.seed,
                           on_epoch=progress.epoch, on_fold=fold_done)
    return cv


def time_to_return_baselines(prepared: TimeToReturnPrepared, cv: TimeToReturnCV, spec: Spec, horizons, tau) -> dict:
    """Each confound's Cox model on the model's folds: its metrics and the model's paired Δ C-index over it."""
    ev, label, out = spec.evaluation, prepared.label, {}
    folds = fold_of(cv.folds, label)
    for name, x in confound_features(prepared.users).items():
        preds = out_of_fold(label, fixed_blocks([Block(name, "dense", x.astype(np.float64))]), CoxHead, cv.folds,
                            training=spec.training, seed=spec.seed)
        entry = survival_metrics(label, preds, horizons_days=horizons, tau_days=tau, n_boot=ev.bootstrap,
                                 confidence=ev.confidence, seed=spec.seed, folds=folds)
        d = paired_metric_delta(label, cv.preds, preds, metric="c_index", n_boot=ev.bootstrap,
                                confidence=ev.confidence, seed=spec.seed, folds=folds)
        entry["delta_c_index"] = {k: d[k] for k in ("mean", "ci_low", "ci_high", "excludes_zero", "p_value")}
        out[name] = entry
    return out


def no_feature_reference(prepared: TimeToReturnPrepared, cv: TimeToReturnCV, spec: Spec, horizons, tau) -> dict:
    """The metrics of a model that knows nothing of the users, on the model's folds, and the IBS skill.

    A Cox head on a constant column has no coefficient to fit: its curve is each training fold's
    baseline survival (Breslow) over the same masked risk sets as the model's, i.e. the
    Kaplan-Meier of the fold's training users with uncovered bins left out of the risk sets. Its
    C-index is 0.5 (every pair tied) and its IBS is the reference the model's IBS must beat:
    ``ibs_skill = 1 - IBS(model) / IBS(no features)`` (above 0: the model's curves are closer to
    what happened than one curve for everyone).
    """
    ev, label = spec.evaluation, prepared.label
    constant = Block("no_features", "dense", np.ones((len(label.time), 1)))
    preds = out_of_fold(label, fixed_blocks([constant]), CoxHead, cv.folds, training=spec.training, seed=spec.seed)
    entry = survival_metrics(label, preds, horizons_days=horizons, tau_days=tau, n_boot=ev.bootstrap,
                             confidence=ev.confidence, seed=spec.seed, folds=fold_of(cv.folds, label))
    return {"ibs": entry["ibs"], "c_index": entry["c_index"],
            "what": "one Kaplan-Meier curve for everyone, from each fold's training users, on the masked risk sets"}


def final_time_to_return_model(spec: Spec, prepared: TimeToReturnPrepared, store: FeatureStore, folder: Path | None):
    """Train on every user in the analysis, save the model, and measure inference, size, params and FLOPs."""
    users, label = prepared.users, prepared.label
    all_rows = np.arange(len(users))
    feats = featurize(spec, users, all_rows, [], store, need_fitted=True)
    fit, val = carve_validation(label.event.astype(int), spec.training.validation_fraction, spec.seed)
    targets = pack_targets(label)
    head = spec.build_head().fit([b.rows(fit) for b in feats.train], targets[fit],
                                 validation=([b.rows(val) for b in feats.train], targets[val]),
                                 training=spec.training, seed=spec.seed)
    sample = users.iloc[np.resize(all_rows, 1000)]
    names = spec.block_names()

    def predict_sample():
        head.predict_survival([Block(n, f.output_kind(), f.transform(sample)) for n, f in zip(names, feats.featurizers)])

    predict_sample()  # warm: loading and graph tracing are not inference
    start = time.perf_counter()
    predict_sample()
    infer_ms = (time.perf_counter() - start) * 1000.0
    frozen, weights = encoder_footprint(feats.featurizers)
    cost = Cost(infer_ms_per_1k=infer_ms, params=head.count_params(), frozen_params=frozen, weights_bytes=weights,
                flops_per_user=float(sum(f.flops_per_user() for f in feats.featurizers) + head.flops_per_user()))
    if folder is not None:
        _save_model(folder, spec, names, feats.featurizers, head, label)
        cost.model_bytes = folder_bytes(folder)
    cost.peak_rss_mb = peak_rss_mb()
    return cost, feats.cache_hits


def _save_model(folder: Path, spec: Spec, names: list[str], featurizers, head, label: TimeToReturn) -> None:
    """The final model's files and model.json (no threshold: a time-to-return model predicts curves)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, f in zip(names, featurizers):
        f.save(folder / featurizer_file(n))
    head.save(folder / type(head).filename)
    info = model_info(names, spec.head[0], type(head).filename, float("nan"), folder)
    write_model_info(folder, {**info, "task": "time_to_return", "threshold": None, "edges": label.edges.tolist(),
                              "horizons_days": spec.label.time_to_return.horizon_days()})


def risk_group_curves(spec: Spec, prepared: TimeToReturnPrepared, cv: TimeToReturnCV) -> GroupCurves:
    """Predicted versus observed chance of returning by each bin's end, per out-of-fold risk tertile.

    The observed side is the Kaplan-Meier on the label's masked risk sets, the ones the model was fitted on.
    """
    label = prepared.label
    return group_curves(label.time, label.event, cv.preds.risk, cv.preds.surv, confidence=spec.evaluation.confidence,
                        label=label)


def record_time_to_return(spec: Spec, prepared: TimeToReturnPrepared, cv: TimeToReturnCV, cost: Cost, store: FeatureStore,
                          final_hits: int, curves: GroupCurves | None = None, permutation: dict | None = None,
                          task: str = "time_to_return") -> dict:
    """The run's ``metrics.json``, in the binary run's layout where the two agree."""
    ev, report, load, label = spec.evaluation, prepared.report, prepared.load, prepared.label
    horizons = spec.label.time_to_return.horizon_days()
    tau = max(horizons)
    metrics = survival_metrics(label, cv.preds, horizons_days=horizons, tau_days=tau, n_boot=ev.bootstrap,
                               confidence=ev.confidence, seed=spec.seed, folds=fold_of(cv.folds, label))
    cost.featurize_s = {n: s / len(cv.folds) for n, s in cv.featurize_s.items()}
    cost.train_s = cv.train_s / len(cv.folds)
    lookups = (len(cv.folds) + 1) * len(spec.featurizers) if store.cache is not None else 0
    result = {
        "name": spec.name, "format_version": FORMAT_VERSION, "toolkit_version": __version__,
        "spec_sha256": spec.sha256(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "task": task,
        "data": {**report.to_dict(), "labelled": prepared.counts.in_analysis, "source": prepared.source,
                 "rows_read": load.rows_read, "rows_skipped": load.rows_skipped,
                 "time_to_return": asdict(prepared.counts)},
        "evaluation": ev.describe(), "confidence": ev.confidence,
        "survival": {"bins": int(label.at_risk.shape[1]), "edges_days": label.edges.tolist(),
                     "horizons_days": horizons, "tau_days": tau},
        "metrics": metrics,
        "calibration_over_time": curves_record(curves or risk_group_curves(spec, prepared, cv),
                                               {h: label.horizon_bin(h) for h in horizons}, confidence=ev.confidence),
        "baselines": time_to_return_baselines(prepared, cv, spec, horizons, tau),
        "no_features": no_feature_reference(prepared, cv, spec, horizons, tau),
        "folds": cv.per_fold,
        "cost": cost.to_dict(),
        "cache": {"enabled": store.cache is not None, "hits": cv.cache_hits + final_hits, "lookups": lookups},
        "environment": environment_record(spec.seed),
    }
    reference = result["no_features"]["ibs"]["mean"]
    result["no_features"]["ibs_skill"] = (1.0 - metrics["ibs"]["mean"] / reference) if reference > 0 else None
    result["warnings"] = list(report.warnings) + [w for w in [_calendar_warning(result["baselines"])] if w]
    if permutation is not None:
        result["permutation"] = permutation
    annotate_time_to_return(result, corrected=len(cv.folds) > 1)
    if store.row_stats:
        result["rows"] = {name: stats.to_dict() for name, stats in store.row_stats.items()}
    # synthetic data: the true curves on the same users and times; nothing was fitted to them, so their
    # interval is the user bootstrap (the yes/no oracle's)
    if prepared.hazard is not None:
        result["oracle"] = oracle_metrics(label, prepared.hazard, horizons_days=horizons, tau_days=tau,
                                          n_boot=ev.bootstrap, confidence=ev.confidence, seed=spec.seed)
    return result


def _calendar_warning(baselines: dict) -> str | None:
    d = (baseline_entry(baselines, "timing") or {}).get("delta_c_index")
    if d is None or d["ci_low"] > 0:
        return None
    return (f"warning: the model's C-index is not clearly above timing's alone (day 0, delay to first post) (Δ {d['mean']:+.3f}, "
            f"interval [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] includes 0): the model may be learning the calendar.")


def predictions_frame(prepared: TimeToReturnPrepared, cv: TimeToReturnCV, horizons) -> pd.DataFrame:
    """One row per user and repeat: the label's time and event, the fold, the risk, P(return by each horizon)."""
    label = prepared.label
    fold_no = np.zeros(cv.preds.risk.shape, dtype=int)
    for f in cv.folds:
        fold_no[f.repeat, f.test] = f.fold
    frames = []
    for r in range(cv.preds.risk.shape[0]):
        frame = pd.DataFrame({"user_id": prepared.users["user_id"].to_numpy(), "time_bin": label.time,
                              "returned": label.event.astype(int), "repeat": r, "fold": fold_no[r],
                              "risk": cv.preds.risk[r]})
        for h in horizons:
            frame[f"p_return_by_{h}d"] = 1.0 - cv.preds.surv[r][:, label.horizon_bin(h)]
        frames.append(frame)
    return pd.concat(frames)  # user ids are made CSV-safe as the folder writes them


def _log_data(progress: Progress, prepared: TimeToReturnPrepared) -> None:
    report = prepared.report
    progress.log(f"data: {prepared.load.summary()}")
    progress.log(f"label: {report.label}")
    progress.log(f"users: {report.users} in file, {report.in_cohort} in cohort; {prepared.counts.text()}")
    for line in text_chart(report.volume, report.windows):
        progress.log(line)
    for warning in report.warnings:
        progress.log(f"warning: {warning}")


@register_task("time_to_return")
class TimeToReturnTask(Task):
    """Time to return: ``label.time_to_return`` (the default task of a spec with that label).

    Its heads are :class:`~toolkit.heads.time_to_return.TimeToReturnHead` s (``targets`` holds
    ``time_to_return``); every user in the analysis is scored out of fold, so ``evaluation.split``,
    resampling, class weights and calibration (yes/no tools) are refused at validation.
    """

    target = "time_to_return"
    label_form = "time_to_return"
    metrics = ("c_index", "uno_c", "ibs")
    second_metric = "ibs"
    delta_metrics = ("c_index",)
    baseline_metrics = ("c_index", "uno_c", "ibs")
    has_threshold = False
    table_note = ("Time to return (positive rate = returns seen; censored users kept): C-index and Uno's C, "
                  "higher is better; IBS, lower is better; no threshold, no Pareto front.")
    positives_word = "returns seen"
    prediction_columns = ("user_id", "time_bin", "returned", "repeat", "fold", "risk")
    whole_columns = ("time_bin", "returned", "repeat", "fold")
    score_column = "risk"
    label_columns = ("time_bin", "returned")
    titles = {"headline": "C-index", "second": "IBS", "delta": "model Δ C-index", "baseline_model": "a Cox model"}
    # eda's counts: "labelled" and "positives" hold the users in the analysis and the returns seen
    count_titles = (("posts", "posts"), ("users", "users"), ("cohort", "cohort"),
                    ("censored_by_coverage", "censored by coverage"), ("labelled", "in analysis"),
                    ("positives", "returned"), ("censored", "censored"), ("in_gap", "with a gap in follow-up"),
                    ("positive_rate", "returned share"))

    def check_spec(self, spec: Spec) -> None:
        if spec.label.time_to_return is None:
            raise ToolkitError(f"task {self.registry_name!r} learns the time to a return: the spec needs "
                               "label.time_to_return (after_days, follow_days, horizons).")
        if spec.training.resample != "none" or spec.training.class_weight != "none":
            raise ToolkitError("training.resample and training.class_weight reweigh yes/no classes; a "
                               "time_to_return label has none. Leave them at none.")
        if spec.evaluation.split is not None:
            raise ToolkitError("evaluation.split scores only a test part; a time_to_return run needs every user "
                               "scored out of fold. Use evaluation.cv instead.")
        if spec.training.calibrate != "none":
            raise ToolkitError(f"training.calibrate: {spec.training.calibrate} turns yes/no scores into probabilities; "
                               "a time_to_return run predicts survival curves, which are probabilities already. "
                               "Leave it at none.")

    def prepare(self, spec: Spec, *, cache_dir: str | None = None) -> TimeToReturnPrepared:
        return prepare_time_to_return(spec, cache_dir=cache_dir)

    def log_data(self, progress: Progress, prepared: TimeToReturnPrepared) -> None:
        _log_data(progress, prepared)

    def cross_validate(self, spec, prepared, store, *, fold_seed: int, progress) -> TimeToReturnCV:
        return cross_validate_time_to_return(spec, prepared, store, fold_seed=fold_seed, progress=progress)

    def permutation(self, spec, prepared, store, cv, *, fold_seed: int, progress, loop_seconds: float):
        return time_to_return_permutation(spec, prepared, store, cv, cross_validate_time_to_return,
                                          fold_seed=fold_seed, progress=progress, loop_seconds=loop_seconds)

    def final_model(self, spec, prepared, store, folder):
        return final_time_to_return_model(spec, prepared, store, folder)

    def record(self, spec, prepared, cv, final, store, permutation):
        cost, hits = final
        cv.curves = risk_group_curves(spec, prepared, cv)
        return record_time_to_return(spec, prepared, cv, cost, store, hits, cv.curves, permutation,
                                     task=self.registry_name)

    def write(self, out, spec, prepared, cv, result) -> None:
        horizons = result["survival"]["horizons_days"]
        out.write_time_to_return_predictions(predictions_frame(prepared, cv, horizons))
        write_calibration_png(cv.curves, prepared.label.edges[1:] - prepared.label.edges[0], horizons,
                              out.path / "survival_calibration.png", confidence=spec.evaluation.confidence)

    @classmethod
    def read_metrics(cls, check):
        """``c_index``, ``uno_c``, ``ibs`` and each horizon's AUC as ``auc_at_<H>d``."""
        out = {m: check.interval(f"metrics.{m}") for m in cls.metrics}
        for h in check.get("metrics.auc_at", dict, "an object"):
            out[f"auc_at_{h}d"] = check.interval(f"metrics.auc_at.{h}")
        return out

    @classmethod
    def paired_draws(cls, metric, y, scores, base_scores, *, n_boot, seed):
        return paired_c_index_draws(y[:, 0], y[:, 1] > 0, scores, base_scores, n_boot=n_boot, seed=seed)

    @classmethod
    def fold_deltas(cls, metric, y, scores, base_scores, folds):
        return c_index_fold_deltas(y[:, 0], y[:, 1] > 0, scores, base_scores, folds)

    @classmethod
    def console_header(cls, result: dict) -> str:
        return time_to_return_header(result)

    @classmethod
    def console_metrics(cls, result: dict):
        return time_to_return_metrics_table(result)

    @classmethod
    def console_baselines(cls, result: dict):
        return time_to_return_baselines_table(result)

    @classmethod
    def report_metric_lines(cls, result: dict) -> list[str]:
        return time_to_return_report_lines(result)

    def eda_users(self, data):
        return time_to_return_users(data)

    def eda_view(self, data, users, y, report, extra, assignment, folder, files) -> dict:
        return time_to_return_view(data, extra, report, assignment, folder, files)

    @classmethod
    def eda_markdown(cls, result: dict) -> str:
        return render_time_to_return(result)

    def explain(self, run_dir, spec, folder, *, oof=None, **options) -> dict:
        return explain_time_to_return(run_dir, spec, folder, **options)

    def score_users(self, spec, model, users, skipped):
        return time_to_return_scores(spec, model, users, skipped)
