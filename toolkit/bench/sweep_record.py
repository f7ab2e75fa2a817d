"""A finished (or partly finished) sweep folder read back: its configurations, in order, and their baselines.

A sweep folder holds ``sweep.yaml``, ``ledger.jsonl`` (one line per finished configuration,
see :mod:`toolkit.bench.ledger`), ``baselines.json`` (each configuration's baseline) and
``configs/<id>/``, one run folder each (read as :class:`~toolkit.experiment.record.RunRecord`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.bench.ledger import Ledger
from toolkit.bench.records import ConfigResult
from toolkit.errors import ToolkitError
from toolkit.experiment.record import read_json_object

LEDGER_FILE = "ledger.jsonl"
BASELINES_FILE = "baselines.json"
MAX_BASELINES_BYTES = 4 * 2**20  # an id pair per configuration; sweeps are capped far below this


@dataclass
class SweepRecord:
    """The configurations a sweep folder's ledger records, in sweep order, with each one's baseline id."""

    folder: Path
    results: list[ConfigResult]
    baselines: dict[str, str | None]

    @staticmethod
    def is_sweep_folder(folder: str | Path) -> bool:
        return (Path(folder) / LEDGER_FILE).is_file()

    @classmethod
    def open(cls, folder: str | Path) -> "SweepRecord":
        """Read the ledger and baselines; every finished run's record is read (and checked) once here."""
        folder = Path(folder)
        if not cls.is_sweep_folder(folder):
            raise ToolkitError(f"{folder} is not a sweep folder: it has no {LEDGER_FILE}.")
        ledger = Ledger(folder / LEDGER_FILE).read()
        order: dict = {}
        if (folder / BASELINES_FILE).is_file():
            order = read_json_object(folder / BASELINES_FILE, f"a sweep's {BASELINES_FILE}", MAX_BASELINES_BYTES)
        results, baselines = [], {}
        for config_id in order or ledger:
            result = ledger.get(config_id)
            if result is None:
                continue
            if result.status == "done":
                result.record  # noqa: B018 - a damaged run folder stops here, named
            results.append(result)
            base = order.get(config_id)
            baselines[config_id] = base if isinstance(base, str) else None
        return cls(folder, results, baselines)
