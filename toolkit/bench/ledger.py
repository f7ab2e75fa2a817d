"""The sweep's ledger: one JSON line per finished configuration, appended as it finishes.

A line is written (and fsynced) only after the configuration's folder is in
place, so after a crash the ledger never names a half-finished configuration;
a torn last line (power loss mid-write) is ignored on reading. Run folders are
recorded relative to the sweep folder (the ledger's own folder), so a sweep
folder that was moved or copied elsewhere still reads; older ledgers' absolute
paths are read as they are.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from toolkit.bench.records import ConfigResult
from toolkit.experiment.record import is_run_folder, read_bounded
from toolkit.safe_io import append_line

#: a ledger line is a few hundred bytes; sweeps are capped far below the lines this allows
MAX_LEDGER_BYTES = 64 * 2**20


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.base = self.path.parent

    def read(self) -> dict[str, ConfigResult]:
        """Finished configurations by id (the last line wins)."""
        done: dict[str, ConfigResult] = {}
        if not os.path.lexists(self.path):  # a FIFO or a folder there is refused by the reader, naming it
            return done
        text = read_bounded(self.path, MAX_LEDGER_BYTES, "a sweep's ledger").decode("utf-8", errors="replace")
        for line in text.splitlines():
            try:
                result = ConfigResult.from_dict(json.loads(line), base=self.base)
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                continue  # a torn or foreign line
            if result.status != "done" or (result.folder and is_run_folder(result.folder)):
                done[result.config_id] = result
        return done

    def append(self, result: ConfigResult) -> None:
        """One line, fsynced; a link planted at the ledger's name is refused, never followed."""
        append_line(self.path, json.dumps(result.to_dict(relative_to=self.base)), within=self.base, fsync=True)
