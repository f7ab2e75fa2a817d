"""Run one experiment: prepare -> cross-validate -> permutation test -> final model -> record -> write.

One pipeline for every task: each step is the spec's task's (:mod:`toolkit.tasks`; ``binary``
for ``label.retained_if``, ``time_to_return`` for ``label.time_to_return``, or the spec's
``task:``), so a third kind of label is a task plugin, not a second runner. What every task
shares (the results folder, the spec, run.log, the coverage figure, report.html, the
deterministic seed, the feature store, peak memory) is done here.
"""

from __future__ import annotations

import time
from pathlib import Path

from toolkit.cost import reset_peak_rss
from toolkit.data.coverage_chart import text_chart, write_png
from toolkit.data.posts import load_posts
from toolkit.data.users import label_windows
from toolkit.environment import make_deterministic
from toolkit.errors import ToolkitError
from toolkit.experiment.featurize import FeatureStore
from toolkit.experiment.inputs import data_path, effective_label  # noqa: F401  (also read from here)
from toolkit.experiment.outcome import Outcome
from toolkit.experiment.record import METRICS_FILE, SPEC_FILE
from toolkit.experiment.run_folder import ResultsFolder
from toolkit.experiment.run_report import write_run_report
from toolkit.experiment.spec import Spec
from toolkit.progress import NullProgress, Progress


def prepare(spec: Spec, *, cache_dir: str | None = None):
    """The spec's users and target, checked for enough positives per fold (its task's ``prepare``)."""
    return spec.build_task().prepare(spec, cache_dir=cache_dir)


def crawl_chart(spec: Spec, cache_dir: str | None = None) -> list[str]:
    """The crawl's volume per day with the spec's windows, drawn from the posts alone (no label needed).

    Shown when a spec is refused for its label counts, so the user sees the holes that emptied the
    cohort; empty when the posts themselves cannot be read (that error is the one to show).
    """
    from toolkit.data.crawl import daily_volume

    try:
        posts, _ = load_posts(data_path(spec, cache_dir), **spec.data.load_options())
    except ToolkitError:
        return []
    return text_chart(daily_volume(posts["create_time"]), label_windows(spec.label))


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
    task = spec.build_task()
    prepared = task.prepare(spec, cache_dir=cache_dir)  # data problems surface before TensorFlow is imported
    make_deterministic(spec.seed)
    store = FeatureStore.open(prepared.users, cache_dir if use_cache else None, enabled=use_cache)
    task.log_data(progress, prepared)
    with ResultsFolder(results_dir, spec.name, enabled=save) as out:
        fold_seed = spec.seed if fold_seed is None else fold_seed
        loop_start = time.perf_counter()
        cv = task.cross_validate(spec, prepared, store, fold_seed=fold_seed, progress=progress)
        permutation = task.permutation(spec, prepared, store, cv, fold_seed=fold_seed, progress=progress,
                                       loop_seconds=time.perf_counter() - loop_start)
        progress.start("final model", 1)
        final = task.final_model(spec, prepared, store, out.path / "model" if save else None)
        progress.advance("final model")
        result = task.record(spec, prepared, cv, final, store, permutation)
        if save:
            out.write_json(METRICS_FILE, result)
            out.write_yaml(SPEC_FILE, spec.resolved())
            task.write(out, spec, prepared, cv, result)
            out.write_log(progress.lines, result)  # ends with the tables the terminal shows
            r = prepared.report
            write_png(r.volume, r.windows, out.path / "coverage.png", threshold=r.coverage_min_posts)
            write_run_report(out.path, result)  # last: it embeds the figures above
    return Outcome(result, out.final if save else None, progress.lines)
