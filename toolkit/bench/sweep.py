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

``grid`` may also be a list of such mappings: their configurations are joined in
order, so axes can be paired instead of crossed (logreg and MLP on two-block
featurizer sets, the hybrid head on sets with a sequence block). ``exclude`` lists
partial axis mappings; a configuration matching every key of one is dropped.

A sweep may hold at most :data:`MAX_CONFIGS` configurations (``--max-configs N`` on
``bench`` and ``validate`` raises the cap). The count is the product of each grid's axis
lengths, summed over the grids, taken from the file before anything is expanded and before
``exclude`` drops any: a 2 KB file can otherwise ask for millions of configurations.

Every configuration uses the same folds (drawn with the base spec's seed), so
comparisons between configurations are paired; the ``seed`` axis changes the
training seed only. Each configuration is compared with the baseline of the
same seed.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import ToolkitError
from toolkit.experiment.spec import NAME, Spec, apply_override, load_spec, parse_spec
from toolkit.interrupts import check_stop
from toolkit.yaml_io import read_yaml_mapping
from toolkit.params import parse, unknown_key

AXES = ("featurizers", "head", "seed", "training")
MAX_CONFIGS = 1000  # more is refused unless --max-configs says otherwise


@dataclass(kw_only=True)
class SweepFields:
    """The keys of a sweep file (see the module docstring)."""

    name: str
    description: str = ""
    base: str
    set: dict = field(default_factory=dict)
    grid: dict | list
    baseline: dict | None = None
    exclude: list[dict] = field(default_factory=list)

    param_paths = True
    param_constraints = {"name": NAME}

    def validate(self, where: str) -> None:
        grids = self.grid if isinstance(self.grid, list) else [self.grid]
        if not grids:
            raise ToolkitError(f"'grid' must map axes ({', '.join(AXES)}) to lists of values. Got {self.grid!r}.")
        for i, grid in enumerate(grids):
            at = "grid" if isinstance(self.grid, dict) else f"grid[{i}]"
            if not isinstance(grid, dict) or not grid:
                raise ToolkitError(f"'{at}' must map axes ({', '.join(AXES)}) to lists of values. Got {grid!r}.")
            for axis, values in grid.items():
                if axis not in AXES:
                    raise ToolkitError(f"unknown grid axis {axis!r} in {at}. Axes: {', '.join(AXES)}.")
                if not isinstance(values, list) or not values:
                    raise ToolkitError(f"{at}.{axis} must be a non-empty list of values. Got {values!r}.")
        for what, mappings in (("baseline", [self.baseline or {}]), ("exclude", self.exclude)):
            for mapping in mappings:
                bad = [k for k in mapping if k not in AXES]
                if bad:
                    raise unknown_key(what, bad[0], AXES)

    def grids(self) -> list[dict]:
        return self.grid if isinstance(self.grid, list) else [self.grid]

    def count(self) -> int:
        """Configurations the grids ask for (before ``exclude``), without expanding them."""
        return sum(math.prod(len(values) for values in grid.values()) for grid in self.grids())


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


def load_sweep(path: str | Path, *, max_configs: int = MAX_CONFIGS, overrides: list[str] | None = None) -> Sweep:
    """Read a sweep file; a plain spec file counts as a one-configuration sweep.

    A grid asking for more than ``max_configs`` configurations is refused before it is expanded.
    ``overrides`` (``bench --set key.path=value``) change the base spec after the sweep's own
    ``set:`` and before the grid, so a grid axis still varies what it names.
    """
    path = Path(path)
    raw = _read_yaml(path)
    if "base" not in raw and "grid" not in raw:
        spec = load_spec(path, overrides)
        return _single(spec, path)
    try:
        fields = parse(SweepFields, raw, where="sweep")
    except ToolkitError as exc:
        raise ToolkitError(f"{path}: {exc}") from None
    check_size(fields.count(), max_configs, path)
    base_path = (path.parent / fields.base).resolve()
    base_raw = _read_yaml(base_path)
    for key, value in fields.set.items():
        apply_override(base_raw, f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}")
    for item in overrides or []:  # the command line's, after the file's: the last word is the user's
        apply_override(base_raw, item)
    base = parse_spec(copy.deepcopy(base_raw), base_dir=base_path.parent, source=base_path)
    sweep = Sweep(fields.name, path, base_raw, base_path.parent, base.seed, description=fields.description)
    sweep.configs = expand(sweep, fields.grids(), fields.baseline, fields.exclude)
    return sweep


def check_size(count: int, max_configs: int, path: Path) -> None:
    if count > max_configs:
        raise ToolkitError(f"{path}: the grid asks for {count:,} configurations, more than the limit of "
                           f"{max_configs:,}. Use fewer values per axis, split the sweep, or raise the limit "
                           "with --max-configs N.")


def _single(spec: Spec, path: Path) -> Sweep:
    sweep = Sweep(spec.name, path, spec.raw, path.parent, spec.seed)
    sweep.configs = [Config(spec.name, spec.name, {}, spec.raw, spec)]
    return sweep


def combine(paths: list[str | Path], *, max_configs: int = MAX_CONFIGS, overrides: list[str] | None = None) -> Sweep:
    """``bench A.yaml B.yaml``: plain specs compared with each other, the first as baseline.

    ``overrides`` (``bench --set``) apply to every spec alike, so the comparison stays paired.
    """
    if len(paths) > max_configs:
        raise ToolkitError(f"{len(paths):,} specs to compare, more than the limit of {max_configs:,} "
                           "configurations. Compare fewer, or raise the limit with --max-configs N.")
    specs = [load_spec(p, overrides) for p in paths]
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


def apply_axes(base_raw: dict, axes: dict) -> dict:
    raw = copy.deepcopy(base_raw)
    for axis, value in axes.items():
        if axis == "training":
            raw["training"] = {**(raw.get("training") or {}), **(value or {})}
        else:
            raw[axis] = copy.deepcopy(value)
    return raw


def combination_names(axes: dict) -> tuple[str, str]:
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
    params = ",".join(f"{k}={_short(v)}" for k, v in block.items() if k != "type")
    return f"{_type(block)}({params})" if params else _type(block)


def _short(value: Any) -> str:
    """A nested parameter in a few words: a plugin block by its type, a mapping by its keys.

    ``stack(members=[logreg,gbdt])``, ``tuned(head=gbdt,space={num_leaves,learning_rate})``: the
    full blocks are in each configuration's resolved spec; a label that printed them would not fit
    a table.
    """
    if isinstance(value, dict):
        return _type(value) if "type" in value else "{" + ",".join(str(k) for k in value) + "}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in value):
        return "[" + ",".join(_short(v) for v in value) + "]"
    return str(value)


def _type(block: Any) -> str:
    return str(block.get("type", "?")) if isinstance(block, dict) else str(block)


def expand(sweep: Sweep, grids: list[dict[str, list]], baseline: dict | None,
           exclude: list[dict] = ()) -> list[Config]:
    """The configurations of every grid in order (duplicates once), less the excluded; then the baselines."""
    configs: list[Config] = []
    seen: dict[str, Config] = {}

    def add(axes: dict, is_baseline: bool = False) -> Config:
        raw = apply_axes(sweep.base_raw, axes)
        key = yaml.safe_dump(raw, sort_keys=True)
        if key in seen:  # the baseline may coincide with a grid configuration
            seen[key].is_baseline |= is_baseline
            return seen[key]
        stem, label = combination_names(axes)
        config = Config(f"c{len(configs):02d}-{stem}", label, axes, raw, is_baseline=is_baseline)
        raw["name"] = config.config_id
        try:
            config.spec = parse_spec(raw, base_dir=sweep.base_dir, source=sweep.source)
        except ToolkitError as exc:
            config.reason = str(exc)
        seen[key] = config
        configs.append(config)
        return config

    for grid in grids:
        names = list(grid)
        for values in itertools.product(*(grid[a] for a in names)):
            check_stop()  # a thousand configurations take a while to parse
            axes = dict(zip(names, values))
            if not any(all(axes.get(k) == v for k, v in rule.items()) for rule in exclude):
                add(axes)
    seeds = sorted({s for grid in grids for s in grid.get("seed", [])}) or [None]
    for seed in seeds:
        axes = dict(baseline or {})
        if seed is not None:
            axes["seed"] = seed
        base_config = add(axes, is_baseline=True) if baseline is not None else None
        for config in configs:
            if base_config is not None and (seed is None or config.axes.get("seed", seed) == seed):
                config.baseline_id = base_config.config_id
    return configs
