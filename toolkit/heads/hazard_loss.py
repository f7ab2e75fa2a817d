"""The censored discrete-time log-likelihood of a time-to-return label, written with ``keras.ops``.

A model gives one logit ``z_k`` per time bin; the hazard ``h_k = sigmoid(z_k)`` is the chance
of returning in bin ``k`` given no return before it. For one user
(:class:`toolkit.data.time_to_return.TimeToReturn`)::

    log L = sum_{k at risk} log(1 - h_k) + [return seen] log(1 - prod_{k in event bins} (1 - h_k))

Bins the crawl did not cover are neither at risk nor event bins, so they add nothing. An exact
return (one event bin) gives the familiar ``log h_k``; one first seen after a gap spreads over
the gap's bins and the bin it was seen in. With ``log(1 - h) = -softplus(z)`` and
``A = sum_{event bins} softplus(z_k)``, the event term is ``log(1 - exp(-A))``, computed as
``log(-expm1(-A))`` for small ``A`` and ``log1p(-exp(-A))`` otherwise so neither loses digits.

Targets travel as one array of width ``2K``: the at-risk mask, then the event-bin indicator
(all zeros when no return was seen); :func:`pack_targets` builds it from a label.
"""

from __future__ import annotations

import math

import numpy as np

from toolkit.data.time_to_return import TimeToReturn
from toolkit.errors import ToolkitError


def pack_targets(label: TimeToReturn) -> np.ndarray:
    """``(n, 2K)`` float32: the at-risk mask, then 1 on each bin the seen return may lie in."""
    k = label.at_risk.shape[1]
    bins = np.arange(k)[None, :]
    events = (bins >= label.event_first[:, None]) & (bins <= label.event_last[:, None]) & label.event[:, None]
    return np.concatenate([label.at_risk, events], axis=1).astype(np.float32)


def _log1mexp(ops, a):
    """``log(1 - exp(-a))`` for ``a > 0``, accurate at both ends (Maechler, 2012)."""
    small = a <= math.log(2.0)
    a_small = ops.where(small, a, 1.0)
    a_large = ops.where(small, 1.0, a)
    return ops.where(small, ops.log(-ops.expm1(-a_small)), ops.log1p(-ops.exp(-a_large)))


def hazard_nll(targets, logits):
    """Negative log-likelihood per user, shape (batch,).

    Args:
        targets: ``(batch, 2K)`` from :func:`pack_targets`.
        logits: ``(batch, K)`` one logit per bin.
    """
    from keras import ops

    logits = ops.convert_to_tensor(logits)
    targets = ops.cast(ops.convert_to_tensor(targets), logits.dtype)
    k = ops.shape(logits)[-1]
    at_risk, events = targets[:, :k], targets[:, k:]
    minus_log_survive = ops.softplus(logits)  # -log(1 - h_k)
    survived = ops.sum(at_risk * minus_log_survive, axis=-1)
    a = ops.sum(events * minus_log_survive, axis=-1)
    seen = ops.sum(events, axis=-1) > 0
    # A user without a seen return has a == 0: the placeholder keeps the unused branch finite so its
    # gradient is 0, not nan. The floor keeps log(0) away when softplus underflows (logits < -69).
    a = ops.where(seen, ops.maximum(a, 1e-30), 1.0)
    event_term = ops.where(seen, _log1mexp(ops, a), 0.0)
    return survived - event_term


def hazard_loss_fn():
    """A Keras loss object averaging :func:`hazard_nll` over the batch."""
    import keras

    class HazardLoss(keras.losses.Loss):
        def __init__(self, name="hazard_nll", **kwargs):
            super().__init__(name=name, **kwargs)

        def call(self, y_true, y_pred):
            return hazard_nll(y_true, y_pred)

    return HazardLoss()


def survival_from_logits(logits: np.ndarray) -> np.ndarray:
    """``S_k = prod_{j <= k} (1 - h_j)``: the chance of no return by the end of each bin, (n, K)."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise ToolkitError(f"logits must have shape (n, bins). Got shape {z.shape} instead.")
    return np.exp(-np.cumsum(np.logaddexp(0.0, z), axis=1))


def initial_logits(targets: np.ndarray) -> np.ndarray:
    """Per bin, the logit of the pooled hazard of the training users: the output bias to start from.

    ``h_k = (returns in k + 0.5) / (users at risk in k + returns in k + 1)``, a return spread over
    the bins it may lie in (interval-censored) counting a share in each. Started at zero, every
    bin's hazard is 0.5 and nearly every user is predicted to return within a few bins: the first
    epochs then spend themselves pulling that down, and an early-stopped model keeps part of the
    error (Keras's guide to imbalanced classification sets a binary output's bias the same way).
    """
    y = np.asarray(targets, dtype=np.float64)
    k = y.shape[1] // 2
    at_risk, events = y[:, :k], y[:, k:]
    shares = events / np.maximum(events.sum(axis=1, keepdims=True), 1.0)
    returns = shares.sum(axis=0)
    hazard = (returns + 0.5) / (at_risk.sum(axis=0) + returns + 1.0)
    return np.log(hazard) - np.log1p(-hazard)
