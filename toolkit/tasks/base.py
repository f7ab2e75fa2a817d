"""The base every task shares: what a run learns from its users, and how that is judged.

A task is a plugin like a head or a featurizer (:class:`~toolkit.plugin.Plugin`: constructor
= config = YAML block), chosen by the spec's ``task:`` key or, without one, by its label
(``label.retained_if``: ``binary``; ``label.time_to_return``: ``time_to_return``). It is the
one place that knows its kind of label; every other module asks it:

* the pipeline (:func:`toolkit.experiment.runner.run` calls these in order): :meth:`Task.prepare`
  (users and their target, refused when too few positives), :meth:`Task.log_data`,
  :meth:`Task.cross_validate` (folds, out-of-fold predictions), :meth:`Task.permutation`,
  :meth:`Task.final_model`, :meth:`Task.record` (``metrics.json``) and :meth:`Task.write`
  (predictions and the task's own figures);
* spec validation: :attr:`Task.target` (what its heads learn, matched against
  :attr:`toolkit.heads.Head.targets`) and :meth:`Task.check_spec`;
* the readers, from a record's ``task`` name alone (class attributes and class methods, since
  a record does not rebuild the task): the metrics it reports and their headline, whether
  it has a threshold, its predictions.csv columns, its paired deltas for ``bench``/``compare``,
  its console and report sections;
* ``explain`` and ``predict``: :meth:`Task.explain`, :meth:`Task.score_users`.

A new kind of label (a count of returns, a multi-class outcome) is one module that subclasses
this (or :class:`~toolkit.tasks.binary.BinaryTask`, for a yes/no label built another way),
registered with :func:`toolkit.registry.register_task` or through the entry-point group
``toolkit.tasks``; nothing else is edited.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.plugin import Plugin
from toolkit.registry import TASKS


class Task(Plugin):
    """Base class for task plugins; see the module docstring for the contract."""

    #: what the task's heads learn (a head lists the targets it takes in ``Head.targets``)
    target: ClassVar[str] = "binary"
    #: the label block the task reads (``label.<label_form>``), named in messages
    label_form: ClassVar[str] = "retained_if"
    #: the metrics a table shows for its runs, in order; the first is the headline
    metrics: ClassVar[tuple[str, ...]] = ()
    #: the metric shown beside the headline in the baselines tables
    second_metric: ClassVar[str] = ""
    #: the metrics ``bench``/``compare`` pair against the baseline row (Δ columns)
    delta_metrics: ClassVar[tuple[str, ...]] = ()
    #: the metrics a confound baseline entry may hold
    baseline_metrics: ClassVar[tuple[str, ...]] = ()
    #: whether the run picks a threshold (and writes hard predictions)
    has_threshold: ClassVar[bool] = True
    #: what a positive is called in counts ("positives", "returns seen")
    positives_word: ClassVar[str] = "positives"
    #: predictions.csv: every column, the ones holding whole numbers, the score, the label's
    prediction_columns: ClassVar[tuple[str, ...]] = ()
    whole_columns: ClassVar[tuple[str, ...]] = ()
    score_column: ClassVar[str] = "score"
    label_columns: ClassVar[tuple[str, ...]] = ()
    #: whether a comparison table gets an oracle row from a synthetic run's true chances (its delta metrics)
    oracle_row: ClassVar[bool] = False
    #: the comparison table's line in place of the threshold rule, when every run is of this task
    table_note: ClassVar[str | None] = None
    #: titles of the headline and second metric, and of the model's Δ over a baseline
    titles: ClassVar[dict[str, str]] = {}
    #: the counts ``eda`` shows first, in order: (key of the eda result's ``counts``, column title);
    #: a key ending ``_rate`` is a share. The task's words: a yes/no label has labelled users and
    #: positives, a time to return has users in the analysis and returns.
    count_titles: ClassVar[tuple[tuple[str, str], ...]] = (
        ("posts", "posts"), ("users", "users"), ("cohort", "cohort"), ("censored_by_data_end", "censored by data end"),
        ("censored_by_coverage", "censored by coverage"), ("labelled", "labelled"), ("positives", "positives"),
        ("positive_rate", "rate"))

    @classmethod
    def headline(cls) -> str:
        """The metric that ranks runs (the first of :attr:`metrics`)."""
        return cls.metrics[0]

    # -- spec validation ---------------------------------------------------------------------
    def check_spec(self, spec) -> None:
        """Raise ToolkitError when the spec's label or settings cannot serve this task."""

    # -- the pipeline ------------------------------------------------------------------------
    def prepare(self, spec, *, cache_dir: str | None = None):
        raise NotImplementedError

    def log_data(self, progress, prepared) -> None:
        raise NotImplementedError

    def cross_validate(self, spec, prepared, store, *, fold_seed: int, progress):
        raise NotImplementedError

    def permutation(self, spec, prepared, store, cv, *, fold_seed: int, progress,
                    loop_seconds: float) -> dict | None:
        """``metrics.json``'s ``permutation`` block, or None when the run makes no shuffles."""
        return None

    def final_model(self, spec, prepared, store, folder):
        raise NotImplementedError

    def record(self, spec, prepared, cv, final, store, permutation: dict | None) -> dict:
        raise NotImplementedError

    def write(self, out, spec, prepared, cv, result: dict) -> None:
        """Write predictions.csv and the task's own figures into the run folder ``out``."""
        raise NotImplementedError

    # -- readers (from a record's task name) -------------------------------------------------
    @classmethod
    def read_metrics(cls, check) -> dict[str, Any]:
        """The record's ``metrics`` section as ``{name: Interval}`` (``check`` is record.py's checker)."""
        return {m: check.interval(f"metrics.{m}") for m in cls.metrics}

    @classmethod
    def labels(cls, first) -> np.ndarray:
        """The label of each user from predictions.csv's first row per user (``first``: a frame)."""
        values = first[list(cls.label_columns)].to_numpy(dtype=int)
        return values[:, 0] if values.shape[1] == 1 else values

    @classmethod
    def paired_draws(cls, metric: str, y, scores, base_scores, *, n_boot: int, seed: int):
        """``(point Δ, bootstrap draws of Δ)`` of ``metric`` between two runs' scores of the same users."""
        raise NotImplementedError

    @classmethod
    def fold_deltas(cls, metric: str, y, scores, base_scores, folds):
        """Per-fold Δs of ``metric`` (for the corrected resampled t interval)."""
        raise NotImplementedError

    @classmethod
    def console_header(cls, result: dict) -> str:
        """The run's first line in the terminal."""
        raise NotImplementedError

    @classmethod
    def console_metrics(cls, result: dict):
        """The run's metrics table (rich) for the terminal."""
        raise NotImplementedError

    @classmethod
    def console_baselines(cls, result: dict):
        """The model beside its confound baselines (rich table) for the terminal."""
        raise NotImplementedError

    @classmethod
    def report_metric_lines(cls, result: dict) -> list[str]:
        """The markdown rows of the run report's metrics table (after its header)."""
        raise NotImplementedError

    # -- eda -------------------------------------------------------------------------------
    def eda_users(self, data):
        """The task's own users for the EDA report when they differ from the labelled ones, else None."""
        return None

    def eda_view(self, data, users, y, report, extra, assignment, folder, files) -> dict:
        """The EDA report's task-specific numbers (figures join ``files``)."""
        raise ToolkitError(f"'eda' does not know task {self.registry_name!r} yet.")

    @classmethod
    def eda_markdown(cls, result: dict) -> str:
        raise ToolkitError(f"'eda' does not know task {cls.registry_name!r} yet.")

    # -- explain and predict -----------------------------------------------------------------
    def explain(self, run_dir, spec, folder, **options) -> dict:
        raise ToolkitError(f"'explain' does not know task {self.registry_name!r} yet.")

    def score_users(self, spec, model, users, skipped):
        """``(table, note or None)`` for ``predict``: one row per user, ``skipped`` ones blank with a reason."""
        raise ToolkitError(f"'predict' does not know task {self.registry_name!r} yet.")


def task_class(name: str) -> type[Task]:
    """The task class a record names (``metrics.json``'s ``task``)."""
    return TASKS.get(name)
