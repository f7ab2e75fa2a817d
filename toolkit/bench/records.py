"""What the harness knows about one configuration of a sweep."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass
class ConfigResult:
    """One row of a comparison: a finished run, or a configuration that was skipped or failed."""

    config_id: str  # short, unique, file-name safe: "c03-tfidf+behavior-mlp-s1"
    label: str  # what varies, for people: "tfidf+behavior | mlp | seed 1"
    status: Literal["done", "skipped", "failed"]
    reason: str = ""  # why skipped or failed, with what to do about it
    folder: Path | None = None  # the run folder (metrics.json, predictions.csv, spec.yaml) when done
    is_baseline: bool = False
    axes: dict = field(default_factory=dict)  # the grid values of this configuration

    @property
    def metrics(self) -> dict:
        """The run's metrics.json (only when done)."""
        return json.loads((Path(self.folder) / "metrics.json").read_text())

    def to_dict(self) -> dict:
        return {"config_id": self.config_id, "label": self.label, "status": self.status, "reason": self.reason,
                "folder": str(self.folder) if self.folder else None, "is_baseline": self.is_baseline,
                "axes": self.axes}

    @classmethod
    def from_dict(cls, d: dict) -> "ConfigResult":
        return cls(d["config_id"], d["label"], d["status"], d.get("reason", ""),
                   Path(d["folder"]) if d.get("folder") else None, d.get("is_baseline", False), d.get("axes", {}))
