"""Referee: every interval and flag of a time-to-return run fires on null data at no more than its nominal rate.

The null crawls are the yes/no referee's (:mod:`referee_data`, the audit's construction): each user
keeps the posts of their first week and is handed another user's later posts, so when (and whether)
a user came back is the donor's doing and nothing the features see of the user carries it. Each is
run end to end (``toolkit.run``: Cox on behaviour, 3-fold CV, the permutation test's 19 shuffles
of whole label records) and its flags are counted: the C-index interval excludes 0.5 (and lies
above it), its ``p_vs_chance``, the Δ C-index over timing and over exposure exclude 0, the calendar
warning stays silent, and the two permutation p-values are <= 0.05.

Results (100 null crawls, seeds 0-99, 24-46 returns seen each; 629 s on two cores shared with other
jobs, the 20 power crawls 53 s), flags fired: C-index interval excludes 0.5: 5/100 (nominal 5%,
allowed 9); above 0.5: 2/100 (2.5%, allowed 5); C-index p vs chance <= 0.05: 5/100; Δ over timing
excludes 0: 1/100; over exposure: 2/100; calendar warning silent: 1/100 (2.5%, allowed 5);
permutation p <= 0.05: 6/100 (C-index), 2/100 (Δ over timing). The user bootstrap of fixed risks
these intervals replace excluded chance in 30% (C-index) and 16.7% (Δ over timing) of such crawls.

Power (20 crawls with the signal left in, seeds 0-19): C-index interval above 0.5 in 4/20, Δ over
timing excludes 0 in 4/20, permutation p <= 0.05 in 14/20 (C-index) and 11/20 (Δ). At 3 folds x 1
the corrected t has 2 degrees of freedom and little power; the permutation test has more. The test
asserts only that power is above the null rate. The same rates are in docs/metrics.md
(REFEREE_TTR_NULL_SETS and REFEREE_TTR_POWER_SETS raise the sizes, ``-s`` prints the counts).
The allowance is the yes/no referee's: nominal + two binomial standard errors.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from referee_data import crawl
from specs import BASE, spec_dict
from toolkit.errors import ToolkitError

NULL_SETS = int(os.environ.get("REFEREE_TTR_NULL_SETS", "100"))
POWER_SETS = int(os.environ.get("REFEREE_TTR_POWER_SETS", "20"))
USERS, RATE = 120, 0.3
#: returns seen a crawl must hold to be scored: every 3-fold test fold then holds at least 3
MIN_RETURNS = 9


def spec_for(path) -> dict:
    label = {"cohort": BASE["label"]["cohort"], "observe_days": 7, "coverage": None,
             "time_to_return": {"after_days": 7, "follow_days": 28}}
    return spec_dict(name="ttr-referee", label=label, head={"type": "cox"}, featurizers=[{"type": "behavior"}],
                     data={"path": str(path)},
                     evaluation={"cv": {"folds": 3, "repeats": 1}, "bootstrap": 100, "permutations": 19,
                                 "min_positives_per_fold": 3})


def _one(tmp_path, seed: int, *, swap: bool) -> dict | None:
    """The flags of one crawl, or None when it holds too few returns to evaluate."""
    from toolkit.experiment.runner import run
    from toolkit.experiment.spec import parse_spec

    path = tmp_path / f"crawl{seed}.csv"
    crawl(seed, USERS, RATE, swap=swap).to_csv(path, index=False)
    try:
        m = run(parse_spec(spec_for(path)), results_dir=tmp_path / "r", save=False, use_cache=False).metrics
    except ToolkitError:
        return None
    if m["data"]["time_to_return"]["returned"] < MIN_RETURNS:
        return None
    c, base, perm = m["metrics"]["c_index"], m["baselines"], m["permutation"]
    return {"returns": m["data"]["time_to_return"]["returned"],
            "c_index_excludes_chance": c["ci_low"] > 0.5 or c["ci_high"] < 0.5,
            "c_index_above_chance": c["ci_low"] > 0.5,
            "c_index_p_vs_chance": c["p_vs_chance"] <= 0.05,
            "timing_delta_excludes_zero": base["timing"]["delta_c_index"]["excludes_zero"],
            "exposure_delta_excludes_zero": base["exposure"]["delta_c_index"]["excludes_zero"],
            "calendar_warning_silent": not any("timing's alone" in w for w in m["warnings"]),
            "permutation_c_index": perm["c_index"]["p_value"] <= 0.05,
            "permutation_delta_c_index": perm["delta_c_index"]["p_value"] <= 0.05,
            "method": m["intervals"]["method"]}


def _rates(tmp_path, sets: int, *, swap: bool) -> tuple[dict, int, list]:
    from threadpoolctl import threadpool_limits

    found, seed, counts, returns = 0, 0, {}, []
    while found < sets:
        # one BLAS thread: a Cox fit on 100 users is tiny, and on a busy machine BLAS threads make it
        # ten times slower; the numbers do not change
        with threadpool_limits(limits=1):
            flags = _one(tmp_path, seed, swap=swap)
        seed += 1
        if flags is None:
            continue
        found += 1
        returns.append(flags.pop("returns"))
        assert flags.pop("method").startswith("corrected resampled t")
        for k, v in flags.items():
            counts[k] = counts.get(k, 0) + bool(v)
    return counts, seed, returns


NOMINAL = {"c_index_excludes_chance": 0.05, "c_index_above_chance": 0.025, "c_index_p_vs_chance": 0.05,
           "timing_delta_excludes_zero": 0.05, "exposure_delta_excludes_zero": 0.05,
           "permutation_c_index": 0.05, "permutation_delta_c_index": 0.05}


def _allowed(nominal: float, sets: int) -> float:
    return nominal + 2 * np.sqrt(nominal * (1 - nominal) / sets)


@pytest.mark.slow
def test_time_to_return_flags_hold_their_level_on_null_crawls(tmp_path):
    start = time.perf_counter()
    counts, tried, returns = _rates(tmp_path, NULL_SETS, swap=True)
    print(json.dumps({"null_sets": NULL_SETS, "seeds_tried": tried, "returns": [min(returns), max(returns)],
                      "fired": counts, "seconds": round(time.perf_counter() - start)}))
    for key, nominal in NOMINAL.items():
        assert counts[key] / NULL_SETS <= _allowed(nominal, NULL_SETS), f"{key}: {counts[key]} of {NULL_SETS}"
    # the calendar warning must speak up whenever the Δ over timing is not shown above 0
    silent = counts["calendar_warning_silent"]
    assert silent / NULL_SETS <= _allowed(0.025, NULL_SETS), f"warning silent on {silent}"


@pytest.mark.slow
def test_time_to_return_power_on_crawls_with_signal_is_reported(tmp_path):
    counts, tried, returns = _rates(tmp_path, POWER_SETS, swap=False)
    print(json.dumps({"power_sets": POWER_SETS, "seeds_tried": tried, "returns": [min(returns), max(returns)],
                      "fired": counts}))
    assert counts["c_index_above_chance"] / POWER_SETS > _allowed(0.025, POWER_SETS)
