"""Score new users with a finished run's final model: ``python -m toolkit predict RUN_DIR POSTS.csv``.

The users table is built from the new posts with the run's own observation
window (:func:`toolkit.data.users.build_features`); no label is needed. Users
with no post inside that window get no score and say why.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.analysis.run_model import load_run_model
from toolkit.data.schema import COUNT_COLUMNS, DEFAULT_COLUMNS
from toolkit.errors import ToolkitError
from toolkit.safe_io import OutputTarget, open_regular, output_target, write_frame_csv
from toolkit.sanitize import csv_frame

POSTS = "a posts CSV in the format the run used"
#: featurizer key -> posts columns it reads; at least one must be in the file.
#: Featurizers not listed (third-party ones, ``temporal``) read only the required columns.
USED_COLUMNS = {
    "tfidf": ("title", "content"),
    "fasttext": ("title", "content"),
    "distilbert": ("title", "content"),
    "behavior": COUNT_COLUMNS,
}


def check_columns(path: Path, featurizer_keys: list[str], mapping: dict[str, str], delimiter: str = ",") -> None:
    """Refuse a file the model cannot use: a featurizer would read only defaults (empty text, zero counts)."""
    from toolkit.data.posts import header_text

    with io.TextIOWrapper(open_regular(path, POSTS), encoding="utf-8-sig", errors="replace", newline="") as fh:
        header = next(csv.reader(fh, delimiter=delimiter), [])
    names = {**DEFAULT_COLUMNS, **mapping}
    for key in featurizer_keys:
        wanted = USED_COLUMNS.get(key)
        if wanted and not any(names[c] in header for c in wanted):
            raise ToolkitError(
                f"{path} cannot be scored by this model: its featurizer {key!r} reads the column(s) "
                f"{', '.join(repr(names[c]) for c in wanted)}, and the file has none of them (found "
                f"{header_text(header)}). Map them with the run's data.columns or supply them."
            )


def score_note(spec, calibrated: bool) -> str | None:
    """Why a model's scores are not probabilities (None when they were calibrated)."""
    if calibrated:
        return None
    t = spec.training
    why = ["training.calibrate: none"]
    if t.class_weight == "balanced":
        why.append("class_weight: balanced")
    if t.resample != "none":
        why.append(f"resample: {t.resample}")
    return f"scores are not probabilities ({'; '.join(why)}); they rank users, the threshold turns them into decisions"


def predict(run_dir: str | Path, posts_path: str | Path) -> pd.DataFrame:
    """One row per user of the file: ``user_id, score, [probability,] decision, reason``.

    ``decision`` is 1 when ``score >= threshold`` (the final model's saved
    threshold, chosen by the same rule as each fold's); users that could not be
    scored have an empty score and decision and a ``reason``. ``probability``
    (the same number) is there only when the run calibrated its scores
    (``training.calibrate``); ``table.attrs["note"]`` says why when it is not.
    A time-to-return run has no decision: ``score`` is the chance of a return
    within follow-up, and ``p_return_by_<H>d`` the chance of one by each horizon
    (days after ``after_days``).
    """
    from toolkit.data.posts import load_posts
    from toolkit.data.users import build_features

    posts_path = Path(posts_path)
    open_regular(posts_path, POSTS).close()  # a FIFO, a device or a folder is named before the model loads
    model = load_run_model(run_dir)
    spec = model.spec
    posts, _ = load_posts(posts_path, **spec.data.load_options())
    check_columns(posts_path, [k for k, _ in spec.featurizers], spec.data.columns, spec.data.delimiter)
    users, skipped = build_features(posts, spec.label, timezone=spec.data.timezone, local_time=spec.data.local_time,
                                    ip_zones=spec.data.ip_zones)
    out, note = spec.build_task().score_users(spec, model, users, skipped)
    out = out.sort_values("user_id", kind="stable").reset_index(drop=True)
    out.attrs["note"] = note
    return out


def _with_unscored(scored: pd.DataFrame, skipped: pd.DataFrame) -> pd.DataFrame:
    """The scored users' rows, then the skipped users' with blank figures and their reason."""
    blank = {c: np.nan for c in scored.columns if c not in ("user_id", "reason")}
    unscored = skipped.assign(**blank)[list(scored.columns)]
    return pd.concat([scored, unscored], ignore_index=True) if len(unscored) else scored


def binary_scores(spec, model, users: pd.DataFrame, skipped: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """A yes/no run's table (score, [probability,] decision at the saved threshold, reason) and its note."""
    scores = model.score(users) if len(users) else np.array([])
    scored = pd.DataFrame({"user_id": users["user_id"].to_numpy(), "score": scores,
                           "decision": (scores >= model.threshold).astype(int), "reason": ""})
    out = _with_unscored(scored, skipped)
    out["decision"] = out["decision"].astype("Int64")
    if model.calibrated:
        out.insert(2, "probability", out["score"])
    return out, score_note(spec, model.calibrated)


def time_to_return_scores(spec, model, users: pd.DataFrame, skipped: pd.DataFrame) -> tuple[pd.DataFrame, None]:
    """The chance of a return within follow-up (``score``) and by each horizon, from the survival curve."""
    from toolkit.data.time_to_return import bin_edges

    ttr = model.spec.label.time_to_return
    edges = bin_edges(ttr.after_days, ttr.follow_days, ttr.edges)
    surv = model.head.predict_survival(model.blocks(users)) if len(users) else np.zeros((0, len(edges) - 1))
    out = pd.DataFrame({"user_id": users["user_id"].to_numpy(), "score": 1.0 - surv[:, -1]})
    for h in ttr.horizon_days():
        out[f"p_return_by_{h}d"] = 1.0 - surv[:, int(np.flatnonzero(edges == edges[0] + h)[0]) - 1]
    out["reason"] = ""
    return _with_unscored(out, skipped), None


def check_out(out: str | Path) -> OutputTarget:
    """What ``--out`` is (:func:`toolkit.safe_io.output_target`), refused early if it cannot be written.

    A file's folder must exist (a typo should not create a tree); a folder, a socket or a block
    device is refused; a pipe or device (``/dev/stdout``) is written to in place.
    """
    out = Path(out)
    if os.path.isdir(out):
        raise ToolkitError(f"--out {str(out)!r} is a folder; expected a CSV file path such as scores.csv.")
    target = output_target(out)
    if not target.stream and not out.parent.exists():
        raise ToolkitError(f"--out: folder {str(out.parent)!r} does not exist.")
    return target


def write_scores(table: pd.DataFrame, out: str | Path) -> Path:
    """Write the scores CSV: atomically to a file, in place to a pipe or device (see :func:`check_out`)."""
    out = Path(out)
    check_out(out)
    # user ids come from the posts file: a spreadsheet must not run one as a formula
    write_frame_csv(csv_frame(table), out, index=False, user_named=True)
    return out
