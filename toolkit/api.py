"""The Python API behind ``from toolkit import run, bench, compare, load_run``.

The same validation, folders and numbers as the command line, returned as objects instead
of printed: a :class:`Run` for one finished run, a :class:`Comparison` for a table of runs.
Mistakes raise :class:`~toolkit.errors.ToolkitError` with the command line's message;
nothing here prints (unless ``quiet=False``: progress, as text in a notebook or bars in a terminal)
or exits the interpreter; what a run warns about is issued once per warning as a
:class:`~toolkit.errors.ToolkitWarning` after it (:func:`issue_warnings`). Every argument is checked
(:mod:`toolkit.arguments`) before any work starts, against the command line's own caps, so a
value Python can hold but a command line could not (a spec nested 5,000 deep, ``10**5000``
users, a NUL byte in a path) is a ToolkitError too, never a RecursionError or OverflowError.
"""

from __future__ import annotations

import copy
import io
import json
import os
import tempfile
import warnings as python_warnings
from pathlib import Path

import pandas as pd

from toolkit.arguments import (check_bool, check_choice, check_path, check_paths, check_plain_data, check_repeats,
                               check_workers, shown)
from toolkit import frames
from toolkit.errors import ToolkitError, ToolkitWarning
from toolkit.experiment.record import RunRecord
from toolkit.registry import TASKS


class Run:
    """One finished run: its figures, out-of-fold scores and saved model, read from its folder once."""

    def __init__(self, record: RunRecord):
        self.record = record

    def __repr__(self) -> str:
        key = self.record.task_class.headline()
        m = self.record.metrics[key]
        text = f"Run({self.record.name!r}, {key}={m.mean:.3f} [{m.low:.3f}, {m.high:.3f}], folder={str(self.folder)!r})"
        return "\n".join([text, *(f"  {w}" for w in self.warnings)])

    @property
    def folder(self) -> Path | None:
        return self.record.folder

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def metrics(self) -> pd.DataFrame:
        """Every figure the terminal prints for this run: ``metric, mean, low, high, group, note``.

        The out-of-fold metrics with their intervals (a yes/no run: ROC-AUC, PR-AUC, recall,
        precision, f1, accuracy and balanced accuracy at the threshold, Brier and ECE; a
        time-to-return run: C-index, Uno's C, AUC per horizon, IBS), then the mean of the folds,
        the no-features reference, the permutation p-values (``mean`` is the p-value), the
        oracle on synthetic data and each confound baseline's metrics and Δ
        (``timing_delta_roc_auc``). ``group`` says which; ``low``/``high`` are NaN where there is
        no interval.
        """
        return frames.metric_rows(self.record.raw)

    @property
    def warnings(self) -> list[str]:
        """What the run warns about, each once (the terminal's ``warning:`` lines), issued as ToolkitWarning."""
        return run_warnings(self.record)

    def leaderboard(self) -> pd.DataFrame:
        """This run as the one row of a leaderboard (the columns of :meth:`Comparison.leaderboard`).

        The Δ is over the run's timing baseline (its confound baselines are all it has to compare with).
        """
        return pd.DataFrame([frames.run_row(self.name, self.record.raw, self.record.task_class)])

    @property
    def scores(self) -> pd.DataFrame:
        """Out-of-fold scores: ``user, repeat, fold, score, label``, one row per scored user and repeat.

        A time-to-return run's are ``user, repeat, fold, risk, time_bin, returned`` and each user's
        chance of a return by each horizon (``p_return_by_<H>d``).
        """
        task = self.record.task_class
        table = self.record.predictions.rename(columns={"user_id": "user"}).reset_index(drop=True)
        first = ["user", "repeat", "fold", task.score_column, *task.label_columns]
        rest = [c for c in table.columns if c not in first and c != "predicted"]  # hard predictions: see the threshold
        return table[first + rest]

    @property
    def baselines(self) -> pd.DataFrame:
        """The confound baselines: ``baseline, metric, mean, low, high`` (empty for a run without them)."""
        rows = [(name, metric, i.mean, i.low, i.high) for name, entry in self.record.baselines.items()
                for metric, i in entry.items()]
        return pd.DataFrame(rows, columns=["baseline", "metric", "mean", "low", "high"])

    @property
    def cost(self) -> dict:
        """The cost block: seconds to featurize and train per fold, predict ms per 1,000 users, sizes, FLOPs."""
        return copy.deepcopy(self.record.cost)

    @property
    def data(self) -> dict:
        """What the label did to the users: counts, positives, windows, the data source, and the run's warnings."""
        return {**copy.deepcopy(self.record.raw.get("data", {})), "warnings": self.warnings}

    def predict(self, posts: str | Path | pd.DataFrame) -> pd.DataFrame:
        """Score the users of a posts CSV (a path, or a DataFrame of posts) with this run's final model.

        Loading the model unpickles the run's fitted featurizers, which runs code: use it on run
        folders you made or trust (their recorded hashes are checked first).

        Raises:
            ToolkitError: ``posts`` is neither a path nor a DataFrame, the posts cannot be read, the
                run was not saved, or its model files are missing or changed.
        """
        from toolkit.analysis.predict import predict

        folder = self._saved()
        if isinstance(posts, pd.DataFrame):
            with tempfile.TemporaryDirectory(prefix="toolkit-predict-") as tmp:
                path = Path(tmp) / "posts.csv"
                posts.to_csv(path, index=False)
                return predict(folder, path)
        if not isinstance(posts, (str, os.PathLike)):
            raise ToolkitError(f"posts must be a path to a posts CSV or a DataFrame of posts. "
                               f"Got {type(posts).__name__} {shown(posts)} instead.")
        return predict(folder, check_path("posts", posts))

    def explain(self, out: str | Path | None = None, *, repeats: int = 5, cache_dir: str | None = None) -> dict:
        """What drives retention in this run (as ``python -m toolkit explain``); writes into ``out``.

        ``out`` defaults to ``<run folder>/explain``. Like :meth:`predict`, it refits on the run's
        data and reads its folder: use it on run folders you trust.

        Raises:
            ToolkitError: ``repeats`` is not an int from 2 to 1,000 (``explain --repeats``'s cap),
                ``out`` or ``cache_dir`` is not a usable path, or the run cannot be explained.
        """
        from toolkit.analysis.explain import explain

        check_repeats("repeats", repeats)
        out = check_path("out", out, optional=True)
        cache_dir = check_path("cache_dir", cache_dir, optional=True)
        return explain(self._saved(), out, repeats=repeats, cache_dir=None if cache_dir is None else str(cache_dir))

    def _saved(self) -> Path:
        if self.folder is None:
            raise ToolkitError("This run was not saved: it has no folder to load a model from.")
        return self.folder


class Comparison:
    """A comparison table of finished runs or sweep configurations (the numbers of ``table.csv``)."""

    def __init__(self, results: list, rows: list[dict], header: list[str], folder: Path | None = None):
        self.results, self.rows, self.header, self.folder = results, rows, header, folder

    def __repr__(self) -> str:
        done = sum(r.status == "done" for r in self.results)
        return f"Comparison({len(self.results)} configurations, {done} done)"

    @property
    def table(self) -> pd.DataFrame:
        """One row per configuration (then an oracle row on synthetic data), the numbers of ``table.csv``.

        Rows in ``table.csv``'s order; its columns, less those of another task (a yes/no
        comparison has no C-index columns, a time-to-return one no ROC-AUC columns).
        """
        from toolkit.bench.table import ROW_KEYS

        columns = frames.task_columns(ROW_KEYS, self._tasks(), [TASKS.get(n) for n in TASKS.names()])
        return pd.DataFrame([{k: r.get(k) for k in columns} for r in self.rows], columns=columns)

    def leaderboard(self) -> pd.DataFrame:
        """One row per configuration, best first by the task's headline metric (ROC-AUC, C-index).

        Columns: ``model`` (the label), the task's metrics (the headline with ``_low``/``_high``),
        ``delta_<metric>`` over the baseline configuration (with its interval and Holm p-value)
        and ``baseline``, then the cost: ``fit_time_s`` (featurize + train, per fold),
        ``predict_time_s`` (per 1,000 users), ``total_cost_s``, and ``is_baseline``, ``pareto``,
        ``status``, ``config_id``. Failed or skipped configurations come last; no oracle row.

        Raises:
            ToolkitError: the comparison mixes tasks (one headline cannot rank them).
        """
        tasks = self._tasks()
        if len(tasks) > 1:
            raise ToolkitError(f"A leaderboard ranks runs of one task; this comparison has "
                               f"{', '.join(t.registry_name for t in tasks)}. Compare each task's runs apart.")
        task = tasks[0] if tasks else TASKS.get("binary")  # nothing finished: every row is at the bottom anyway
        configs = [r for r in self.rows if r.get("kind", "config") == "config"]
        base = next((r.get("label") for r in configs if r.get("is_baseline")), "")
        return frames.leaderboard([frames.comparison_row(r, task, base) for r in configs], task)

    def _tasks(self) -> list:
        """The task classes of the finished configurations, in order of first appearance."""
        names = list(dict.fromkeys(r.record.task for r in self.results if r.status == "done"))
        return [TASKS.get(n) for n in names]

    @property
    def failed(self) -> list[str]:
        """Ids of configurations that failed (their tracebacks are in the sweep folder)."""
        return [r.config_id for r in self.results if r.status == "failed"]

    def plot(self):
        """The Pareto figure (ROC-AUC against total cost) as a matplotlib Figure."""
        from toolkit.bench.plots import pareto_figure

        return pareto_figure(self.rows)


def _spec(spec: str | Path | dict, overrides) -> object:
    from toolkit.experiment.spec import apply_override, load_spec, parse_spec

    items = _override_items(overrides)
    if isinstance(spec, dict):
        check_plain_data("spec", spec)  # before deepcopy, which recurses
        raw = copy.deepcopy(spec)
        for item in items:
            apply_override(raw, item)
        check_plain_data("spec", raw)  # a --set key.path can make it deeper
        return parse_spec(raw, base_dir=Path.cwd())
    if isinstance(spec, (str, os.PathLike)):
        return load_spec(check_path("spec", spec), items)
    raise ToolkitError(f"spec must be a path to a YAML spec or a dict. Got {type(spec).__name__} instead.")


def _override_items(overrides) -> list[str]:
    """``--set`` items from a dict (``{"training.epochs": 5}``) or a list of ``"key.path=value"`` texts."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        check_plain_data("set", overrides)
        keys = [k for k in overrides if not isinstance(k, str)]
        if keys:
            raise ToolkitError(f"set's keys must be key paths such as 'training.epochs'. Got {shown(keys[0])}.")
        # JSON is YAML: values keep their type (dates, the one plain value JSON lacks, as their ISO text)
        return [f"{k}={json.dumps(v, default=str)}" for k, v in overrides.items()]
    if isinstance(overrides, (list, tuple)):
        texts = [item for item in overrides if not isinstance(item, str)]
        if texts:
            raise ToolkitError(f"set must hold 'key.path=value' texts. Got {type(texts[0]).__name__} "
                               f"{shown(texts[0])}.")
        return list(overrides)
    raise ToolkitError(f"set must be a dict or a list of 'key.path=value'. Got {type(overrides).__name__} instead.")


def _results_dir(results_dir, name: str = "results_dir") -> Path:
    path = check_path(name, results_dir if results_dir is not None else "results")
    if path.exists() and not path.is_dir():
        raise ToolkitError(f"{name} {str(path)!r} is a file; expected a folder (it is created if missing).")
    return path


def _cache_dir(cache_dir) -> str | None:
    path = check_path("cache_dir", cache_dir, optional=True)
    return None if path is None else str(path)


def progress_for(quiet: bool):
    """The sink of a Python API call: silent when ``quiet``, else text in a notebook, bars in a terminal.

    Every one returned is a context manager (the silent one does nothing on entry and exit).
    """
    from toolkit.progress import RichProgress, SilentProgress
    from toolkit.progress_notebook import NotebookProgress, in_notebook

    if quiet:
        return SilentProgress()
    if in_notebook():
        return NotebookProgress()
    from toolkit.terminal import safe_console

    return RichProgress(safe_console(stderr=True, log_path=False))


def run_warnings(record: RunRecord) -> list[str]:
    """A run's warnings, each once: those it recorded, and threshold fallbacks the terminal shows under its metrics."""
    found = [_with_prefix(w) for w in record.warnings]
    thr = record.raw.get("threshold")
    fallbacks = thr.get("fallbacks") if isinstance(thr, dict) else None
    folds = len(record.folds)
    if isinstance(fallbacks, int) and not isinstance(fallbacks, bool) and fallbacks > 0:
        found.append(f"warning: {fallbacks} of {folds} folds fell back to flagging the training positive rate "
                     f"(validation part with < {thr.get('min_validation_positives')} positives): recall and "
                     f"precision are at that threshold, not at {thr.get('rule')!r}.")
    return list(dict.fromkeys(found))


def _with_prefix(text: str) -> str:
    return text if text.startswith("warning:") else f"warning: {text}"


def issue_warnings(texts: list[str]) -> None:
    """Each text as a ToolkitWarning, attributed to the caller's line outside the toolkit (as the CLI prints them).

    Every run shows its own: a fresh registry, so the same warning from a cell run again is shown
    again (``warnings.warn`` would show it once per line); filters (``ignore``, ``error``) still apply.
    """
    import sys

    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").split(".")[0] == "toolkit":
        frame = frame.f_back
    for text in texts:
        python_warnings.warn_explicit(text.removeprefix("warning: "), ToolkitWarning, frame.f_code.co_filename,
                                      frame.f_lineno, module=frame.f_globals.get("__name__"), registry={},
                                      module_globals=frame.f_globals)


def run(spec, *, set=None, results_dir=None, cache_dir=None, quiet: bool = True, use_cache: bool = True) -> Run:
    """Run a spec (see ``toolkit.run`` for the documentation).

    Raises:
        ToolkitError: a bad argument, or the spec, its data or its label cannot be used.
    """
    from toolkit.experiment.runner import run as run_spec

    check_bool("quiet", quiet)
    check_bool("use_cache", use_cache)
    options = dict(results_dir=_results_dir(results_dir), cache_dir=_cache_dir(cache_dir), use_cache=use_cache)
    parsed = _spec(spec, set)
    with progress_for(quiet) as progress:
        outcome = run_spec(parsed, progress=progress, **options)
    finished = Run(outcome.record)
    issue_warnings(finished.warnings)
    return finished


def load_run(path: str | Path) -> Run:
    """A finished run folder read back (see ``toolkit.load_run``).

    Raises:
        ToolkitError: ``path`` is not a path, or not a finished run folder this version can read.
    """
    return Run(RunRecord.open(check_path("path", path)))


def compare(paths, *, per_seed: bool = False, out: str | Path | None = None) -> Comparison:
    """The comparison table of finished run or sweep folders (see ``toolkit.compare``).

    Raises:
        ToolkitError: a bad argument, or a folder that is not a finished run or sweep.
    """
    from toolkit.bench.comparison import finish, gather
    from toolkit.bench.table import build_rows, header_lines

    folders = check_paths("paths", paths)
    check_bool("per_seed", per_seed)
    if out is not None:
        out = _results_dir(out, "out")
    results, baselines = gather([str(p) for p in folders])
    rows = build_rows(results, baselines=baselines, per_seed=per_seed)
    header = header_lines(results)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        finish(out, results, baselines, _quiet_console(), per_seed=per_seed, rows=rows)
    return Comparison(results, rows, header, out)


def bench(sweep, *, workers: int = 1, executor: str = "local", resume: bool | str = False, results_dir=None,
          cache_dir=None, per_seed: bool = False, quiet: bool = True) -> Comparison:
    """Run a sweep (one file, or a list to combine) and build its comparison, as ``python -m toolkit bench``.

    Raises:
        ToolkitError: a bad argument (``workers`` is capped as ``--workers`` is), or a sweep that
            cannot be run.

    Example:
        >>> c = toolkit.bench("experiments/sweep.yaml", workers=2)  # doctest: +SKIP
        >>> c.table[["label", "roc_auc", "total_cost_s", "pareto"]]  # doctest: +SKIP
    """
    from toolkit.bench.comparison import write_outputs
    from toolkit.bench.harness import run_sweep
    from toolkit.bench.sweep import combine, load_sweep

    files = check_paths("sweep", sweep, allow_empty=False)
    options = dict(results_dir=_results_dir(results_dir), workers=check_workers("workers", workers),
                   executor=check_choice("executor", executor, ("local", "ray")), resume=_resume(resume),
                   cache_dir=_cache_dir(cache_dir))
    check_bool("per_seed", per_seed)
    check_bool("quiet", quiet)
    loaded = load_sweep(files[0]) if len(files) == 1 else combine([str(f) for f in files])
    baselines, written = loaded.baselines(), []

    def write(folder, results):  # with the sweep's lock held
        written.append(write_outputs(folder, results, baselines, per_seed=per_seed))

    with progress_for(quiet) as progress:
        folder, results = run_sweep(loaded, then=write, progress=progress, **options)
    return Comparison(results, written[0].rows, written[0].header, folder)


def _resume(resume) -> bool | str:
    """``resume``: False, True (the latest unfinished run of the sweep) or a sweep folder, as ``--resume``."""
    if isinstance(resume, bool):
        return resume
    if not isinstance(resume, (str, os.PathLike)):
        raise ToolkitError(f"resume must be True, False or a sweep folder. Got {type(resume).__name__} "
                           f"{shown(resume)} instead.")
    return str(check_path("resume", resume))


def _quiet_console():
    from rich.console import Console

    return Console(file=io.StringIO(), markup=False, highlight=False, width=180, force_jupyter=False)
