"""The YAML experiment spec: loading, ``--set`` overrides, and validation before any work.

Every block maps onto a declared schema (:mod:`toolkit.params`): ``data`` onto
:class:`~toolkit.data.config.DataConfig`, ``label`` onto
:class:`~toolkit.data.label.LabelSpec`, ``training`` onto
:class:`~toolkit.training.TrainingConfig`, ``evaluation`` onto
:class:`~toolkit.evaluation.config.EvaluationConfig`, each ``featurizers`` entry
and ``head`` onto a plugin's constructor. Unknown keys, types, ranges and the
rules between fields are all checked here, before any data is read. Relative
``data.path`` values resolve against the spec file's folder.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.data.config import DataConfig, SyntheticConfig  # noqa: F401  (SyntheticConfig: re-exported)
from toolkit.data.label import LabelSpec
from toolkit.errors import ToolkitError
from toolkit.evaluation.config import EvaluationConfig
from toolkit.experiment.run_folder import MAX_NAME
from toolkit.params import Interval, Pattern, check_params, declared_params, parse
from toolkit.registry import FEATURIZERS, HEADS, TASKS
from toolkit.training import TrainingConfig, smote_problem
from toolkit.yaml_io import parse_yaml_value, read_yaml_mapping

NAME = Pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]*", "letters, digits, '_', '-' or '.', usable as a folder name",
               max_length=MAX_NAME)
SEED = Interval(0, 2**32 - 1)


@dataclass(kw_only=True)
class SpecFields:
    """The top level of a spec file: each field is a key, each annotation its schema."""

    name: str
    description: str = ""
    data: DataConfig
    label: LabelSpec
    featurizers: list
    head: dict | str
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    seed: int = 0
    tune: dict | None = None  # wraps ``head`` in the ``tuned`` head (toolkit.heads.tuned)
    task: dict | str | None = None  # default: the label's (toolkit.tasks)

    param_paths = True
    param_constraints = {"name": NAME, "seed": SEED}


TOP_KEYS = tuple(SpecFields.__dataclass_fields__)


@dataclass
class Spec:
    """A validated experiment spec."""

    name: str
    data: DataConfig
    label: LabelSpec
    featurizers: list[tuple[str, dict]]  # (registry key, resolved params)
    head: tuple[str, dict]
    training: TrainingConfig
    evaluation: EvaluationConfig
    seed: int = 0
    description: str = ""
    source: Path | None = None
    raw: dict = field(default_factory=dict)  # the spec as given, after --set, with paths resolved
    task: tuple[str, dict] = ("binary", {})  # (registry key, resolved params)

    def build_task(self):
        """The task the spec runs (:mod:`toolkit.tasks`): its ``task:`` block, else its label's."""
        key, params = self.task
        return TASKS.get(key)(**params)

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
        out.pop("tune", None)  # folded into head: {type: tuned, ...}, which reads back the same
        if "task" in out:  # written only when given: the label's own task keeps older specs' hashes
            out["task"] = {"type": self.task[0], **self.task[1]}
        out["training"] = self.training.to_dict()
        out["evaluation"] = self.evaluation.to_dict()
        out["seed"] = self.seed
        return out

    def sha256(self) -> str:
        """A hash of the resolved spec: equal specs, equal hashes."""
        text = json.dumps(self.resolved(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def load_spec(path: str | Path, overrides: list[str] | None = None) -> Spec:
    """Read a YAML spec, apply ``--set key.path=value`` overrides and validate it."""
    path = Path(path)
    raw = read_yaml_mapping(path, "a YAML spec, e.g. experiments/quickstart.yaml", "name:, data:, label:, ...")
    for item in overrides or []:
        apply_override(raw, item)
    return parse_spec(raw, base_dir=path.parent, source=path)


def apply_override(raw: dict, item: str) -> None:
    """Apply one ``key.path=value`` (the value is parsed as YAML; list items by index)."""
    if "=" not in item:
        raise ToolkitError(f"--set expects key.path=value, e.g. training.epochs=5. Got {item!r} instead.")
    key, _, text = item.partition("=")
    value = parse_yaml_value(text, f"--set {key.strip()}")
    if key.strip() == "data.path" and isinstance(value, str):
        # A path typed on the command line means the current folder, not the spec's.
        value = str(Path(value).expanduser().resolve())
    parts = key.strip().split(".")
    node: Any = raw
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            # ASCII digits only: str.isdigit() also accepts "³", which int() then refuses
            if not re.fullmatch(r"[0-9]+", part) or int(part) >= len(node):
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
    fields = parse(SpecFields, raw, where="")
    fields.data.resolve(base_dir)
    raw = copy.deepcopy(raw)
    if fields.data.path is not None:
        raw["data"]["path"] = fields.data.path
    featurizers = _parse_featurizers(fields.featurizers, fields.seed)
    head = _parse_plugin(fields.head, HEADS, "head")
    if fields.tune is not None:
        head = _tuned(head, fields.tune)
    task = _parse_plugin(fields.task if fields.task is not None else fields.label.default_task, TASKS, "task")
    spec = Spec(fields.name, fields.data, fields.label, featurizers, head, fields.training, fields.evaluation,
                fields.seed, fields.description, source, raw, task)
    blocks = list(zip(spec.block_names(), (f.output_kind() for f in spec.build_featurizers())))
    reason = spec.build_head().check_blocks(blocks)
    if reason:
        raise ToolkitError(f"head {head[0]!r} cannot take these featurizers: {reason}")
    reason = smote_problem(blocks) if spec.training.resample == "smote" else None
    if reason:
        raise ToolkitError(reason)
    _check_task(spec)
    return spec


def _tuned(head: tuple[str, dict], tune: Any) -> tuple[str, dict]:
    """A top-level ``tune:`` block: the spec's head wrapped in ``tuned`` with the block's settings."""
    allowed = ("space", "trials", "metric", "pruning", "warmup_epochs")
    if not isinstance(tune, dict) or any(k not in allowed for k in tune):
        raise ToolkitError(f"tune must be a mapping of {', '.join(allowed)}, e.g. "
                           f"{{trials: 20, space: {{C: {{low: 0.01, high: 100, log: true}}}}}}. Got {tune!r} instead.")
    if head[0] == "tuned":
        raise ToolkitError("tune: wraps the spec's head in a 'tuned' head, and head is one already; "
                           "keep one of the two.")
    return _parse_plugin({"type": "tuned", "head": {"type": head[0], **head[1]}, **tune}, HEADS, "tune")


def _check_task(spec: Spec) -> None:
    """The spec's label and settings serve its task, and its head learns the task's target."""
    task, head = spec.build_task(), HEADS.get(spec.head[0])
    if task.target not in head.targets:
        takers = [n for n in HEADS.names() if task.target in HEADS.get(n).targets]
        raise ToolkitError(f"head {spec.head[0]!r} learns {' or '.join(head.targets)} targets, but the spec's task "
                           f"{spec.task[0]!r} (label.{task.label_form}) needs {task.target}. Use a head that takes "
                           f"it ({', '.join(takers)}), or change the label.")
    task.check_spec(spec)


def _parse_plugin(block: Any, registry, where: str, seed: int | None = None) -> tuple[str, dict]:
    """``{type: NAME, **params}`` -> (NAME, params with defaults), checked by the plugin's own rules.

    A plugin that declares a ``seed`` parameter takes the spec's ``seed`` unless its block sets one,
    so a seed axis in a sweep reaches every seeded component (fastText's training included).
    """
    if isinstance(block, str):
        block = {"type": block}
    if seed is not None and isinstance(block, dict) and "type" in block and "seed" not in block \
            and "seed" in declared_params(registry.get(block["type"])):
        block = {**block, "seed": seed}
    if not isinstance(block, dict) or "type" not in block:
        raise ToolkitError(f"{where} must be a mapping with a 'type' key, e.g. {{type: {registry.names()[0]}}}. "
                           f"Got {block!r} instead.")
    params = {k: v for k, v in block.items() if k != "type"}
    cls = registry.get(block["type"])
    params = check_params(cls, params, where=where)
    cls(**params).validate(where)
    return block["type"], params


def _parse_featurizers(block: Any, seed: int | None = None) -> list[tuple[str, dict]]:
    if not isinstance(block, list) or not block:
        raise ToolkitError(f"'featurizers' must be a non-empty list of {{type: NAME, ...}} blocks. Got {block!r} instead.")
    return [_parse_plugin(item, FEATURIZERS, f"featurizers[{i}]", seed) for i, item in enumerate(block)]
