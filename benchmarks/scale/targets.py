"""What the scale benchmark measures against, and where its outputs go.

Both the runner (:mod:`.run`) and the report (:mod:`.report`) read these, so they live apart from
either: the report never imports the runner.
"""

from pathlib import Path

#: the benchmarks folder: RESULTS.md, scale.png, scale_rows.json and the generated data live there
BENCHMARKS = Path(__file__).resolve().parent.parent

SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)
#: (head, users) -> (wall seconds, peak GB) targets
TARGETS = {("mlp", 100_000): (180.0, 3.0), ("logreg", 1_000_000): (600.0, 8.0)}
#: time(100k) / time(10k) at most this, for both heads
GROWTH_TARGET = 10.0
