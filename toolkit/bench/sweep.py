"""Sweep specs: a base spec, axes to vary, and a baseline; expanded into configurations.

Example::

    name: efficiency_study
    base: quickstart.yaml            # relative to this file
    set: {training.epochs: 20}       # optional overrides of the base spec (key.path: value)
    grid:
      featurizers:
        - [{type: tfidf}, {type: behavior}]
        - [{type: distilbert}, {type: behavior}, {type: temporal}]
      head: [{type: logreg}, {type: mlp}, {type: hybrid}]
      seed: [0, 1, 2]
      training: [{class_weight: none}, {class_weight: balanced}]   # merged into the base's training
    baseline: {featurizers: [{type: tfidf}, {type: behavior}], head: {type: logreg}}

Every configuration uses the same folds (drawn with the base spec's seed), so
comparisons between configurations are paired; the ``seed`` axis changes the
training seed only. Each configuration is compared with the baseline of the
same seed.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import ToolkitError
from toolkit.experiment.spec import Spec, apply_override, load_spec, parse_spec, read_yaml_mapping

AXES = ("featurizers", "head", "seed", "training")
SWEEP_KEYS = ("name", "description", "base", "set", "grid", "baseline")


@dataclass
class Config:
    """One configuration of a sweep: a spec, or the reason it cannot run."""

    config_id: str
    label: str
    axes: dict
    raw: dict  # the full spec mapping
    spec: Spec | None = None
    reason: str = ""  # why it is skipped (set when spec is None)
    is_baseline: bool = False
    baseline_id: str | None = None  # the configuration this one is compared with


@dataclass
class Sweep:
    name: str
    source: Path
    base_raw: dict
    base_dir: Path
    fold_seed: int
    configs: list[Config] = field(default_factory=list)
    description: str = ""

    def baselines(self) -> dict[str, str | None]:
        """Configuration id -> the id of the baseline it is compared with."""
        return {c.config_id: c.baseline_id for c in self.configs}


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file; a plain spec file counts as a one-configuration sweep."""
    path = Path(path)
    raw = _read_yaml(path)
    if "base" not in raw and "grid" not in raw:
        spec = load_spec(path)
        return _single(spec, path)
    unknown = [k for k in raw if k not in SWEEP_KEYS]
    if unknown:
        raise ToolkitError(f"{path}: unknown sweep key {unknown[0]!r}. Allowed: {', '.join(SWEEP_KEYS)}.")
    for key in ("name", "base", "grid"):
        if key not in raw:
            raise ToolkitError(f"{path}: a sweep needs {key!r}. Keys: {', '.join(SWEEP_KEYS)}.")
    base_path = (path.parent / str(raw["base"])).resolve()
    base_raw = _read_yaml(base_path)
    for key, value in (raw.get("set") or {}).items():
        apply_override(base_raw, f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}")
    base = parse_spec(copy.deepcopy(base_raw), base_dir=base_path.parent, source=base_path)
    sweep = Sweep(str(raw["name"]), path, base_raw, base_path.parent, base.seed, description=str(raw.get("description", "")))
    sweep.configs = expand(sweep, _grid(raw["grid"], path), raw.get("baseline"), path)
    return sweep


def _single(spec: Spec, path: Path) -> Sweep:
    sweep = Sweep(spec.name, path, spec.raw, path.parent, spec.seed)
    sweep.configs = [Config(spec.name, spec.name, {}, spec.raw, spec)]
    return sweep


def combine(paths: list[str | Path]) -> Sweep:
    """``bench A.yaml B.yaml``: plain specs compared with each other, the first as baseline."""
    specs = [load_spec(p) for p in paths]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ToolkitError(f"The specs to compare need different names; got {', '.join(names)}.")
    sweep = Sweep("compare_" + "_vs_".join(names)[:80], Path(paths[0]), specs[0].raw, Path(paths[0]).parent, specs[0].seed)
    for i, spec in enumerate(specs):
        sweep.configs.append(Config(f"c{i:02d}-{spec.name}", spec.name, {"spec": spec.name}, spec.raw, spec,
                                    is_baseline=i == 0, baseline_id=f"c00-{specs[0].name}"))
    return sweep


def _read_yaml(path: Path) -> dict:
    return read_yaml_mapping(path, "a YAML sweep or spec", "name:, base:, grid:, ...")


def _grid(grid: Any, path: Path) -> dict[str, list]:
    if not isinstance(grid, dict) or not grid:
        raise ToolkitError(f"{path}: 'grid' must map axes ({', '.join(AXES)}) to lists of values. Got {grid!r}.")
    for axis, values in grid.items():
        if axis not in AXES:
            raise ToolkitError(f"{path}: unknown grid axis {axis!r}. Axes: {', '.join(AXES)}.")
        if not isinstance(values, list) or not values:
            raise ToolkitError(f"{path}: grid.{axis} must be a non-empty list of values. Got {values!r}.")
    return grid


def apply_axes(base_raw: dict, axes: dict) -> dict:
    raw = copy.deepcopy(base_raw)
    for axis, value in axes.items():
        if axis == "training":
            raw["training"] = {**(raw.get("training") or {}), **(value or {})}
        else:
            raw[axis] = copy.deepcopy(value)
    return raw


def describe(axes: dict) -> tuple[str, str]:
    """(file-safe id stem, label for people) of a combination of axis values."""
    parts, words = [], []
    if "featurizers" in axes:
        parts.append("_".join(_type(f) for f in axes["featurizers"]))
        words.append("+".join(_with_params(f) for f in axes["featurizers"]))
    if "head" in axes:
        parts.append(_type(axes["head"]))
        words.append(_with_params(axes["head"]))
    if "training" in axes:
        text = ",".join(f"{k}={v}" for k, v in (axes["training"] or {}).items()) or "default"
        parts.append("t-" + "".join(ch if ch.isalnum() else "-" for ch in text))
        words.append(text)
    if "seed" in axes:
        parts.append(f"s{axes['seed']}")
        words.append(f"seed {axes['seed']}")
    return "-".join(parts)[:80], " | ".join(words)


def _with_params(block: Any) -> str:
    """``logreg(C=0.1)``: the type and the parameters given, so grid rows tell apart."""
    if not isinstance(block, dict):
        return str(block)
    params = ",".join(f"{k}={v}" for k, v in block.items() if k != "type")
    return f"{_type(block)}({params})" if params else _type(block)


def _type(block: Any) -> str:
    return str(block.get("type", "?")) if isinstance(block, dict) else str(block)


def expand(sweep: Sweep, grid: dict[str, list], baseline: Any, path: Path) -> list[Config]:
    axes_names = list(grid)
    combos = [dict(zip(axes_names, values)) for values in itertools.product(*(grid[a] for a in axes_names))]
    if baseline is not None and not isinstance(baseline, dict):
        raise ToolkitError(f"{path}: 'baseline' must be a mapping of axis values, e.g. {{head: {{type: logreg}}}}.")
    bad = [k for k in (baseline or {}) if k not in AXES]
    if bad:
        raise ToolkitError(f"{path}: baseline: unknown axis {bad[0]!r}. Axes: {', '.join(AXES)}.")
    configs: list[Config] = []
    seen: dict[str, Config] = {}

    def add(axes: dict, is_baseline: bool = False) -> Config:
        raw = apply_axes(sweep.base_raw, axes)
        key = yaml.safe_dump(raw, sort_keys=True)
        if key in seen:  # the baseline may coincide with a grid configuration
            seen[key].is_baseline |= is_baseline
            return seen[key]
        stem, label = describe(axes)
        config = Config(f"c{len(configs):02d}-{stem}", label, axes, raw, is_baseline=is_baseline)
        raw["name"] = config.config_id
        try:
            config.spec = parse_spec(raw, base_dir=sweep.base_dir, source=sweep.source)
        except ToolkitError as exc:
            config.reason = str(exc)
        seen[key] = config
        configs.append(config)
        return config

    for axes in combos:
        add(axes)
    seeds = grid.get("seed", [None])
    for seed in seeds:
        axes = dict(baseline or {})
        if seed is not None:
            axes["seed"] = seed
        base_config = add(axes, is_baseline=True) if baseline is not None else None
        for config in configs:
            if base_config is not None and (seed is None or config.axes.get("seed", seed) == seed):
                config.baseline_id = base_config.config_id
    return configs
