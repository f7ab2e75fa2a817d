"""The YAML experiment spec: loading, ``--set`` overrides, and validation before any work.

Every block maps onto a constructor: ``featurizers`` entries onto featurizer
plugins, ``head`` onto a head plugin, ``training`` onto
:class:`~toolkit.training.TrainingConfig`, ``evaluation`` onto
:class:`EvaluationConfig`. Unknown keys are errors. Relative ``data.path`` values
resolve against the spec file's folder.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from toolkit.data.label import LabelSpec, parse_label
from toolkit.errors import ToolkitError
from toolkit.evaluation.thresholds import validate_threshold_rule
from toolkit.params import Interval, check_params
from toolkit.registry import FEATURIZERS, HEADS
from toolkit.training import TrainingConfig

TOP_KEYS = ("name", "description", "data", "label", "featurizers", "head", "training", "evaluation", "seed")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(kw_only=True)
class SyntheticConfig:
    """``data: {synthetic: {...}}``: data the toolkit generates (see ``toolkit data synth``)."""

    users: int = 3000
    seed: int = 0
    positive_rate: float = 0.1

    param_constraints = {"users": Interval(10, None), "positive_rate": Interval(0, 1, closed_low=False, closed_high=False)}


@dataclass(kw_only=True)
class EvaluationConfig:
    """The spec's ``evaluation:`` block.

    Example:
        evaluation: {cv: {folds: 5, repeats: 2}, threshold: max_f1, min_positives_per_fold: 5}
    """

    cv: dict | None = None  # {folds: K, repeats: R}: repeated stratified K-fold (the default, 5 x 1)
    split: dict | None = None  # {test_fraction: F}: one stratified train/test split instead of cv
    threshold: str | float = "max_f1"  # rule to pick the decision threshold on validation data
    min_positives_per_fold: int = 5  # stop before training if a test fold would hold fewer
    bootstrap: int = 1000  # resamples for the confidence intervals
    confidence: float = 0.95

    param_constraints = {
        "min_positives_per_fold": Interval(1, None),
        "bootstrap": Interval(100, None),
        "confidence": Interval(0.5, 1, closed_high=False),
    }

    @property
    def folds(self) -> int:
        return (self.cv or {}).get("folds", 5)

    @property
    def repeats(self) -> int:
        return 1 if self.split else (self.cv or {}).get("repeats", 1)


@dataclass
class Spec:
    """A validated experiment spec."""

    name: str
    data: dict  # {path, columns, on_bad_rows} or {synthetic: SyntheticConfig}
    label: LabelSpec
    featurizers: list[tuple[str, dict]]  # (registry key, resolved params)
    head: tuple[str, dict]
    training: TrainingConfig
    evaluation: EvaluationConfig
    seed: int = 0
    description: str = ""
    source: Path | None = None
    raw: dict = field(default_factory=dict)  # the spec as given, after --set, with paths resolved

    def build_featurizers(self):
        return [FEATURIZERS.get(key)(**params) for key, params in self.featurizers]

    def build_head(self):
        key, params = self.head
        return HEADS.get(key)(**params)

    def block_names(self) -> list[str]:
        names, seen = [], {}
        for key, _ in self.featurizers:
            seen[key] = seen.get(key, 0) + 1
            names.append(key if seen[key] == 1 else f"{key}_{seen[key]}")
        return names

    def resolved(self) -> dict:
        """The spec with every default filled in, as written to a results folder."""
        out = copy.deepcopy(self.raw)
        out["featurizers"] = [{"type": k, **p} for k, p in self.featurizers]
        out["head"] = {"type": self.head[0], **self.head[1]}
        out["training"] = self.training.to_dict()
        out["evaluation"] = {k: v for k, v in asdict(self.evaluation).items() if v is not None}
        out["seed"] = self.seed
        return out


def load_spec(path: str | Path, overrides: list[str] | None = None) -> Spec:
    """Read a YAML spec, apply ``--set key.path=value`` overrides and validate it."""
    path = Path(path)
    raw = read_yaml_mapping(path, "a YAML spec, e.g. experiments/quickstart.yaml", "name:, data:, label:, ...")
    for item in overrides or []:
        apply_override(raw, item)
    return parse_spec(raw, base_dir=path.parent, source=path)


def read_yaml_mapping(path: Path, expected: str, keys: str) -> dict:
    """A YAML file's top-level mapping, or a ToolkitError saying what is wrong with the file."""
    if not path.is_file():
        raise ToolkitError(f"File {str(path)!r} not found. Expected {expected}.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ToolkitError(f"{path} is not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ToolkitError(f"{path} is not UTF-8 text: {exc}") from None
    if not isinstance(raw, dict):
        raise ToolkitError(f"{path} must hold a YAML mapping ({keys}). Got {type(raw).__name__} instead.")
    return raw


def apply_override(raw: dict, item: str) -> None:
    """Apply one ``key.path=value`` (the value is parsed as YAML; list items by index)."""
    if "=" not in item:
        raise ToolkitError(f"--set expects key.path=value, e.g. training.epochs=5. Got {item!r} instead.")
    key, _, text = item.partition("=")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    if key.strip() == "data.path" and isinstance(value, str):
        # A path typed on the command line means the current folder, not the spec's.
        value = str(Path(value).expanduser().resolve())
    parts = key.strip().split(".")
    node: Any = raw
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ToolkitError(f"--set {key}: {'.'.join(parts[:i]) or 'spec'} is a list of {len(node)}; "
                                   f"expected an index 0..{len(node) - 1}, got {part!r}.")
            part = int(part)
        elif not isinstance(node, dict):
            raise ToolkitError(f"--set {key}: {'.'.join(parts[:i])} is not a mapping, cannot set {part!r} in it.")
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and part not in node:
                node[part] = {}
            node = node[part]


def parse_spec(raw: dict, *, base_dir: Path = Path("."), source: Path | None = None) -> Spec:
    """Validate a spec mapping completely; raise ToolkitError at the first problem."""
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise ToolkitError(f"Unknown top-level key {unknown[0]!r} in the spec. Allowed: {', '.join(TOP_KEYS)}.")
    for key in ("name", "data", "label", "featurizers", "head"):
        if key not in raw:
            raise ToolkitError(f"The spec needs a {key!r} key. Top-level keys: {', '.join(TOP_KEYS)}.")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise ToolkitError(f"'name' must be letters, digits, '_', '-' or '.', usable as a folder name. Got {name!r} instead.")
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ToolkitError(f"'seed' must be a non-negative int. Got {seed!r} instead.")

    raw = copy.deepcopy(raw)
    data = _parse_data(raw["data"], base_dir)
    if "path" in data:
        raw["data"]["path"] = data["path"]
    label = parse_label(raw["label"])
    featurizers = _parse_featurizers(raw["featurizers"])
    head = _parse_plugin(raw["head"], HEADS, "head")
    training = TrainingConfig(**check_params(TrainingConfig, _mapping(raw.get("training", {}), "training"), where="training"))
    evaluation = _parse_evaluation(_mapping(raw.get("evaluation", {}), "evaluation"))

    spec = Spec(name, data, label, featurizers, head, training, evaluation, seed,
                str(raw.get("description", "")), source, raw)
    blocks = list(zip(spec.block_names(), (f.output_kind() for f in spec.build_featurizers())))
    reason = spec.build_head().check_blocks(blocks)
    if reason:
        raise ToolkitError(f"head {head[0]!r} cannot take these featurizers: {reason}")
    return spec


def _mapping(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ToolkitError(f"'{where}' must be a mapping. Got {value!r} instead.")
    return value


def _parse_data(block: Any, base_dir: Path) -> dict:
    block = _mapping(block, "data")
    allowed = {"path", "synthetic", "columns", "on_bad_rows"}
    unknown = [k for k in block if k not in allowed]
    if unknown:
        raise ToolkitError(f"data: unknown key {unknown[0]!r}. Allowed: {', '.join(sorted(allowed))}.")
    if ("path" in block) == ("synthetic" in block):
        raise ToolkitError("data must have exactly one of 'path' (a posts CSV) or 'synthetic' ({users: N, seed: S}).")
    out: dict[str, Any] = {"on_bad_rows": block.get("on_bad_rows", "error"), "columns": block.get("columns") or {}}
    if out["on_bad_rows"] not in ("error", "skip"):
        raise ToolkitError(f"data.on_bad_rows must be one of 'error', 'skip'. Got {out['on_bad_rows']!r} instead.")
    columns = out["columns"]
    if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise ToolkitError(f"data.columns must map toolkit column names to the file's column names. Got {columns!r} instead.")
    from toolkit.data.schema import DEFAULT_COLUMNS

    bad = [k for k in columns if k not in DEFAULT_COLUMNS]
    if bad:
        raise ToolkitError(f"data.columns: unknown column {bad[0]!r}. Known: {', '.join(DEFAULT_COLUMNS)}.")
    if "path" in block:
        if not isinstance(block["path"], str) or not block["path"]:
            raise ToolkitError(f"data.path must be a file path. Got {block['path']!r} instead.")
        path = Path(block["path"]).expanduser()
        out["path"] = str(path if path.is_absolute() else (base_dir / path).resolve())
    else:
        out["synthetic"] = SyntheticConfig(**check_params(SyntheticConfig, _mapping(block["synthetic"], "data.synthetic"), where="data.synthetic"))
    return out


def _parse_plugin(block: Any, registry, where: str) -> tuple[str, dict]:
    if isinstance(block, str):
        block = {"type": block}
    if not isinstance(block, dict) or "type" not in block:
        raise ToolkitError(f"{where} must be a mapping with a 'type' key, e.g. {{type: {registry.names()[0]}}}. Got {block!r} instead.")
    params = {k: v for k, v in block.items() if k != "type"}
    cls = registry.get(block["type"])
    return block["type"], check_params(cls, params, where=where)


def _parse_featurizers(block: Any) -> list[tuple[str, dict]]:
    if not isinstance(block, list) or not block:
        raise ToolkitError(f"'featurizers' must be a non-empty list of {{type: NAME, ...}} blocks. Got {block!r} instead.")
    return [_parse_plugin(item, FEATURIZERS, f"featurizers[{i}]") for i, item in enumerate(block)]


def _parse_evaluation(block: dict) -> EvaluationConfig:
    params = check_params(EvaluationConfig, block, where="evaluation")
    if params["cv"] is not None and params["split"] is not None:
        raise ToolkitError("evaluation takes either 'cv' or 'split', not both.")
    if params["cv"] is not None:
        cv = params["cv"]
        extra = [k for k in cv if k not in ("folds", "repeats")]
        if extra:
            raise ToolkitError(f"evaluation.cv: unknown key {extra[0]!r}. Allowed: folds, repeats.")
        for key, low in (("folds", 2), ("repeats", 1)):
            value = cv.get(key, 5 if key == "folds" else 1)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ToolkitError(f"evaluation.cv.{key} must be an int >= {low}. Got {value!r} instead.")
    if params["split"] is not None:
        frac = params["split"].get("test_fraction", 0.2)
        extra = [k for k in params["split"] if k != "test_fraction"]
        if extra or not isinstance(frac, (int, float)) or not 0.05 <= frac <= 0.5:
            raise ToolkitError(f"evaluation.split must be {{test_fraction: F}} with F in [0.05, 0.5]. Got {params['split']!r} instead.")
    problem = validate_threshold_rule(params["threshold"])
    if problem:
        raise ToolkitError(f"evaluation.threshold: {problem}")
    return EvaluationConfig(**params)
