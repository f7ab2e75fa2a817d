"""What a spec reads: its posts file (or its synthetic data) and the label as it applies to them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from toolkit.experiment.spec import Spec


def data_path(spec: Spec, cache_dir: str | None = None) -> Path:
    """The posts CSV a spec reads: its ``data.path``, or its synthetic data (generated on first use)."""
    if spec.data.path is not None:
        return Path(spec.data.path)
    from toolkit.data.synth import ensure_synthetic
    from toolkit.features.cache import default_cache_root

    syn = spec.data.synthetic
    return ensure_synthetic(syn.users, syn.seed, syn.positive_rate, cache_dir=default_cache_root(cache_dir) / "synthetic")


def effective_label(spec: Spec):
    """The spec's label, with the coverage rule off for synthetic data unless the spec sets it.

    The generator records every post it makes, so a quiet day in a small synthetic file is chance,
    not a crawler that stopped; censoring on it would only shrink the data. A ``label.coverage``
    written in the spec applies to synthetic data too.
    """
    if spec.data.synthetic is None or "coverage" in (spec.raw.get("label") or {}):
        return spec.label
    return dataclasses.replace(spec.label, coverage=None)
