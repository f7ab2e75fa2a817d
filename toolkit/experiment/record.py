"""The results contract: what a run folder holds, and the one place that reads it back.

A run folder (``results/<name>/<timestamp>/``) is written by :mod:`toolkit.experiment.runner`
through :class:`toolkit.experiment.run_folder.ResultsFolder` and holds::

    metrics.json      the run's figures (read as a RunRecord)
    predictions.csv   out-of-fold scores: user_id, label, repeat, fold, score, predicted
                      (a time-to-return run: user_id, time_bin, returned, repeat, fold, risk,
                      p_return_by_<H>d per horizon)
    spec.yaml         the resolved spec
    model/model.json  the final model's parts, threshold and the sha256 of each saved file
    model/...         fitted featurizers (pickles) and the head

``task`` in metrics.json names the run's task (:mod:`toolkit.tasks`), which says what the
metrics section holds, whether there is a threshold and what predictions.csv's columns are:
``binary`` reports ``roc_auc``, ``pr_auc``, ``recall`` and ``precision`` and a threshold;
``time_to_return`` reports ``c_index``, ``uno_c``, ``ibs`` and ``auc_at`` per horizon, and has no
threshold. Runs written before tasks were plugins have no ``task``: a ``label_kind`` of
``time_to_event`` reads as ``time_to_return``, none as ``binary``.

Every reader in the toolkit goes through :class:`RunRecord`; no other module names these
files. A folder received from someone else is treated as untrusted input: sizes are checked
before anything is parsed, every section the toolkit needs is checked for type, and whatever
is wrong ends in one :class:`~toolkit.errors.ToolkitError` naming the file.

Versions: ``metrics.json`` records ``format_version`` (:data:`FORMAT_VERSION`) and the
``toolkit_version`` that wrote it. A folder without ``format_version`` comes from a toolkit
before it was recorded and is read as format 0 when it has every section this version needs;
a folder with a newer format is refused, naming both versions. Keys this version does not
know (added by a later toolkit) are kept in :attr:`RunRecord.raw` and otherwise ignored.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit._version import __version__
from toolkit.errors import ToolkitError
from toolkit.registry import TASKS, task_name
from toolkit.safe_io import atomic_write, describe_path, open_regular, read_regular

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.csv"
SPEC_FILE = "spec.yaml"
MODEL_DIR = "model"
MODEL_INFO_FILE = "model.json"
#: the results format this toolkit writes; it reads this one and every older one (0: not recorded)
FORMAT_VERSION = 1

#: a run's metrics.json is a few hundred kB at most (one entry per fold); anything larger is not one
MAX_METRICS_BYTES = 16 * 2**20
#: a model.json holds a few names and hashes
MAX_MODEL_INFO_BYTES = 2**20
#: predictions.csv: at most this many bytes per row (a 64-character user id and six numbers fit in
#: about 130), times the recorded users x repeats, plus :data:`PREDICTIONS_SLACK`
PREDICTIONS_BYTES_PER_ROW = 512
PREDICTIONS_SLACK = 2**20
#: nesting deeper than this is not something the toolkit wrote (json would recurse on it)
MAX_JSON_DEPTH = 64

_INTERVAL = ("mean", "ci_low", "ci_high")
_COST = ("featurize_s", "train_s", "infer_ms_per_1k", "params", "model_bytes", "peak_rss_mb", "flops_per_user")


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file no larger than ``limit`` (:func:`toolkit.safe_io.read_regular`)."""
    return read_regular(path, limit, what)


def _depth(text: str) -> int:
    """The deepest nesting of brackets in JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def read_json_object(path: Path, what: str, limit: int = MAX_METRICS_BYTES) -> dict:
    """A JSON object from a file of bounded size and nesting, or a ToolkitError naming the file."""
    data = read_bounded(path, limit, what)
    try:
        text = data.decode("utf-8")
        if _depth(text) > MAX_JSON_DEPTH:
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ToolkitError(f"{path} cannot be read as {what}: {exc}.") from None
    if not isinstance(value, dict):
        raise ToolkitError(f"{path} cannot be read as {what}: expected a JSON object, found {type(value).__name__}.")
    return value


@dataclass(frozen=True)
class Interval:
    """A figure with its bootstrap interval."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class DataCounts:
    users: int
    labelled: int
    positives: int
    source: str


@dataclass(frozen=True)
class Threshold:
    rule: str
    mean: float
    final_model: float


@dataclass(frozen=True)
class OutOfFold:
    """A run's out-of-fold predictions, users sorted by id; arrays are (repeats, users).

    For a time-to-return run ``scores`` are the risks, ``y`` is (users, 2): each user's time bin
    and whether the return was seen, and ``predicted`` is all zeros (no threshold).
    """

    user_ids: np.ndarray
    y: np.ndarray
    scores: np.ndarray
    folds: np.ndarray
    predicted: np.ndarray


class _Check:
    """Typed access to one metrics.json, each problem reported with the file and the key."""

    def __init__(self, path: Path, raw: dict):
        self.path, self.raw = path, raw

    def fail(self, key: str, problem: str):
        raise ToolkitError(f"{self.path} is not a run's {METRICS_FILE} this toolkit can read: {key!r} {problem} "
                           f"(written by another version of the toolkit, or edited?). This toolkit ({__version__}) reads results format {FORMAT_VERSION} and older "
                           "ones that have it.")

    def get(self, key: str, kinds, expected: str):
        value, parts = self.raw, key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(value, dict):
                self.fail(".".join(parts[:i]), "is not an object")
            if part not in value:
                self.fail(".".join(parts[: i + 1]), "is missing")
            value = value[part]
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            self.fail(key, f"is not {expected}")
        return value

    def number(self, key: str) -> float:
        return float(self.get(key, (int, float), "a number"))

    def interval(self, key: str) -> Interval:
        return Interval(*(self.number(f"{key}.{k}") for k in _INTERVAL))


def _version(check: _Check) -> int:
    version = check.raw.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        check.fail("format_version", "is not a whole number")
    if version > FORMAT_VERSION:
        raise ToolkitError(f"{check.path} was written by toolkit {check.raw.get('toolkit_version', '(unknown)')!s:.40} "
                           f"in results format {version}; this toolkit ({__version__}) reads format "
                           f"{FORMAT_VERSION} and older. Upgrade the toolkit to read it.")
    return version


def _confidence(value) -> float:
    """The interval coverage recorded, or the default 0.95 for runs that did not record one."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1
    return float(value) if ok else 0.95


@dataclass
class RunRecord:
    """One finished run, read back from its folder (or handed over in memory by the run that wrote it).

    The typed sections are checked when the record is made; everything else is in ``raw``
    (the whole metrics.json, keys from later versions included). Predictions are read on
    first use and kept.

    Example:
        >>> record = RunRecord.open("results/quickstart/20250101-120000")  # doctest: +SKIP
        >>> record.metrics["roc_auc"].mean  # doctest: +SKIP
        0.71
    """

    folder: Path | None
    raw: dict
    name: str
    format_version: int
    data: DataCounts
    metrics: dict[str, Interval]
    baselines: dict[str, dict[str, Interval]]
    threshold: Threshold | None  # None for a time-to-return run
    cost: dict
    evaluation: str
    confidence: float
    folds: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    task: str = "binary"  # the task's registry name (toolkit.tasks)

    @classmethod
    def open(cls, folder: str | Path) -> "RunRecord":
        """Read a run folder's metrics.json; a ToolkitError when the folder is not a readable run."""
        folder = Path(folder)
        check_run_folder(folder)
        if not is_run_folder(folder):
            raise ToolkitError(f"{folder} is not a run folder: it has no {METRICS_FILE}.")
        raw = read_json_object(folder / METRICS_FILE, f"a run's {METRICS_FILE}")
        return cls.from_dict(raw, folder)

    @classmethod
    def from_dict(cls, raw: dict, folder: str | Path | None = None) -> "RunRecord":
        """The record of a metrics.json already in memory (checked as :meth:`open` checks a file)."""
        folder = Path(folder) if folder is not None else None
        check = _Check(folder / METRICS_FILE if folder is not None else Path(METRICS_FILE), raw)
        version = _version(check)
        cost = check.get("cost", dict, "an object")
        for key in _COST:
            check.get(f"cost.{key}", dict if key == "featurize_s" else (int, float), "a number")
        name = task_name(raw)
        if not isinstance(name, str) or name not in TASKS.names():
            check.fail("task", f"is {name!r:.40}, not one of the installed tasks ({', '.join(TASKS.names())})")
        task = TASKS.get(name)
        return cls(
            folder, raw, check.get("name", str, "a text"), version,
            DataCounts(int(check.number("data.users")), int(check.number("data.labelled")),
                       int(check.number("data.positives")), str(raw["data"].get("source", ""))),
            task.read_metrics(check),
            _baselines(check, task.baseline_metrics),
            None if not task.has_threshold else Threshold(str(check.get("threshold.rule", (str, int, float), "a text")),
                                            check.number("threshold.mean"), check.number("threshold.final_model")),
            cost, str(check.get("evaluation", str, "a text")),
            _confidence(raw.get("confidence")),
            raw.get("folds") if isinstance(raw.get("folds"), list) else [],
            [str(w) for w in raw.get("warnings", [])] if isinstance(raw.get("warnings"), list) else [],
            name,
        )

    @property
    def task_class(self) -> type:
        """The run's task (:mod:`toolkit.tasks`): what its metrics, columns and tables are."""
        return TASKS.get(self.task)

    @property
    def repeats(self) -> int:
        """Repeats of the out-of-fold scores (from the folds recorded; 1 when none are)."""
        repeats = [f.get("repeat") for f in self.folds if isinstance(f, dict)]
        repeats = [r for r in repeats if isinstance(r, int) and not isinstance(r, bool)]
        return max(repeats) + 1 if repeats else 1

    def _section(self, key: str) -> dict | None:
        value = self.raw.get(key)
        return value if isinstance(value, dict) else None

    @property
    def oracle(self) -> dict | None:
        """Synthetic data only: the true chances' metrics on the same users, as written (None otherwise)."""
        return self._section("oracle")

    @property
    def cache(self) -> dict | None:
        """The feature cache's use: ``enabled``, ``hits``, ``lookups`` (None for runs before it was recorded)."""
        return self._section("cache")

    @property
    def embedded_rows(self) -> dict | None:
        """Per stateless featurizer, its rows ``computed`` and read ``from_cache`` (None when it had none)."""
        return self._section("rows")

    @property
    def calibration_over_time(self) -> dict | None:
        """A time-to-return run's predicted versus observed returns by risk group and horizon, as written.

        None for binary runs and runs written before it existed; its layout is
        :func:`toolkit.evaluation.calibration_over_time.curves_record`'s.
        """
        value = self.raw.get("calibration_over_time")
        return value if isinstance(value, dict) else None

    def predictions_limit(self) -> int:
        """The largest predictions.csv this run can have written (see :data:`PREDICTIONS_BYTES_PER_ROW`)."""
        return PREDICTIONS_BYTES_PER_ROW * max(self.data.labelled, 1) * min(self.repeats, 1000) + PREDICTIONS_SLACK

    @cached_property
    def predictions(self) -> pd.DataFrame:
        """predictions.csv as read (one row per scored user and repeat), checked; read once."""
        return read_predictions(self._folder() / PREDICTIONS_FILE, self.predictions_limit(), self.task_class)

    @cached_property
    def out_of_fold(self) -> OutOfFold:
        """Scores, labels, folds and hard predictions per repeat, users sorted by id; computed once."""
        return pivot_predictions(self.predictions, self._folder() / PREDICTIONS_FILE, self.task_class)

    def _folder(self) -> Path:
        if self.folder is None:
            raise ToolkitError("This run was not saved: it has no folder to read predictions or a model from.")
        return self.folder


def _baselines(check: _Check, metrics: tuple[str, ...]) -> dict[str, dict[str, Interval]]:
    """Optional: older runs had none, and a later version may name others."""
    entries = check.get("baselines", dict, "an object") if "baselines" in check.raw else {}
    return {str(name): {m: check.interval(f"baselines.{name}.{m}") for m in metrics
                        if isinstance(entry, dict) and m in entry}
            for name, entry in entries.items()}


def check_run_folder(folder: Path) -> None:
    """Refuse a run folder path that is not a folder, saying what it is (missing, a FIFO, a file, ...)."""
    if not folder.is_dir():
        found = describe_path(folder)
        raise ToolkitError(f"Run folder {str(folder)!r} {'not found' if found == 'does not exist' else 'is not a folder'}: "
                           f"the path {found}. Expected a folder written by 'python -m toolkit run', "
                           "e.g. results/quickstart/20250101-120000.")


def is_run_folder(folder: str | Path) -> bool:
    """Whether ``folder`` looks like a run folder (has metrics.json); says nothing about its contents.

    Anything by that name counts (a link, a folder): reading it then says what is wrong with it.
    """
    return os.path.lexists(Path(folder) / METRICS_FILE)


def _as_task(task) -> type:
    """A task class from a class, a task's name (or a legacy label kind), or None (``binary``)."""
    if task is None or isinstance(task, str):
        return TASKS.get(task_name({"label_kind": task or "binary"}))
    return task


def read_predictions(path: Path, limit: int, task=None) -> pd.DataFrame:
    """A predictions.csv no larger than ``limit``, with its columns checked, or a ToolkitError naming it."""
    with open_regular(path, f"a run's {PREDICTIONS_FILE}") as fh:  # read from the descriptor that was checked
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise ToolkitError(f"{path} is {size:,} bytes; for the users and repeats its {METRICS_FILE} "
                               f"records, a {PREDICTIONS_FILE} is at most {limit:,} bytes. Was it replaced?")
        try:
            table = pd.read_csv(fh, dtype={"user_id": str})
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
            raise ToolkitError(f"{path} cannot be read as a run's {PREDICTIONS_FILE}: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}.") from None
    task = _as_task(task)
    columns = task.prediction_columns
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ToolkitError(f"{path} is not a run's {PREDICTIONS_FILE}: column(s) {', '.join(missing)} missing.")
    for column in columns[1:]:
        if not pd.api.types.is_numeric_dtype(table[column]):
            raise ToolkitError(f"{path}: column {column!r} holds values that are not numbers.")
    for column in task.whole_columns:
        if table[column].isna().any() or not np.isin(table[column] % 1, [0]).all():
            raise ToolkitError(f"{path}: column {column!r} must hold whole numbers.")
    if (table["repeat"] < 0).any() or table["repeat"].max() > 1000:
        raise ToolkitError(f"{path}: column 'repeat' out of range.")
    return table


def pivot_predictions(table: pd.DataFrame, path: Path, task=None) -> OutOfFold:
    """predictions.csv as arrays (repeats, users), users sorted by id (``task``: the run's task class)."""
    task = _as_task(task)
    if table.duplicated(["user_id", "repeat"]).any():
        raise ToolkitError(f"{path}: some user appears twice in one repeat.")
    value = task.score_column
    wide = table.pivot(index="user_id", columns="repeat", values=value).sort_index()
    if wide.isna().any().any():
        raise ToolkitError(f"{path} lacks a {value} for some user in some repeat.")
    index = wide.index

    def column(name: str) -> np.ndarray:
        return table.pivot(index="user_id", columns="repeat", values=name).reindex(index).to_numpy().T

    y = task.labels(table.groupby("user_id")[list(task.label_columns)].first().reindex(index))
    folds = column("fold").astype(int)
    predicted = column("predicted").astype(int) if task.has_threshold else np.zeros_like(folds)
    return OutOfFold(index.to_numpy(dtype=str), y, wide.to_numpy(dtype=float).T, folds, predicted)


# ---------------------------------------------------------------------------
# The saved model: model/model.json and the files it names, with their hashes.
# ---------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """sha256 of a file, or of every file under a folder (names and contents, in sorted order).

    Anything in the folder that is neither a folder nor a regular file (a FIFO, which would hang
    the hash; a device; a link to one) is refused with a ToolkitError naming it.
    """
    digest = hashlib.sha256()
    paths = sorted(p for p in path.rglob("*") if not p.is_dir()) if path.is_dir() else [path]
    for p in paths:
        if path.is_dir():
            digest.update(str(p.relative_to(path)).encode() + b"\0")
        with open_regular(p, "a saved model's file") as fh:
            for chunk in iter(lambda: fh.read(2**20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def model_info(names: list[str], head: str, head_file: str, threshold: float, model_dir: Path) -> dict:
    """model.json for a saved model: its parts, threshold, and the sha256 of each file written."""
    files = [featurizer_file(n) for n in names] + [head_file]
    return {"featurizers": names, "head": head, "head_file": head_file, "threshold": float(threshold),
            "format_version": FORMAT_VERSION, "toolkit_version": __version__,
            "sha256": {f: file_sha256(model_dir / f) for f in files}}


def write_model_info(model_dir: Path, info: dict) -> None:
    atomic_write(model_dir / MODEL_INFO_FILE, json.dumps(info, indent=2), within=model_dir)


def featurizer_file(name: str) -> str:
    return f"featurizer_{name}.pkl"


def _plain_name(value, path: Path, key: str) -> str:
    if not isinstance(value, str) or not value or "/" in value or "\\" in value or value in (".", ".."):
        raise ToolkitError(f"{path}: {key!r} must be a file name inside the model folder; got {value!r:.80}.")
    return value


def read_model_info(folder: str | Path) -> dict:
    """A run's model/model.json, checked: part names, head, head file, a finite threshold (none for a
    time-to-return model), file hashes.

    Every file it names is checked against its recorded sha256 before anything is loaded
    (a model saved before hashes were recorded has none, and is loaded as it is).
    """
    model_dir = Path(folder) / MODEL_DIR
    path = model_dir / MODEL_INFO_FILE
    if not os.path.lexists(path):  # a FIFO or a folder there is named by the reader below
        raise ToolkitError(f"{folder} has no saved model (expected {path}). Runs save their final model "
                           "unless they were run without saving; run the spec again with 'python -m toolkit run'.")
    info = read_json_object(path, "a saved model's model.json", MAX_MODEL_INFO_BYTES)
    _check_model_version(info, path)
    names = info.get("featurizers")
    if not isinstance(names, list) or not names:
        raise ToolkitError(f"{path}: 'featurizers' must be a list of block names; got {names!r:.80}.")
    files = [_plain_name(featurizer_file(n) if isinstance(n, str) else n, path, "featurizers") for n in names]
    head_file = _plain_name(info.get("head_file"), path, "head_file")
    if not isinstance(info.get("head"), str):
        raise ToolkitError(f"{path}: 'head' must be a head's registry name; got {info.get('head')!r:.80}.")
    threshold = info.get("threshold")
    name = task_name(info)
    if not isinstance(name, str) or name not in TASKS.names():
        raise ToolkitError(f"{path}: 'task' is {name!r:.40}, not one of the installed tasks "
                           f"({', '.join(TASKS.names())}).")
    thresholded = TASKS.get(name).has_threshold  # a time-to-return model predicts curves: no threshold
    if not thresholded and threshold is not None:
        raise ToolkitError(f"{path}: a {name} model has no 'threshold'; got {threshold!r:.80}.")
    bad = isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold)
    if thresholded and bad:
        raise ToolkitError(f"{path}: 'threshold' must be a finite number; got {threshold!r:.80}.")
    missing = [f for f in files + [head_file] if not os.path.lexists(model_dir / f)]
    if missing:
        raise ToolkitError(f"The saved model in {model_dir} is incomplete: {', '.join(missing)} missing. "
                           "Run the spec again.")
    _verify_hashes(info, model_dir, files + [head_file], path)
    return {**info, "featurizers": list(names), "threshold": float(threshold) if thresholded else None}


def _check_model_version(info: dict, path: Path) -> None:
    version = info.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise ToolkitError(f"{path} was written by toolkit {info.get('toolkit_version', '(unknown)')!s:.40} in results "
                           f"format {version!r:.20}; this toolkit ({__version__}) reads format {FORMAT_VERSION} "
                           "and older. Upgrade the toolkit to load it.")


def _verify_hashes(info: dict, model_dir: Path, files: list[str], path: Path) -> None:
    hashes = info.get("sha256")
    if hashes is None and info.get("format_version", 0) == 0:
        return  # saved before hashes were recorded
    if not isinstance(hashes, dict):
        raise ToolkitError(f"{path}: 'sha256' must map each model file to its hash; the model is not loaded.")
    for name in files:
        if hashes.get(name) != file_sha256(model_dir / name):
            raise ToolkitError(f"{model_dir / name} does not match the sha256 recorded in {path}: the file was "
                               "changed or replaced after the run saved it; the model is not loaded.")
