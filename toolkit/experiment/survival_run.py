"""Run a time-to-return experiment: prepare -> out-of-fold survival predictions -> final model -> record.

The time-to-event counterpart of :mod:`toolkit.experiment.runner`, chosen there when the spec's
label has ``time_to_return``. The users are the cohort with censored users kept
(:mod:`toolkit.data.survival_users`); the folds are the binary evaluation's, stratified by
"return seen"; every featurizer is fitted inside each training fold only, and the metrics
(``c_index``, ``uno_c``, ``auc_at`` per horizon, ``ibs``, each with a bootstrap interval) come
from the out-of-fold predictions. The confound baselines (timing: day 0 and the delay to the first
post; exposure) become Cox models on the same columns and the same folds, with the model's paired
Δ C-index. Calibration over time (:mod:`toolkit.evaluation.survival_calibration`) compares the
predicted and the Kaplan-Meier chance of returning per out-of-fold risk tertile, in ``metrics.json``
and ``survival_calibration.png``. Below 50 returns seen, or with ``evaluation.permutations``, the fold
loop is rerun on shuffled label records (:mod:`toolkit.experiment.survival_permutation`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit import __version__
from toolkit.cost import Cost, encoder_footprint, folder_bytes, peak_rss_mb
from toolkit.data.coverage_chart import text_chart, write_png
from toolkit.data.posts import LoadReport, load_posts
from toolkit.data.survival_users import SurvivalCounts, build_survival_users
from toolkit.data.time_to_return import TimeToReturn
from toolkit.data.users import DataReport
from toolkit.environment import environment_record
from toolkit.errors import ToolkitError
from toolkit.evaluation.baselines import baseline_entry, confound_features
from toolkit.evaluation.caveats import annotate_survival
from toolkit.evaluation.folds import Fold, carve_validation
from toolkit.evaluation.survival_calibration import GroupCurves, curves_record, group_curves
from toolkit.evaluation.survival_calibration_chart import write_calibration_png
from toolkit.evaluation.survival_cv import (SurvivalPredictions, fixed_blocks, out_of_fold, paired_metric_delta,
                                            survival_folds, survival_metrics)
from toolkit.evaluation.survival_oracle import oracle_hazard, oracle_metrics
from toolkit.experiment.featurize import FeatureStore, featurize
from toolkit.experiment.record import (FORMAT_VERSION, METRICS_FILE, SPEC_FILE, featurizer_file, model_info,
                                       write_model_info)
from toolkit.experiment.spec import Spec
from toolkit.experiment.survival_permutation import survival_permutation
from toolkit.features.blocks import Block
from toolkit.heads.hazard_loss import pack_targets
from toolkit.progress import Progress
from toolkit.experiment.run_report import write_run_report


@dataclass
class SurvivalPrepared:
    """The cohort's users in the analysis and their time-to-return label."""

    users: pd.DataFrame
    label: TimeToReturn
    report: DataReport
    counts: SurvivalCounts
    load: LoadReport
    source: str
    hazard: np.ndarray | None = None  # synthetic data only: each user's true daily hazard of a return


@dataclass
class SurvivalCV:
    folds: list[Fold]
    preds: SurvivalPredictions
    per_fold: list[dict] = field(default_factory=list)
    featurize_s: dict[str, float] = field(default_factory=dict)  # summed over folds
    train_s: float = 0.0  # summed over folds
    cache_hits: int = 0


def prepare_survival(spec: Spec, *, cache_dir: str | None = None) -> SurvivalPrepared:
    """Load the posts, build the users and their label, and check each test fold would hold returns."""
    from toolkit.experiment.inputs import data_path, effective_label

    path = data_path(spec, cache_dir)
    posts, load = load_posts(path, **spec.data.load_options())
    users, label, report, counts = build_survival_users(posts, effective_label(spec), timezone=spec.data.timezone,
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
    prepared = SurvivalPrepared(users, label, report, counts, load, str(path))
    if spec.data.synthetic is not None:
        prepared.hazard = oracle_hazard(path, users["user_id"], label, spec.label.day0)
    return prepared


def cross_validate_survival(spec: Spec, prepared: SurvivalPrepared, store: FeatureStore, *, fold_seed: int,
                            progress: Progress) -> SurvivalCV:
    """Featurize, train and score every fold; the folds are drawn with ``fold_seed``."""
    from toolkit.evaluation.survival import c_index

    label, users = prepared.label, prepared.users
    folds = survival_folds(label, spec.evaluation, fold_seed)
    store.folds = len(folds)
    cv = SurvivalCV(folds, None, featurize_s=dict.fromkeys(spec.block_names(), 0.0))
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
                            "c_index": c})
        progress.advance("folds")
        progress.log(f"fold {fold.repeat}.{fold.fold}: c_index {c:.3f}")

    progress.start("folds", len(folds))
    cv.preds = out_of_fold(label, fold_blocks, spec.build_head, folds, training=spec.training, seed=spec.seed,
                           on_epoch=progress.epoch, on_fold=fold_done)
    return cv


def survival_baselines(prepared: SurvivalPrepared, cv: SurvivalCV, spec: Spec, horizons, tau) -> dict:
    """Each confound's Cox model on the model's folds: its metrics and the model's paired Δ C-index over it."""
    from toolkit.heads.cox import CoxHead

    ev, label, out = spec.evaluation, prepared.label, {}
    for name, x in confound_features(prepared.users).items():
        preds = out_of_fold(label, fixed_blocks([Block(name, "dense", x.astype(np.float64))]), CoxHead, cv.folds,
                            training=spec.training, seed=spec.seed)
        entry = survival_metrics(label, preds, horizons_days=horizons, tau_days=tau, n_boot=ev.bootstrap,
                                 confidence=ev.confidence, seed=spec.seed)
        d = paired_metric_delta(label, cv.preds, preds, metric="c_index", n_boot=ev.bootstrap,
                                confidence=ev.confidence, seed=spec.seed)
        entry["delta_c_index"] = {k: d[k] for k in ("mean", "ci_low", "ci_high", "excludes_zero")}
        out[name] = entry
    return out


def no_feature_reference(prepared: SurvivalPrepared, cv: SurvivalCV, spec: Spec, horizons, tau) -> dict:
    """The metrics of a model that knows nothing of the users, on the model's folds, and the IBS skill.

    A Cox head on a constant column has no coefficient to fit: its curve is each training fold's
    baseline survival (Breslow) over the same masked risk sets as the model's, i.e. the
    Kaplan-Meier of the fold's training users with uncovered bins left out of the risk sets. Its
    C-index is 0.5 (every pair tied) and its IBS is the reference the model's IBS must beat:
    ``ibs_skill = 1 - IBS(model) / IBS(no features)`` (above 0: the model's curves are closer to
    what happened than one curve for everyone).
    """
    from toolkit.heads.cox import CoxHead

    ev, label = spec.evaluation, prepared.label
    constant = Block("no_features", "dense", np.ones((len(label.time), 1)))
    preds = out_of_fold(label, fixed_blocks([constant]), CoxHead, cv.folds, training=spec.training, seed=spec.seed)
    entry = survival_metrics(label, preds, horizons_days=horizons, tau_days=tau, n_boot=ev.bootstrap,
                             confidence=ev.confidence, seed=spec.seed)
    return {"ibs": entry["ibs"], "c_index": entry["c_index"],
            "what": "one Kaplan-Meier curve for everyone, from each fold's training users, on the masked risk sets"}


def final_survival_model(spec: Spec, prepared: SurvivalPrepared, store: FeatureStore, folder: Path | None):
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
    write_model_info(folder, {**info, "label_kind": "time_to_event", "threshold": None, "edges": label.edges.tolist(),
                              "horizons_days": spec.label.time_to_return.horizon_days()})


def risk_group_curves(spec: Spec, prepared: SurvivalPrepared, cv: SurvivalCV) -> GroupCurves:
    """Predicted versus observed chance of returning by each bin's end, per out-of-fold risk tertile."""
    label = prepared.label
    return group_curves(label.time, label.event, cv.preds.risk, cv.preds.surv, confidence=spec.evaluation.confidence)


def record_survival(spec: Spec, prepared: SurvivalPrepared, cv: SurvivalCV, cost: Cost, store: FeatureStore,
                    final_hits: int, curves: GroupCurves | None = None, permutation: dict | None = None) -> dict:
    """The run's ``metrics.json``, in the binary run's layout where the two agree."""
    ev, report, load, label = spec.evaluation, prepared.report, prepared.load, prepared.label
    horizons = spec.label.time_to_return.horizon_days()
    tau = max(horizons)
    metrics = survival_metrics(label, cv.preds, horizons_days=horizons, tau_days=tau, n_boot=ev.bootstrap,
                               confidence=ev.confidence, seed=spec.seed)
    cost.featurize_s = {n: s / len(cv.folds) for n, s in cv.featurize_s.items()}
    cost.train_s = cv.train_s / len(cv.folds)
    lookups = (len(cv.folds) + 1) * len(spec.featurizers) if store.cache is not None else 0
    result = {
        "name": spec.name, "format_version": FORMAT_VERSION, "toolkit_version": __version__,
        "spec_sha256": spec.sha256(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "label_kind": "time_to_event",
        "data": {**report.to_dict(), "labelled": prepared.counts.in_analysis, "source": prepared.source,
                 "rows_read": load.rows_read, "rows_skipped": load.rows_skipped,
                 "time_to_return": asdict(prepared.counts)},
        "evaluation": ev.describe(), "confidence": ev.confidence,
        "survival": {"bins": int(label.at_risk.shape[1]), "edges_days": label.edges.tolist(),
                     "horizons_days": horizons, "tau_days": tau},
        "metrics": metrics,
        "calibration_over_time": curves_record(curves or risk_group_curves(spec, prepared, cv),
                                               {h: label.horizon_bin(h) for h in horizons}, confidence=ev.confidence),
        "baselines": survival_baselines(prepared, cv, spec, horizons, tau),
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
    annotate_survival(result)
    if store.row_stats:
        result["rows"] = {name: stats.to_dict() for name, stats in store.row_stats.items()}
    if prepared.hazard is not None:  # synthetic data: the true curves on the same users, times and draws
        result["oracle"] = oracle_metrics(label, prepared.hazard, horizons_days=horizons, tau_days=tau,
                                          n_boot=ev.bootstrap, confidence=ev.confidence, seed=spec.seed)
    return result


def _calendar_warning(baselines: dict) -> str | None:
    d = (baseline_entry(baselines, "timing") or {}).get("delta_c_index")
    if d is None or d["ci_low"] > 0:
        return None
    return (f"warning: the model's C-index is not clearly above timing's alone (day 0, delay to first post) (Δ {d['mean']:+.3f}, "
            f"interval [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] includes 0): the model may be learning the calendar.")


def predictions_frame(prepared: SurvivalPrepared, cv: SurvivalCV, horizons) -> pd.DataFrame:
    """One row per user and repeat: the label's time and event, the fold, the risk, P(return by each horizon)."""
    label = prepared.label
    fold_of = np.zeros(cv.preds.risk.shape, dtype=int)
    for f in cv.folds:
        fold_of[f.repeat, f.test] = f.fold
    frames = []
    for r in range(cv.preds.risk.shape[0]):
        frame = pd.DataFrame({"user_id": prepared.users["user_id"].to_numpy(), "time_bin": label.time,
                              "returned": label.event.astype(int), "repeat": r, "fold": fold_of[r],
                              "risk": cv.preds.risk[r]})
        for h in horizons:
            frame[f"p_return_by_{h}d"] = 1.0 - cv.preds.surv[r][:, label.horizon_bin(h)]
        frames.append(frame)
    return pd.concat(frames)  # user ids are made CSV-safe as the folder writes them


def run_survival(spec: Spec, *, results_dir, progress: Progress, cache_dir: str | None, save: bool,
                 fold_seed: int | None, use_cache: bool):
    """:func:`toolkit.experiment.runner.run` for a ``time_to_return`` label; returns its ``Outcome``."""
    from toolkit.environment import make_deterministic
    from toolkit.experiment.run_folder import ResultsFolder
    from toolkit.experiment.outcome import Outcome

    prepared = prepare_survival(spec, cache_dir=cache_dir)
    make_deterministic(spec.seed)
    store = FeatureStore.open(prepared.users, cache_dir if use_cache else None, enabled=use_cache)
    _log_data(progress, prepared)
    with ResultsFolder(results_dir, spec.name, enabled=save) as out:
        fold_seed = spec.seed if fold_seed is None else fold_seed
        loop_start = time.perf_counter()
        cv = cross_validate_survival(spec, prepared, store, fold_seed=fold_seed, progress=progress)
        permutation = survival_permutation(spec, prepared, store, cv, cross_validate_survival, fold_seed=fold_seed,
                                           progress=progress,
                                           loop_seconds=time.perf_counter() - loop_start)
        progress.start("final model", 1)
        cost, hits = final_survival_model(spec, prepared, store, out.path / "model" if save else None)
        progress.advance("final model")
        curves = risk_group_curves(spec, prepared, cv)
        result = record_survival(spec, prepared, cv, cost, store, hits, curves, permutation)
        if save:
            out.write_json(METRICS_FILE, result)
            out.write_yaml(SPEC_FILE, spec.resolved())
            out.write_survival_predictions(predictions_frame(prepared, cv, result["survival"]["horizons_days"]))
            out.write_text("run.log", "\n".join(progress.lines) + "\n")
            r = prepared.report
            write_png(r.volume, r.windows, out.path / "coverage.png", threshold=r.coverage_min_posts)
            write_calibration_png(curves, prepared.label.edges[1:] - prepared.label.edges[0],
                                  result["survival"]["horizons_days"], out.path / "survival_calibration.png",
                                  confidence=spec.evaluation.confidence)
            write_run_report(out.path, result)  # last: it embeds the figures above
    return Outcome(result, out.final if save else None, progress.lines)


def _log_data(progress: Progress, prepared: SurvivalPrepared) -> None:
    report = prepared.report
    progress.log(f"data: {prepared.load.summary()}")
    progress.log(f"label: {report.label}")
    progress.log(f"users: {report.users} in file, {report.in_cohort} in cohort; {prepared.counts.text()}")
    for line in text_chart(report.volume, report.windows):
        progress.log(line)
    for warning in report.warnings:
        progress.log(f"warning: {warning}")
