"""The Python API behind ``from toolkit import run, bench, compare, load_run``.

The same validation, folders and numbers as the command line, returned as objects instead
of printed: a :class:`Run` for one finished run, a :class:`Comparison` for a table of runs.
Mistakes raise :class:`~toolkit.errors.ToolkitError` with the command line's message;
nothing here prints (unless ``quiet=False``) or exits the interpreter.
"""

from __future__ import annotations

import copy
import io
import json
import tempfile
from pathlib import Path

import pandas as pd

from toolkit.errors import ToolkitError
from toolkit.experiment.record import RunRecord


class Run:
    """One finished run: its figures, out-of-fold scores and saved model, read from its folder once."""

    def __init__(self, record: RunRecord):
        self.record = record

    def __repr__(self) -> str:
        key = "c_index" if self.record.label_kind == "time_to_event" else "roc_auc"
        m = self.record.metrics[key]
        return f"Run({self.record.name!r}, {key}={m.mean:.3f} [{m.low:.3f}, {m.high:.3f}], folder={str(self.folder)!r})"

    @property
    def folder(self) -> Path | None:
        return self.record.folder

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per metric: ``metric, mean, low, high`` (out-of-fold, bootstrap interval)."""
        return pd.DataFrame([(name, i.mean, i.low, i.high) for name, i in self.record.metrics.items()],
                            columns=["metric", "mean", "low", "high"])

    @property
    def scores(self) -> pd.DataFrame:
        """Out-of-fold scores: ``user, repeat, fold, score, label``, one row per scored user and repeat.

        A time-to-return run's are ``user, repeat, fold, risk, time_bin, returned`` and each user's
        chance of a return by each horizon (``p_return_by_<H>d``).
        """
        table = self.record.predictions
        if self.record.label_kind == "time_to_event":
            return table.rename(columns={"user_id": "user"}).reset_index(drop=True)
        return pd.DataFrame({"user": table["user_id"].to_numpy(), "repeat": table["repeat"].to_numpy(),
                             "fold": table["fold"].to_numpy(), "score": table["score"].to_numpy(),
                             "label": table["label"].to_numpy()})

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
        """What the label did to the users: counts, positives, windows, the data source."""
        return copy.deepcopy(self.record.raw.get("data", {}))

    def predict(self, posts: str | Path | pd.DataFrame) -> pd.DataFrame:
        """Score the users of a posts CSV (a path, or a DataFrame of posts) with this run's final model.

        Loading the model unpickles the run's fitted featurizers, which runs code: use it on run
        folders you made or trust (their recorded hashes are checked first).
        """
        from toolkit.analysis.predict import predict

        folder = self._saved()
        if isinstance(posts, pd.DataFrame):
            with tempfile.TemporaryDirectory(prefix="toolkit-predict-") as tmp:
                path = Path(tmp) / "posts.csv"
                posts.to_csv(path, index=False)
                return predict(folder, path)
        return predict(folder, posts)

    def explain(self, out: str | Path | None = None, *, repeats: int = 5, cache_dir: str | None = None) -> dict:
        """What drives retention in this run (as ``python -m toolkit explain``); writes into ``out``.

        ``out`` defaults to ``<run folder>/explain``. Like :meth:`predict`, it refits on the run's
        data and reads its folder: use it on run folders you trust.
        """
        from toolkit.analysis.explain import explain

        if not isinstance(repeats, int) or repeats < 2:
            raise ToolkitError(f"repeats must be an int >= 2 (an interval needs repeats). Got {repeats!r} instead.")
        return explain(self._saved(), out, repeats=repeats, cache_dir=cache_dir)

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
        """One row per configuration (then an oracle row on synthetic data), the columns of ``table.csv``."""
        from toolkit.bench.table import ROW_KEYS

        return pd.DataFrame([{k: r.get(k) for k in ROW_KEYS} for r in self.rows], columns=list(ROW_KEYS))

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
        raw = copy.deepcopy(spec)
        for item in items:
            apply_override(raw, item)
        return parse_spec(raw, base_dir=Path.cwd())
    if isinstance(spec, (str, Path)):
        return load_spec(spec, items)
    raise ToolkitError(f"spec must be a path to a YAML spec or a dict. Got {type(spec).__name__} instead.")


def _override_items(overrides) -> list[str]:
    """``--set`` items from a dict (``{"training.epochs": 5}``) or a list of ``"key.path=value"`` texts."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{k}={json.dumps(v)}" for k, v in overrides.items()]  # JSON is YAML: values keep their type
    if isinstance(overrides, (list, tuple)):
        return [str(item) for item in overrides]
    raise ToolkitError(f"set must be a dict or a list of 'key.path=value'. Got {type(overrides).__name__} instead.")


def _results_dir(results_dir) -> Path:
    path = Path(results_dir if results_dir is not None else "results")
    if path.exists() and not path.is_dir():
        raise ToolkitError(f"results_dir {str(path)!r} is a file; expected a folder (it is created if missing).")
    return path


def _progress(quiet: bool):
    from toolkit.progress import NullProgress, RichProgress

    if quiet:
        return NullProgress()
    from rich.console import Console

    return RichProgress(Console(stderr=True, log_path=False))


def run(spec, *, set=None, results_dir=None, cache_dir=None, quiet: bool = True, use_cache: bool = True) -> Run:
    """Run a spec (see ``toolkit.run`` for the documentation)."""
    from toolkit.experiment.runner import run as run_spec

    parsed = _spec(spec, set)
    progress = _progress(quiet)
    options = dict(results_dir=_results_dir(results_dir), cache_dir=cache_dir, use_cache=use_cache)
    if quiet:
        outcome = run_spec(parsed, progress=progress, **options)
    else:
        with progress:
            outcome = run_spec(parsed, progress=progress, **options)
    return Run(outcome.record)


def load_run(path: str | Path) -> Run:
    """A finished run folder read back (see ``toolkit.load_run``)."""
    return Run(RunRecord.open(path))


def compare(paths, *, per_seed: bool = False, out: str | Path | None = None) -> Comparison:
    """The comparison table of finished run or sweep folders (see ``toolkit.compare``)."""
    from toolkit.bench.comparison import finish, gather
    from toolkit.bench.table import build_rows, header_lines

    if isinstance(paths, (str, Path)):
        paths = [paths]
    results, baselines = gather([str(p) for p in paths])
    rows = build_rows(results, baselines=baselines, per_seed=per_seed)
    header = header_lines(results)
    if out is not None:
        out = _results_dir(out)
        out.mkdir(parents=True, exist_ok=True)
        finish(out, results, baselines, _quiet_console(), per_seed=per_seed, rows=rows)
    return Comparison(results, rows, header, Path(out) if out is not None else None)


def bench(sweep, *, workers: int = 1, executor: str = "local", resume: bool | str = False, results_dir=None,
          cache_dir=None, per_seed: bool = False, quiet: bool = True) -> Comparison:
    """Run a sweep (one file, or a list to combine) and build its comparison, as ``python -m toolkit bench``.

    Example:
        >>> c = toolkit.bench("experiments/sweep.yaml", workers=2)  # doctest: +SKIP
        >>> c.table[["label", "roc_auc", "total_cost_s", "pareto"]]  # doctest: +SKIP
    """
    from toolkit.bench.comparison import write_outputs
    from toolkit.bench.harness import run_sweep
    from toolkit.bench.sweep import combine, load_sweep

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ToolkitError(f"workers must be an int >= 1. Got {workers!r} instead.")
    if executor not in ("local", "ray"):
        raise ToolkitError(f"executor must be 'local' or 'ray'. Got {executor!r} instead.")
    files = [sweep] if isinstance(sweep, (str, Path)) else list(sweep)
    loaded = load_sweep(files[0]) if len(files) == 1 else combine([str(f) for f in files])
    progress = _progress(quiet)
    options = dict(results_dir=_results_dir(results_dir), workers=workers, executor=executor, resume=resume,
                   cache_dir=cache_dir, progress=progress)
    baselines, written = loaded.baselines(), []

    def write(folder, results):  # with the sweep's lock held
        written.append(write_outputs(folder, results, baselines, per_seed=per_seed))

    if quiet:
        folder, results = run_sweep(loaded, then=write, **options)
    else:
        with progress:
            folder, results = run_sweep(loaded, then=write, **options)
    return Comparison(results, written[0].rows, written[0].header, folder)


def _quiet_console():
    from rich.console import Console

    return Console(file=io.StringIO(), markup=False, highlight=False, width=180)
