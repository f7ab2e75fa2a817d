"""What the harness knows about one configuration of a sweep."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from toolkit.experiment.record import RunRecord


@dataclass
class ConfigResult:
    """One row of a comparison: a finished run, or a configuration that was skipped or failed."""

    config_id: str  # short, unique, file-name safe: "c03-tfidf+behavior-mlp-s1"
    label: str  # what varies, for people: "tfidf+behavior | mlp | seed 1"
    status: Literal["done", "skipped", "failed"]
    reason: str = ""  # why skipped or failed, with what to do about it
    folder: Path | None = None  # the run folder (see toolkit.experiment.record) when done
    is_baseline: bool = False
    axes: dict = field(default_factory=dict)  # the grid values of this configuration
    spec_sha256: str = ""  # the configuration's spec as run (see harness.config_hash); resume reruns on a change

    # the run's record: handed over by the executor that ran it, or read from the folder once
    _record: RunRecord | None = field(default=None, repr=False, compare=False)

    @property
    def record(self) -> RunRecord:
        """The finished run's typed record (only when done); read from its folder at most once."""
        if self._record is None:
            if self.status != "done" or self.folder is None:
                raise ValueError(f"configuration {self.config_id} has no run record (status {self.status})")
            self._record = RunRecord.open(self.folder)
        return self._record

    @property
    def task_class(self) -> type:
        """The run's task (:mod:`toolkit.tasks`): which metrics, deltas and notes its row has (only when done)."""
        return self.record.task_class

    @property
    def metrics(self) -> dict:
        """The run's metrics.json as recorded, every key included (only when done); the toolkit's own
        readers use the typed :attr:`record`, this carries keys it does not know forward."""
        return self.record.raw

    def to_dict(self, relative_to: Path | None = None) -> dict:
        """A JSON-ready dict; ``folder`` relative to ``relative_to`` when it lies under it."""
        folder = self.folder
        if folder is not None and relative_to is not None and Path(folder).is_relative_to(relative_to):
            folder = Path(folder).relative_to(relative_to)
        return {"config_id": self.config_id, "label": self.label, "status": self.status, "reason": self.reason,
                "folder": str(folder) if folder else None, "is_baseline": self.is_baseline,
                "axes": self.axes, "spec_sha256": self.spec_sha256}

    @classmethod
    def from_dict(cls, d: dict, base: Path | None = None) -> "ConfigResult":
        """The inverse of :meth:`to_dict`; a relative ``folder`` resolves against ``base``."""
        folder = Path(d["folder"]) if d.get("folder") else None
        if folder is not None and base is not None and not folder.is_absolute():
            if ".." in folder.parts:
                raise ValueError(f"a run folder outside the sweep folder: {folder}")
            folder = base / folder
        if d["status"] not in ("done", "skipped", "failed") or not isinstance(d["config_id"], str):
            raise ValueError(f"not a ledger line: {d!r:.80}")
        return cls(d["config_id"], str(d["label"]), d["status"], str(d.get("reason", "")), folder,
                   bool(d.get("is_baseline", False)), d.get("axes") or {}, str(d.get("spec_sha256", "")))
