"""``StageClock``: a progress sink that times a run's stages and reads each one's peak memory."""

from __future__ import annotations

import time

from toolkit.cost import peak_rss_mb, reset_peak_rss
from toolkit.progress import Progress

#: progress task -> the stage it begins; tasks not listed do not change the stage
STAGE_OF_TASK = {"featurize": "featurize", "epochs": "train + score", "final model": "final model"}


class StageClock(Progress):
    """Records ``{stage, seconds, peak_gb}`` per stage, summing repeated stages (one per fold).

    The first log line of a run ends the loading stage (the runner logs the data
    summary once the users table is built and the backends are imported). The
    peak-memory counter is reset at every switch, so each stage's peak is its own.
    """

    def __init__(self, first: str) -> None:
        super().__init__()
        self.current, self.since = first, time.perf_counter()
        self.totals: dict[str, list[float]] = {}
        reset_peak_rss()

    def _switch(self, stage: str) -> None:
        if stage == self.current:
            return
        seconds, peak = time.perf_counter() - self.since, peak_rss_mb() / 1024
        total = self.totals.setdefault(self.current, [0.0, 0.0])
        total[0] += seconds
        total[1] = max(total[1], peak)
        reset_peak_rss()
        self.current, self.since = stage, time.perf_counter()

    def start(self, task: str, total: int) -> None:
        if task in STAGE_OF_TASK:
            self._switch(STAGE_OF_TASK[task])

    def log(self, message: str) -> None:
        super().log(message)
        if self.current == "load, users, imports":
            self._switch("setup")

    def finish(self) -> None:
        self._switch("")

    @property
    def stages(self) -> list[dict]:
        return [{"stage": k, "seconds": v[0], "peak_gb": v[1]} for k, v in self.totals.items() if k]
