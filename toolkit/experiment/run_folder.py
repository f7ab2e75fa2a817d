"""Results folders written atomically: ``results/<name>/<timestamp>/`` appears only when complete.

Everything is written into a hidden ``.<timestamp>.partial`` folder beside the
final one and renamed at the end; a failed or interrupted run removes it, so no
folder that looks complete is ever left behind and earlier runs are never touched.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from toolkit.errors import ToolkitError, os_reason
from toolkit.experiment.record import PREDICTIONS_FILE
from toolkit.safe_io import atomic_write, check_inside, write_frame_csv
from toolkit.sanitize import for_csv_many

MAX_NAME = 100  # characters in a spec or sweep name (the spec's schema uses it too): well under a folder name's 255 bytes
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_TRIES = 10_000  # candidate names per second before giving up (a runaway loop, not a real workload)


def check_folder_name(name: object, what: str = "name") -> str:
    """``name`` if it is safe as one folder name, else a ToolkitError.

    Checked where folders are made, whatever validated the spec before: the whole
    name must match (a trailing newline is refused, as are ``/``, ``..`` and
    leading dots), and it must fit the file system.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise ToolkitError(f"'{what}' must be letters, digits, '_', '-' or '.', starting with a letter or digit, "
                           f"usable as a folder name. Got {name!r} instead.")
    if len(name) > MAX_NAME:
        raise ToolkitError(f"'{what}' is {len(name)} characters long; expected at most {MAX_NAME}, "
                           "so that it fits in a folder name.")
    return name


def reserve_folder(parent: Path, stamp: str, *, hidden_suffix: str = "",
                   within: str | Path | None = None) -> tuple[Path, Path]:
    """Atomically claim ``parent/<stamp>`` (or ``<stamp>-2``, ...) for this process.

    With ``hidden_suffix`` (``".partial"``) the folder created is ``.<name>.partial``
    and ``<name>`` is only the intended final name; without it, ``<name>`` itself
    is created. ``mkdir`` either creates the folder or fails, so two runs started
    in the same second never share a name. With ``within`` (the results folder the
    user named), a ``parent`` that is a link leading outside it is refused.

    Returns:
        (final name, the folder actually created).

    Raises:
        ToolkitError: the folder cannot be created (read-only, full, a name too long, a file in the way).
    """
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolkitError(f"Cannot create the results folder {parent}: {os_reason(exc)}.") from None
    if within is not None:
        check_inside(parent, within)
    for k in range(1, MAX_TRIES):
        final = parent / (stamp if k == 1 else f"{stamp}-{k}")
        made = final.with_name(f".{final.name}{hidden_suffix}") if hidden_suffix else final
        if hidden_suffix and os.path.lexists(final):
            continue
        try:
            made.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise ToolkitError(f"Cannot create the results folder {made}: {os_reason(exc)}.") from None
        return final, made
    raise ToolkitError(f"Cannot find a free folder name under {parent} for {stamp}.")


class ResultsFolder:
    """``results/<name>/<timestamp>/``: written as a hidden ``.partial`` folder, renamed when complete.

    The partial folder is reserved atomically on entry; on success it is renamed
    to the first free final name (a rename never replaces a folder holding files,
    so an earlier run is never overwritten); on any failure it is removed.
    """

    def __init__(self, results_dir: str | Path, name: str, *, enabled: bool = True):
        self.enabled = enabled
        self.results_dir = Path(results_dir)
        self.parent = self.results_dir / check_folder_name(name)
        self.stamp = time.strftime("%Y%m%d-%H%M%S")
        self.final = self.parent / self.stamp  # until reserved: the name this run hopes for
        self.path = self.parent / f".{self.stamp}.partial"

    def __enter__(self) -> "ResultsFolder":
        if self.enabled:
            self.final, self.path = reserve_folder(self.parent, self.stamp, hidden_suffix=".partial",
                                                   within=self.results_dir)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.enabled:
            return
        if exc_type is None:
            try:
                self.final = self._publish()
                return
            except BaseException:
                self._discard()
                raise
        self._discard()

    def _publish(self) -> Path:
        """Rename the partial folder to its final name, or the next free one if another run took it."""
        stamp = self.final.name
        for k in range(1, MAX_TRIES):
            final = self.parent / (stamp if k == 1 else f"{stamp}-{k}")
            if os.path.lexists(final):
                continue
            try:
                os.rename(self.path, final)  # fails, rather than replaces, if a run published there meanwhile
                return final
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise ToolkitError(f"Cannot publish the results folder {final}: {os_reason(exc)}.") from None
        raise ToolkitError(f"Cannot find a free folder name under {self.parent} for {stamp}.")

    def _discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        try:
            self.parent.rmdir()  # only if this run created it and left it empty
        except OSError:
            pass

    def write_text(self, name: str, text: str) -> None:
        atomic_write(self.path / name, text, within=self.path)

    def write_log(self, lines: list[str], result: dict) -> None:
        """``run.log``: what the run reported while it ran, then what the terminal showed at its end.

        The final tables (metrics, baselines, cost) and the warnings close the log, so the file
        alone tells what ``run`` printed, including with ``--quiet`` or from the Python API.
        """
        from toolkit.console import summary_text

        self.write_text("run.log", "\n".join([*lines, "", summary_text(result)]).rstrip("\n") + "\n")

    def write_json(self, name: str, data: dict) -> None:
        self.write_text(name, json.dumps(data, indent=2, default=_plain, allow_nan=True) + "\n")

    def write_yaml(self, name: str, data: dict) -> None:
        self.write_text(name, yaml.safe_dump(json.loads(json.dumps(data, default=_plain)), sort_keys=False,
                                             allow_unicode=True))

    def write_predictions(self, user_ids, y, scores: np.ndarray, preds: np.ndarray, folds,
                          scored: np.ndarray | None = None) -> None:
        """Per-user out-of-fold predictions: one row per scored user and repeat.

        ``scores`` and ``preds`` hold the scored users' columns only; ``scored`` is
        the mask of those users among all (None: every user), to place the folds.
        """
        n_all = len(scored) if scored is not None else scores.shape[1]
        fold_of = np.zeros((scores.shape[0], n_all), dtype=int)
        for f in folds:
            fold_of[f.repeat, f.test] = f.fold
        if scored is not None:
            fold_of = fold_of[:, scored]
        user_ids = _csv_ids(user_ids)  # once per user, not per row
        frames = [
            pd.DataFrame({"user_id": user_ids, "label": y, "repeat": r, "fold": fold_of[r],
                          "score": scores[r], "predicted": preds[r]})
            for r in range(scores.shape[0])
        ]
        write_frame_csv(pd.concat(frames), self.path / PREDICTIONS_FILE, within=self.path, index=False)


    def write_time_to_return_predictions(self, frame: pd.DataFrame) -> None:
        """A time-to-return run's out-of-fold predictions (one row per user and repeat), ids made CSV-safe."""
        users = pd.unique(frame["user_id"])  # once per user, not per row, so repeats keep pairing
        safe = dict(zip(users, _csv_ids(np.asarray(users, dtype=object))))
        frame = frame.assign(user_id=frame["user_id"].map(safe))
        write_frame_csv(frame, self.path / PREDICTIONS_FILE, within=self.path, index=False)


def _csv_ids(user_ids) -> np.ndarray:
    """User ids as text a spreadsheet shows and never runs (see :func:`toolkit.sanitize.for_csv`).

    Two distinct ids that neutralise to the same text (``=a`` and ``'=a``) get ``#2``, ``#3``
    suffixes in order, so every user keeps rows of their own and runs on the same data still pair.
    """
    ids = np.asarray(user_ids)
    if ids.dtype.kind not in "OUST":  # numeric ids are numbers to a spreadsheet too
        return ids
    given = ids.tolist()
    safe = for_csv_many(given)
    if safe == given:  # the common case: nothing to neutralise, so nothing can collide
        return ids
    out = pd.Series(safe, dtype=object)
    if out.duplicated().any() and not pd.Series(given, dtype=object).duplicated().any():
        seen = out.groupby(out, sort=False).cumcount()
        out = out.where(seen == 0, out.astype(str) + "#" + (seen + 1).astype(str))
    return out.to_numpy()


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
