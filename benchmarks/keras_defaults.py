"""The Keras heads, trained as shipped, against their linear counterparts: one run, same data and folds.

    python benchmarks/keras_defaults.py [--users 3000] [--no-hazard]

Targets: at the default 3,000 synthetic users the ``mlp`` and the ``hybrid``
should score within 0.015 ROC-AUC of ``logreg`` on the same blocks, and the ``hazard``
network within 0.01 C of ``cox`` on the shipped time-to-return data. Every pair is run
from the shipped specs (``experiments/quickstart.yaml``'s data, label, training and
evaluation; ``experiments/time_to_return.yaml``), changing only the featurizers and the
head, so the folds are the same (they depend on the users, labels and seed alone) and the
Keras heads use their shipped defaults. The metric is the run's own: out-of-fold ROC-AUC
(C-index) over all users, as ``toolkit run`` reports it. Prints each pair's difference and
one PASS/FAIL line per target; exits 1 when a target is missed. About 6 minutes on 2
shared cores (each Keras run trains 6 networks: 5 folds and the final model).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

TFIDF_BEHAVIOR = [{"type": "tfidf"}, {"type": "behavior"}]  # the efficiency study's first row
QUICKSTART = [{"type": "tfidf", "max_features": 5000, "ngram_range": [1, 2], "min_df": 2}, {"type": "behavior"}]

#: (name, spec file, featurizers, head, baseline name, target): the baseline is an earlier row
ROWS = [
    ("logreg | tfidf + behavior", "quickstart.yaml", TFIDF_BEHAVIOR, {"type": "logreg"}, None, None),
    ("mlp | tfidf + behavior", "quickstart.yaml", TFIDF_BEHAVIOR, {"type": "mlp"},
     "logreg | tfidf + behavior", 0.015),
    ("hybrid | tfidf + behavior", "quickstart.yaml", TFIDF_BEHAVIOR, {"type": "hybrid"},
     "logreg | tfidf + behavior", 0.015),
    ("logreg | quickstart blocks", "quickstart.yaml", QUICKSTART, {"type": "logreg"}, None, None),
    ("hybrid | quickstart (+ temporal)", "quickstart.yaml", QUICKSTART + [{"type": "temporal"}],
     {"type": "hybrid"}, "logreg | quickstart blocks", 0.015),
]
HAZARD_ROWS = [
    ("cox | time to return", "time_to_return.yaml", None, {"type": "cox", "penalizer": 0.1}, None, None),
    ("hazard | time to return", "time_to_return.yaml", None, {"type": "hazard"}, "cox | time to return", 0.01),
]


def spec_for(file: str, featurizers, head: dict, users: int) -> dict:
    """The shipped spec with these featurizers and head (and ``users`` synthetic users)."""
    from toolkit.yaml_io import read_yaml_mapping

    raw = read_yaml_mapping(ROOT / "experiments" / file, "a YAML spec", "name, data, label, ...")
    raw["name"] = f"keras_defaults_{head['type']}"
    raw["head"] = head
    if featurizers is not None:
        raw["featurizers"] = featurizers
    raw["data"]["synthetic"]["users"] = users
    return raw


def measure(rows, users: int, work: Path) -> dict[str, tuple[float, str, float]]:
    """Each row's (metric, metric name, seconds), run one after the other through ``toolkit.run``."""
    import toolkit

    out = {}
    for name, file, featurizers, head, _, _ in rows:
        start = time.perf_counter()
        run = toolkit.run(spec_for(file, featurizers, head, users), results_dir=work / "results",
                          cache_dir=work / "cache")
        key = run.record.task_class.headline()
        out[name] = (run.record.metrics[key].mean, key, time.perf_counter() - start)
        folds = run.record.raw.get("folds") or []
        kept = [f["kept_start"] for f in folds if "kept_start" in f]
        note = f", {sum(kept)} of {len(kept)} folds kept the linear start" if kept else ""
        print(f"  {name:34s} {key} {out[name][0]:.4f}  ({out[name][2]:.0f} s{note})", flush=True)
    return out


def report(rows, scores) -> bool:
    """Print each target's difference and PASS/FAIL line; True when every target is met."""
    ok = True
    for name, _, _, _, baseline, target in rows:
        if baseline is None:
            continue
        value, key, _ = scores[name]
        delta = value - scores[baseline][0]
        met = delta >= -target
        ok &= met
        print(f"{'PASS' if met else 'FAIL'}  {name} - {baseline}: {key} {delta:+.4f} (target >= -{target})")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--no-hazard", action="store_true", help="skip the hazard vs cox pair")
    args = parser.parse_args(argv)
    rows = ROWS + ([] if args.no_hazard else HAZARD_ROWS)
    with tempfile.TemporaryDirectory(prefix="toolkit-keras-defaults-") as work:
        print(f"{args.users:,} synthetic users, shipped specs and head defaults, same folds:")
        scores = measure(rows, args.users, Path(work))
    return 0 if report(rows, scores) else 1


if __name__ == "__main__":
    sys.exit(main())
