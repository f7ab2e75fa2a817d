"""Train a yes/no head on a training part: carve its validation part, fit, calibrate, pick the threshold.

Shared by the ``binary`` task's folds and final model (:mod:`toolkit.tasks.binary`) and by
``explain``'s refit on a training part (:mod:`toolkit.analysis.explain`).
"""

from __future__ import annotations

import time

import numpy as np

from toolkit.evaluation.calibration import calibrate_head
from toolkit.evaluation.fallback import needs_fallback, prevalence_threshold
from toolkit.evaluation.folds import carve_validation
from toolkit.evaluation.thresholds import choose_threshold
from toolkit.experiment.spec import Spec
from toolkit.features.blocks import Block


def fit_head(spec: Spec, blocks: list[Block], y: np.ndarray, on_epoch=None):
    """Carve a validation part, train the head, and pick the threshold on that part.

    Returns ``(head, threshold, seconds, fell_back)``; ``fell_back`` when the validation part held
    fewer than ``evaluation.min_validation_positives`` positives (see :mod:`toolkit.evaluation.fallback`).
    """
    fit_pos, val_pos = carve_validation(y, spec.training.validation_fraction, spec.seed)
    head = spec.build_head()
    start = time.perf_counter()
    head.fit(
        [b.rows(fit_pos) for b in blocks],
        y[fit_pos],
        validation=([b.rows(val_pos) for b in blocks], y[val_pos]),
        training=spec.training,
        seed=spec.seed,
        on_epoch=on_epoch,
    )
    seconds = time.perf_counter() - start - getattr(head, "tracing_seconds_", 0.0)
    if spec.training.calibrate != "none":
        head = calibrate_head(spec.training.calibrate, head, head.predict([b.rows(val_pos) for b in blocks]),
                              y[val_pos])
    ev = spec.evaluation
    if needs_fallback(y[val_pos], ev.threshold, ev.min_validation_positives):
        return head, prevalence_threshold(y, head.predict(blocks)), seconds, True
    threshold = choose_threshold(y[val_pos], head.predict([b.rows(val_pos) for b in blocks]), ev.threshold)
    return head, threshold, seconds, False
