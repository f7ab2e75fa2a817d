"""Retention toolkit: predict whether users who moved platforms stay, and what it costs.

The command line (``python -m toolkit ...``) and this Python API do the same things with the
same checks, folders and numbers; the API returns objects instead of printing:

* :func:`run` -- run a spec, get a ``Run``
* :func:`load_run` -- read a finished run folder back as a ``Run``
* :func:`compare` -- the comparison table of run or sweep folders, as a ``Comparison``
* :func:`bench` -- run a sweep and get its ``Comparison``

``Run`` has ``.metrics``, ``.scores``, ``.baselines`` (DataFrames), ``.cost``, ``.data``
(dicts), ``.warnings``, ``.leaderboard()``, ``.predict(posts)`` and ``.explain()``; ``Comparison``
has ``.table`` (the numbers of ``table.csv``), ``.leaderboard()`` (best first, with cost) and
``.plot()`` (the Pareto figure). What a run warns about is issued as ``toolkit.ToolkitWarning``. Mistakes raise
``toolkit.ToolkitError`` with the command line's message, and so does any argument the command
line could not have been given (a spec nested too deep, an int too large, a NUL byte in a path):
every argument is checked, against the command line's caps, before any work starts.

Example:
    >>> import toolkit
    >>> r = toolkit.run("experiments/quickstart.yaml", set={"training.epochs": 2})  # doctest: +SKIP
    >>> r.metrics  # doctest: +SKIP
          metric   mean    low   high  group note
    0    roc_auc  0.712  0.688  0.735  model
    ...
    >>> toolkit.compare([r.folder]).table[["label", "roc_auc"]]  # doctest: +SKIP
"""

import importlib

from toolkit._version import __version__

__all__ = ["run", "load_run", "compare", "bench", "Run", "Comparison", "ToolkitError", "ToolkitWarning",
           "__version__"]


def _api():
    # Imported on first use: ``python -m toolkit`` and ``import toolkit`` stay light (no pandas,
    # no TensorFlow) until an API function is called. By name, since the API sits above the
    # package's layers and this module at their bottom.
    return importlib.import_module("toolkit.api")


def run(spec, *, set=None, results_dir=None, cache_dir=None, quiet=True, use_cache=True):
    """Run a spec and write its results folder, as ``python -m toolkit run SPEC`` does.

    Args:
        spec: a path to a YAML spec, or the spec as a dict (relative data paths are read from
            the current folder).
        set: overrides, as ``--set``: a dict ``{"training.epochs": 5}`` or a list of
            ``"key.path=value"`` texts.
        results_dir: where ``<name>/<timestamp>/`` is written (default ``results``).
        cache_dir: the feature and synthetic-data cache (default: the toolkit's).
        quiet: ``True`` (the default): nothing is displayed while the run works (no progress, no
            log lines; ``run.log`` in the run folder has them all). ``False``: progress as it
            goes: in a Jupyter notebook one plain-text output updated in place (the log lines,
            then each step's count, elapsed time and time remaining; no extra install needed),
            in a terminal rich bars on stderr. Either way the run's warnings are issued after
            it, once each, as ``toolkit.ToolkitWarning`` (and listed in ``run.warnings``).
        use_cache: read and write feature blocks in the cache.

    Returns:
        A ``Run``.

    Raises:
        ToolkitError: the spec, its data or its label cannot be used (the command line's message);
            a spec dict that YAML could not hold (nested deeper than 64 levels, objects other than
            dicts, lists, text, numbers, booleans, None and dates, integers beyond 64 bits);
            ``results_dir`` or ``cache_dir`` not a path (or holding a NUL byte); ``quiet`` or
            ``use_cache`` not a bool.

    Example:
        >>> r = toolkit.run("experiments/quickstart.yaml")  # doctest: +SKIP
        >>> r.metrics.set_index("metric").loc["roc_auc", "mean"]  # doctest: +SKIP
        0.71
    """
    return _api().run(spec, set=set, results_dir=results_dir, cache_dir=cache_dir, quiet=quiet,
                      use_cache=use_cache)


def load_run(path):
    """A finished run folder read back as a ``Run`` (sizes, versions and sections checked first).

    Example:
        >>> r = toolkit.load_run("results/quickstart/20250101-120000")  # doctest: +SKIP
        >>> r.scores.head()  # doctest: +SKIP
        >>> r.predict("new_posts.csv")  # doctest: +SKIP

    ``Run.predict`` and ``Run.explain`` unpickle the run's fitted featurizers, which runs code:
    use them on folders you made or trust (each file's recorded sha256 is checked first).
    ``Run.explain(repeats=)`` is capped at 1,000, as ``explain --repeats`` is.

    Raises:
        ToolkitError: ``path`` is not a path (a str or pathlib.Path), or not a finished run folder
            this version can read (missing, damaged, too large, a special file, a newer format).
    """
    return _api().load_run(path)


def compare(paths, *, per_seed=False, out=None):
    """The comparison table of finished run folders and sweep folders, as ``python -m toolkit compare``.

    Nothing is written unless ``out`` names a folder (then table.md/csv/json, plots and
    report.html go there). Among plain run folders the first is the baseline.

    Example:
        >>> c = toolkit.compare(["results/a/20250101-120000", "results/b/20250101-130000"])  # doctest: +SKIP
        >>> c.table[["label", "roc_auc", "delta_roc_auc"]]  # doctest: +SKIP
        >>> fig = c.plot()  # doctest: +SKIP

    Raises:
        ToolkitError: ``paths`` is not a path or a list of paths, a folder is not a finished run
            or sweep, ``out`` is a file or not a path, or ``per_seed`` is not a bool.
    """
    return _api().compare(paths, per_seed=per_seed, out=out)


def bench(sweep, *, workers=1, executor="local", resume=False, results_dir=None, cache_dir=None, per_seed=False,
          quiet=True):
    """Run a sweep (one file, or a list to combine) and build its comparison, as ``python -m toolkit bench``.

    The sweep folder, ledger, table files and plots are written as by the command line; the
    returned ``Comparison`` has ``.folder`` and ``.failed`` (ids of configurations that failed).
    (Once the ``toolkit.bench`` subpackage is imported, ``toolkit.bench`` is that package, which
    is callable the same way.)

    Example:
        >>> c = toolkit.bench("experiments/sweep.yaml", workers=2)  # doctest: +SKIP
        >>> c.table[["label", "roc_auc", "total_cost_s", "pareto"]]  # doctest: +SKIP

    Raises:
        ToolkitError: ``sweep`` is not a path or a non-empty list of paths; ``workers`` is not an
            int from 1 to 1,024 (``--workers``'s cap); ``executor`` is not 'local' or 'ray';
            ``resume`` is not a bool or a sweep folder; a path holds a NUL byte; or the sweep
            cannot be run (the command line's message).
    """
    return _api().bench(sweep, workers=workers, executor=executor, resume=resume, results_dir=results_dir,
                        cache_dir=cache_dir, per_seed=per_seed, quiet=quiet)


def __getattr__(name):
    if name in ("Run", "Comparison"):
        return getattr(_api(), name)
    if name in ("ToolkitError", "ToolkitWarning"):
        return getattr(importlib.import_module("toolkit.errors"), name)
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
