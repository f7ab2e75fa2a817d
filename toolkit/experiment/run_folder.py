"""Results folders written atomically: ``results/<name>/<timestamp>/`` appears only when complete.

Everything is written into a hidden ``.<timestamp>.partial`` folder beside the
final one and renamed at the end; a failed or interrupted run removes it, so no
folder that looks complete is ever left behind and earlier runs are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from toolkit.errors import ToolkitError


class ResultsFolder:
    def __init__(self, results_dir: str | Path, name: str, *, enabled: bool = True):
        self.enabled = enabled
        self.parent = Path(results_dir) / name
        stamp = time.strftime("%Y%m%d-%H%M%S")
        final, k = self.parent / stamp, 1
        while final.exists():
            k += 1
            final = self.parent / f"{stamp}-{k}"
        self.final = final
        self.path = self.parent / f".{final.name}.partial"

    def __enter__(self) -> "ResultsFolder":
        if self.enabled:
            try:
                self.path.mkdir(parents=True, exist_ok=False)
            except OSError as exc:
                raise ToolkitError(f"Cannot create the results folder {self.path}: {exc}") from None
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.enabled:
            return
        if exc_type is None:
            os.replace(self.path, self.final)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
            try:
                self.parent.rmdir()  # only if this run created it and left it empty
            except OSError:
                pass

    def write_text(self, name: str, text: str) -> None:
        (self.path / name).write_text(text, encoding="utf-8")

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
        frames = [
            pd.DataFrame({"user_id": user_ids, "label": y, "repeat": r, "fold": fold_of[r],
                          "score": scores[r], "predicted": preds[r]})
            for r in range(scores.shape[0])
        ]
        pd.concat(frames).to_csv(self.path / "predictions.csv", index=False)


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
