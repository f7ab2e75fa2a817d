"""What a run costs: the figures of ``metrics.json``'s ``cost`` block."""

from __future__ import annotations

import resource
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Cost:
    """Compute cost of one experiment. Model loading, imports and graph tracing are excluded."""

    # mean seconds per fold to fit each featurizer on the training rows and transform all rows
    featurize_s: dict[str, float] = field(default_factory=dict)
    # mean seconds per fold to train the head, graph tracing excluded
    train_s: float = 0.0
    # milliseconds to featurize and score 1,000 users with the final model (warm)
    infer_ms_per_1k: float = 0.0
    # trainable parameters of the final head
    params: int = 0
    # bytes of the saved final model (head and fitted featurizers)
    model_bytes: int = 0
    # parameters of pretrained encoders the featurizers use frozen (not trained; not in ``params``)
    frozen_params: int = 0
    # bytes of the pretrained files (weights, tokenizer) a pipeline loads to predict, besides ``model_bytes``
    weights_bytes: int = 0
    # peak resident memory of the process during this run, in MiB (see reset_peak_rss)
    peak_rss_mb: float = 0.0
    # estimated floating-point operations to featurize and score one user
    flops_per_user: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def encoder_footprint(featurizers) -> tuple[int, int]:
    """(frozen parameters, weights bytes) summed over fitted featurizers, for :class:`Cost`.

    A model folder used by two featurizers (fp32 and int8 of one encoder) is counted once for
    its bytes, since a pipeline ships it once; its parameters are counted for each, since each
    runs its own copy.
    """
    params = sum(int(f.frozen_params()) for f in featurizers)
    files: dict[str, int] = {}
    for f in featurizers:
        size = int(f.weights_bytes())
        if size:
            files[str(getattr(f, "model", id(f)))] = size
    return params, sum(files.values())


def reset_peak_rss() -> bool:
    """Restart the peak-memory counter of this process, so a run measures its own peak.

    Linux resets VmHWM when "5" is written to /proc/self/clear_refs; elsewhere the
    peak stays that of the whole process (a worker that ran several configurations
    reports the largest). Returns whether the reset worked.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident set size since the last reset (or since the process started), in MiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB, macOS: bytes
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
