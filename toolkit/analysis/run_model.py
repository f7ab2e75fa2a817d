"""A finished run read back: its spec, fitted featurizers, head and threshold."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from toolkit.errors import ToolkitError
from toolkit.features.blocks import Block


@dataclass
class RunModel:
    """The final model a run saved under ``model/`` (trained on all its labelled users)."""

    folder: Path
    spec: object  # toolkit.experiment.spec.Spec
    names: list[str]  # block names, in the order the head takes them
    featurizers: list
    head: object
    threshold: float

    def blocks(self, users: pd.DataFrame) -> list[Block]:
        return [Block(n, f.output_kind(), f.transform(users)) for n, f in zip(self.names, self.featurizers)]

    def score(self, users: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.head.predict(self.blocks(users)), dtype=float)


def read_run_spec(folder: str | Path):
    """The resolved spec a run folder holds (``spec.yaml``), validated again."""
    from toolkit.experiment.spec import parse_spec

    folder = Path(folder)
    if not folder.is_dir():
        raise ToolkitError(f"Run folder {str(folder)!r} not found. Expected a folder written by "
                           "'python -m toolkit run', e.g. results/quickstart/20250101-120000.")
    path = folder / "spec.yaml"
    if not path.is_file():
        raise ToolkitError(f"{folder} is not a run folder: it has no spec.yaml. Expected a folder written by "
                           "'python -m toolkit run'.")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return parse_spec(raw, base_dir=folder, source=path)


def load_run_model(folder: str | Path) -> RunModel:
    """Load a run's final model; a clear ToolkitError when the folder has none."""
    from toolkit.featurizers.base import Featurizer
    from toolkit.registry import HEADS

    folder = Path(folder)
    spec = read_run_spec(folder)
    model_dir = folder / "model"
    info_path = model_dir / "model.json"
    if not info_path.is_file():
        raise ToolkitError(f"{folder} has no saved model (expected {info_path}). Runs save their final model "
                           "unless they were run without saving; run the spec again with 'python -m toolkit run'.")
    info = json.loads(info_path.read_text())
    missing = [p.name for p in [model_dir / f"featurizer_{n}.pkl" for n in info["featurizers"]]
               + [model_dir / info["head_file"]] if not p.exists()]
    if missing:
        raise ToolkitError(f"The saved model in {model_dir} is incomplete: {', '.join(missing)} missing. "
                           "Run the spec again.")
    if info["head_file"].endswith(".keras"):
        from toolkit.environment import import_keras

        import_keras()  # now, so TensorFlow's C++ start-up notices stay hidden
    featurizers = [Featurizer.load(model_dir / f"featurizer_{n}.pkl") for n in info["featurizers"]]
    head = HEADS.get(info["head"]).load(model_dir / info["head_file"])
    return RunModel(folder, spec, list(info["featurizers"]), featurizers, head,
                    float("nan") if info.get("threshold") is None else float(info["threshold"]))  # None: time to return
