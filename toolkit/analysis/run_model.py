"""A finished run read back: its spec, fitted featurizers, head and threshold."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.errors import ToolkitError
from toolkit.features.blocks import Block
from toolkit.safe_io import open_regular


@dataclass
class RunModel:
    """The final model a run saved under ``model/`` (trained on all its labelled users)."""

    folder: Path
    spec: object  # toolkit.experiment.spec.Spec
    names: list[str]  # block names, in the order the head takes them
    featurizers: list
    head: object
    threshold: float
    calibrated: bool = False  # scores pass through the calibrator fitted with the model (model.json)

    def blocks(self, users: pd.DataFrame) -> list[Block]:
        return [Block(n, f.output_kind(), f.transform(users)) for n, f in zip(self.names, self.featurizers)]

    def score(self, users: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.head.predict(self.blocks(users)), dtype=float)


def read_run_spec(folder: str | Path):
    """The resolved spec a run folder holds (``spec.yaml``), validated again."""
    from toolkit.experiment.record import SPEC_FILE, check_run_folder
    from toolkit.experiment.spec import parse_spec
    from toolkit.yaml_io import read_yaml_mapping

    folder = Path(folder)
    check_run_folder(folder)
    path = folder / SPEC_FILE
    if not os.path.lexists(path):  # a FIFO or a folder there is named by the reader below
        raise ToolkitError(f"{folder} is not a run folder: it has no {SPEC_FILE}. Expected a folder written by "
                           "'python -m toolkit run'.")
    # the spec reader's own limits: size, nesting, no aliases, plain data only
    raw = read_yaml_mapping(path, "a run's resolved spec", "name:, data:, label:, ...")
    return parse_spec(raw, base_dir=folder, source=path)


def load_part(path: Path, load):
    """``load(path)`` for one saved model file; whatever goes wrong ends in one ToolkitError naming it.

    A pickle that refers to a class or attribute this toolkit lacks, a truncated file and a
    Keras file its safe mode refuses all raise different exceptions; each means the same to
    the user: this file cannot be loaded by this toolkit.
    """
    if not os.path.isdir(path):  # a FIFO would hang the loader (a model saved before hashes is not hashed first)
        open_regular(path, "a saved model's file").close()
    try:
        return load(path)
    except ToolkitError:
        raise
    except (MemoryError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 - any failure inside a loader means the same thing here
        reason = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise ToolkitError(f"{path} cannot be loaded ({type(exc).__name__}{': ' + reason if reason else ''}); "
                           "it was damaged, changed, or written by another version of the toolkit.") from None


def load_run_model(folder: str | Path) -> RunModel:
    """Load a run's final model; a clear ToolkitError when the folder has none or a file is wrong.

    The fitted featurizers are pickles, and loading a pickle runs code: load only run folders
    you made or trust. Each file is checked against the sha256 the run recorded before it is
    loaded, which catches damaged or swapped files (not a folder crafted with matching hashes).
    """
    from toolkit.experiment.record import MODEL_DIR, featurizer_file, read_model_info
    from toolkit.featurizers.base import Featurizer
    from toolkit.registry import HEADS

    folder = Path(folder)
    spec = read_run_spec(folder)
    info = read_model_info(folder)
    model_dir = folder / MODEL_DIR
    if info["head_file"].endswith(".keras"):
        from toolkit.environment import import_keras

        import_keras()  # now, so TensorFlow's C++ start-up notices stay hidden
    featurizers = [load_part(model_dir / featurizer_file(n), Featurizer.load) for n in info["featurizers"]]
    for name, featurizer in zip(info["featurizers"], featurizers):
        if not isinstance(featurizer, Featurizer):
            raise ToolkitError(f"{model_dir / featurizer_file(name)} does not hold a fitted featurizer.")
    head_class = HEADS.get(info["head"])
    head = load_part(model_dir / info["head_file"], head_class.load)
    if info.get("calibration"):
        head = _calibrated(head, info["calibration"], model_dir)
    threshold = float("nan") if info.get("threshold") is None else float(info["threshold"])  # None: time to return
    return RunModel(folder, spec, list(info["featurizers"]), featurizers, head, threshold,
                    bool(info.get("calibration")))


def _calibrated(head, calibration, model_dir: Path):
    """The head with the calibrator saved beside it (plain numbers in model.json, checked)."""
    from toolkit.evaluation.calibration import CalibratedHead, Calibrator
    from toolkit.experiment.record import MODEL_INFO_FILE

    try:
        calibrator = Calibrator.from_dict(calibration)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ToolkitError(f"{model_dir / MODEL_INFO_FILE}: 'calibration' is not a calibrator this toolkit wrote; "
                           "the model is not loaded.") from None
    return CalibratedHead(head, calibrator)
