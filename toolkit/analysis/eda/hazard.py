"""The EDA report's survival view of behavior: one univariate Cox model per users-table column.

For a ``time_to_return`` spec the yes/no correlations of :mod:`toolkit.analysis.eda.stats` do not
apply (there is no yes/no label: censored users are kept). Each behavior column instead gets its
own Cox proportional-hazards model, fitted by the ``cox`` head (:class:`toolkit.heads.cox.CoxHead`,
no penalty: the column standardised, Breslow ties, bins the crawl did not cover outside every risk
set), so the report reads the column the way a time-to-return run models it:

* ``hr`` is the hazard ratio of a return per standard deviation of the column: above 1, users
  higher on it return sooner; below 1, later;
* its 95% interval is Wald's, ``exp(beta +- 1.96 se)``, with ``se`` from the partial likelihood's
  observed information at ``beta``; ``p`` is the Wald test of ``beta = 0``.

**Too few returns to read.** With fewer than :data:`MIN_RETURNS` returns seen, a model rests on
those few users; such rows keep the number of returns and carry ``readable: False``, and the
report prints "too few returns to read" in place of the ratio, its interval and ``p`` (and the
figure draws no interval for them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.data.schema import BEHAVIOR_COLUMNS

#: fewer returns seen than this: the univariate Cox models are not read (about ten events per variable)
MIN_RETURNS = 10
TOO_FEW_RETURNS = "too few returns to read"


def _information(x: np.ndarray, beta: float, risk_set: np.ndarray, deaths: np.ndarray) -> float:
    """Observed information of one coefficient under Breslow's partial likelihood."""
    w = np.exp(x * beta - (x * beta).max())
    s0, s1, s2 = w @ risk_set, (w * x) @ risk_set, (w * x * x) @ risk_set
    used = (deaths > 0) & (s0 > 0)
    return float((deaths[used] * (s2[used] / s0[used] - (s1[used] / s0[used]) ** 2)).sum())


def univariate_cox(x: np.ndarray, targets: np.ndarray) -> dict:
    """``beta, se, hr, ci_low, ci_high, p`` of one column (per SD) from the ``cox`` head, no penalty."""
    from scipy.stats import norm

    from toolkit.features.blocks import Block
    from toolkit.heads.cox import CoxHead, unpack_targets

    head = CoxHead(penalizer=0.0).fit([Block("column", "dense", x[:, None])], targets)
    beta = float(head.coef_[0])
    risk_set, returned, last = unpack_targets(targets)
    deaths = np.zeros(risk_set.shape[1])
    np.add.at(deaths, last[returned], 1.0)
    info = _information((x - head.mean_[0]) / head.scale_[0], beta, risk_set, deaths)
    se = float(1 / np.sqrt(info)) if info > 0 else float("nan")
    z = 1.959963984540054
    return {"beta": beta, "se": se, "hr": float(np.exp(beta)), "ci_low": float(np.exp(beta - z * se)),
            "ci_high": float(np.exp(beta + z * se)), "p": float(2 * norm.sf(abs(beta / se))) if se == se else float("nan")}


def hazard_ratios(users: pd.DataFrame, label) -> pd.DataFrame:
    """One row per behavior column: its univariate Cox hazard ratio per SD; largest effect (|log hr|) first."""
    from toolkit.heads.hazard_loss import pack_targets

    targets = pack_targets(label)
    returns = int(label.event.sum())
    ok = returns >= MIN_RETURNS
    blank = {"beta": float("nan"), "se": float("nan"), "hr": float("nan"), "ci_low": float("nan"),
             "ci_high": float("nan"), "p": float("nan")}
    rows = []
    for column in BEHAVIOR_COLUMNS:
        x = users[column].to_numpy(dtype=float)
        fit = blank
        if ok and np.isfinite(x).all() and np.std(x) > 0:
            fit = univariate_cox(x, targets)
        rows.append({"column": column, **fit, "returns": returns, "readable": ok})
    out = pd.DataFrame(rows)
    return out.sort_values("beta", key=lambda s: -s.abs(), na_position="last").reset_index(drop=True)
