"""A finished run as the runner hands it back: its metrics.json, its folder, its log."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toolkit.experiment.record import RunRecord


@dataclass
class Outcome:
    metrics: dict
    folder: Path | None = None
    log: list[str] = field(default_factory=list)

    @property
    def record(self) -> RunRecord:
        """The run's figures as a typed record, from memory (nothing is read back from the folder)."""
        return RunRecord.from_dict(self.metrics, self.folder)
