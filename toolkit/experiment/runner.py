"""Run one experiment: data -> users and labels -> cross-validated scores -> metrics, cost, saved model.

Every featurizer is fitted inside each training fold only; the head's threshold
is chosen on the validation part of the training fold, never on test rows; all
metrics come from the out-of-fold scores.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.features.cache import CachedBlocks, FeatureCache, default_cache_root, users_fingerprint
from toolkit.cost import Cost, folder_bytes, peak_rss_mb, reset_peak_rss
from toolkit.data.posts import LoadReport, load_posts
from toolkit.data.users import DataReport, build_users
from toolkit.environment import describe, make_deterministic
from toolkit.evaluation.folds import carve_validation, check_positives, make_folds
from toolkit.evaluation.metrics import point_metrics, summarize
from toolkit.evaluation.thresholds import choose_threshold
from toolkit.features.blocks import Block
from toolkit.progress import NullProgress, Progress
from toolkit.experiment.run_folder import ResultsFolder
from toolkit.experiment.spec import Spec


@dataclass
class Prepared:
    """The labelled users of a spec, ready for folds."""

    users: pd.DataFrame
    y: np.ndarray
    report: DataReport
    load: LoadReport
    source: str
    truth: pd.DataFrame | None = None  # synthetic data only: each user's true retention probability


@dataclass
class Outcome:
    metrics: dict
    folder: Path | None = None
    log: list[str] = field(default_factory=list)


def data_path(spec: Spec, cache_dir: str | None = None) -> Path:
    if "path" in spec.data:
        return Path(spec.data["path"])
    from toolkit.data.synth import ensure_synthetic

    syn = spec.data["synthetic"]
    return ensure_synthetic(syn.users, syn.seed, syn.positive_rate, cache_dir=default_cache_root(cache_dir) / "synthetic")


def prepare(spec: Spec, *, cache_dir: str | None = None) -> Prepared:
    """Load the posts, build users and labels, and check there are enough positives per fold."""
    path = data_path(spec, cache_dir)
    posts, load = load_posts(path, columns=spec.data["columns"], on_bad_rows=spec.data["on_bad_rows"])
    users, y, report = build_users(posts, spec.label)
    check_positives(y, spec.evaluation)
    for featurizer in spec.build_featurizers():
        featurizer.check_available()
    truth = None
    truth_path = path.with_name(path.stem + ".truth.csv")
    if "synthetic" in spec.data and truth_path.is_file():
        truth = pd.read_csv(truth_path, dtype={"user_id": str}).set_index("user_id").reindex(users["user_id"])
    return Prepared(users, y, report, load, str(path), truth)


def featurize(featurizers, names, users: pd.DataFrame, train: np.ndarray, others: list[np.ndarray],
              cache: FeatureCache | None = None, data_key: str = "", need_fitted: bool = False,
              progress: Progress | None = None):
    """Fit each featurizer on the training rows; transform them and every other row set.

    With a cache, blocks computed before (same users, featurizer, parameters, code
    and rows) are read back with the seconds they took to compute. With
    ``need_fitted`` the fitted featurizers are cached too and replace the given ones.

    Returns (train blocks, blocks for each set in ``others``, seconds per featurizer, cache hits).
    """
    train_users = users.iloc[train]
    train_blocks, other_blocks, seconds, hits = [], [[] for _ in others], {}, 0
    for i, (name, feat) in enumerate(zip(names, featurizers)):
        key = cache.key(data=data_key, featurizer=feat, train_rows=train, other_rows=others) if cache else None
        entry = cache.load(key) if key else None
        if entry is not None and (entry.fitted is not None or not need_fitted):
            hits += 1
            if need_fitted:
                featurizers[i] = pickle.loads(entry.fitted)
        else:
            feat.warm_up()  # model loading is not featurizing
            start = time.perf_counter()
            train_block = feat.fit(train_users).transform(train_users)
            rest = [feat.transform(users.iloc[rows]) for rows in others]
            entry = CachedBlocks(train_block, rest, time.perf_counter() - start)
            if key:
                cache.store(key, train_block=train_block, other_blocks=rest, seconds=entry.seconds,
                            meta={"flops_per_user": feat.flops_per_user()},
                            fitted=pickle.dumps(feat) if need_fitted else None)
        kind = feat.output_kind()
        train_blocks.append(Block(name, kind, entry.train_block))
        for out, block in zip(other_blocks, entry.other_blocks):
            out.append(Block(name, kind, block))
        seconds[name] = entry.seconds
        if progress is not None:
            progress.advance("featurize")
    return train_blocks, other_blocks, seconds, hits


def fit_head(spec: Spec, blocks: list[Block], y: np.ndarray, on_epoch=None):
    """Carve a validation part, train the head, and pick the threshold on that part."""
    fit_pos, val_pos = carve_validation(y, spec.training.validation_fraction, spec.seed)
    head = spec.build_head()
    start = time.perf_counter()
    head.fit(
        [b.rows(fit_pos) for b in blocks],
        y[fit_pos],
        validation=([b.rows(val_pos) for b in blocks], y[val_pos]),
        training=spec.training,
        seed=spec.seed,
        on_epoch=on_epoch,
    )
    seconds = time.perf_counter() - start - getattr(head, "tracing_seconds_", 0.0)
    threshold = choose_threshold(y[val_pos], head.predict([b.rows(val_pos) for b in blocks]), spec.evaluation.threshold)
    return head, threshold, seconds


def run(spec: Spec, *, results_dir: str | Path = "results", progress: Progress | None = None,
        cache_dir: str | None = None, save: bool = True, fold_seed: int | None = None,
        use_cache: bool = True) -> Outcome:
    """Run the experiment a spec describes and (with ``save``) write its results folder.

    Args:
        fold_seed: draws the folds (default: the spec's seed). A sweep fixes it so that
            every configuration, whatever its own seed, is scored on the same folds.
        use_cache: read and write feature blocks in the feature cache under ``cache_dir``.
    """
    progress = progress or NullProgress()
    reset_peak_rss()
    prepared = prepare(spec, cache_dir=cache_dir)  # data problems surface before TensorFlow is imported
    make_deterministic(spec.seed)
    users, y, report = prepared.users, prepared.y, prepared.report
    cache = FeatureCache(default_cache_root(cache_dir)) if use_cache else None
    data_key = users_fingerprint(users) if cache else ""
    progress.log(f"data: {prepared.load.summary()}")
    progress.log(f"label: {report.label}")
    progress.log(f"users: {report.users} in file, {report.in_cohort} in cohort, {report.censored} censored, "
                 f"{report.positives} positive ({report.positive_rate:.2%})")

    with ResultsFolder(results_dir, spec.name, enabled=save) as out:
        folds = make_folds(y, spec.evaluation, spec.seed if fold_seed is None else fold_seed)
        names = spec.block_names()
        repeats = spec.evaluation.repeats
        scores = np.full((repeats, len(y)), np.nan)
        preds = np.zeros((repeats, len(y)), dtype=np.int8)
        feat_s = {n: 0.0 for n in names}
        train_s, per_fold, cache_hits = 0.0, [], 0
        progress.start("folds", len(folds))
        for fold in folds:
            progress.start("featurize", len(names))
            tr_blocks, (te_blocks,), seconds, hits = featurize(spec.build_featurizers(), names, users, fold.train,
                                                               [fold.test], cache, data_key, progress=progress)
            cache_hits += hits
            for n in names:
                feat_s[n] += seconds[n]
            progress.start("epochs", spec.training.epochs)
            head, threshold, seconds = fit_head(spec, tr_blocks, y[fold.train], on_epoch=progress.epoch)
            train_s += seconds
            s = head.predict(te_blocks)
            scores[fold.repeat, fold.test] = s
            preds[fold.repeat, fold.test] = s >= threshold
            yt = y[fold.test]
            per_fold.append({"repeat": fold.repeat, "fold": fold.fold, "test_users": len(fold.test),
                             "positives": int(yt.sum()), "threshold": float(threshold),
                             "epochs": int(getattr(head, "epochs_run_", 1)),
                             **point_metrics(yt, s, (s >= threshold).astype(int))})
            progress.advance("folds")
            progress.log(f"fold {fold.repeat}.{fold.fold}: roc_auc {per_fold[-1]['roc_auc']:.3f}, "
                         f"pr_auc {per_fold[-1]['pr_auc']:.3f}")

        ev = spec.evaluation
        metrics = summarize(y, scores, preds, n_boot=ev.bootstrap, confidence=ev.confidence, seed=spec.seed)
        progress.start("final model", 1)
        cost, final_threshold, final_hits = _final_model(spec, names, users, y, out.path / "model" if save else None,
                                                         cache, data_key)
        cost.featurize_s = {n: feat_s[n] / len(folds) for n in names}
        cost.train_s = train_s / len(folds)
        progress.advance("final model")

        result = {
            "name": spec.name,
            "spec_sha256": spec_hash(spec),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "data": {**report.to_dict(), "labelled": report.labelled, "source": prepared.source,
                     "rows_read": prepared.load.rows_read, "rows_skipped": prepared.load.rows_skipped},
            "evaluation": _evaluation_text(spec),
            "confidence": ev.confidence,
            "metrics": metrics,
            "threshold": {"rule": ev.threshold, "mean": float(np.mean([f["threshold"] for f in per_fold])),
                          "final_model": float(final_threshold)},
            "folds": per_fold,
            "cost": cost.to_dict(),
            "cache": {"enabled": cache is not None, "hits": cache_hits + final_hits,
                      "lookups": (len(folds) + 1) * len(names) if cache is not None else 0},
            "environment": describe(spec.seed),
        }
        if prepared.truth is not None:
            oracle = summarize(y, prepared.truth["p_retained"].to_numpy()[None, :], preds[:1],
                               n_boot=ev.bootstrap, confidence=ev.confidence, seed=spec.seed)
            result["oracle"] = {k: oracle[k] for k in ("roc_auc", "pr_auc")}
        if save:
            out.write_json("metrics.json", result)
            out.write_yaml("spec.yaml", spec.resolved())
            out.write_predictions(users["user_id"].to_numpy(), y, scores, preds, folds)
            out.write_text("run.log", "\n".join(progress.lines) + "\n")
    return Outcome(result, out.final if save else None, progress.lines)


def _final_model(spec: Spec, names, users, y, folder: Path | None, cache, data_key) -> tuple[Cost, float, int]:
    """Train on all labelled users, save the model, and measure inference, size, params and FLOPs."""
    featurizers = spec.build_featurizers()
    all_rows = np.arange(len(y))
    blocks, _, _, hits = featurize(featurizers, names, users, all_rows, [], cache, data_key, need_fitted=True)
    head, threshold, _ = fit_head(spec, blocks, y)

    sample = users.iloc[np.resize(all_rows, 1000)]  # 1,000 users, repeating rows when there are fewer
    def predict_sample():
        head.predict([Block(n, f.output_kind(), f.transform(sample)) for n, f in zip(names, featurizers)])

    # Warm: model loading and graph tracing for this batch shape happen here, not inside the timer.
    predict_sample()
    start = time.perf_counter()
    predict_sample()
    infer_ms = (time.perf_counter() - start) * 1000.0

    cost = Cost(infer_ms_per_1k=infer_ms, params=head.count_params(),
                flops_per_user=float(sum(f.flops_per_user() for f in featurizers) + head.flops_per_user()))
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for n, f in zip(names, featurizers):
            f.save(folder / f"featurizer_{n}.pkl")
        head.save(folder / type(head).filename)
        (folder / "model.json").write_text(json.dumps({
            "featurizers": names, "head": spec.head[0], "head_file": type(head).filename,
            "threshold": float(threshold)}, indent=2))
        cost.model_bytes = folder_bytes(folder)
    cost.peak_rss_mb = peak_rss_mb()
    return cost, threshold, hits


def _evaluation_text(spec: Spec) -> str:
    ev = spec.evaluation
    if ev.split:
        return f"stratified split, test fraction {ev.split.get('test_fraction', 0.2)}"
    return f"repeated stratified {ev.folds}-fold x {ev.repeats}"


def spec_hash(spec: Spec) -> str:
    text = json.dumps(spec.resolved(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
