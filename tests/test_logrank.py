"""Kaplan-Meier and the log-rank test on the time-to-return bins: a hand-made crawl, scikit-survival, a referee."""

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from toolkit.data.time_to_return import TimeToReturn, time_to_return
from toolkit.errors import ToolkitError
from toolkit.evaluation.kaplan_meier import kaplan_meier
from toolkit.evaluation.logrank import curves, kaplan_meier_bins, logrank_test, risk_sets

DAY0 = dt.date(2025, 1, 1)


def hand_crawl() -> TimeToReturn:
    """The label module's worked example: after_days 7, follow_days 14, days 9 and 10 not covered.

    A posts on day 11 (right after the gap: interval-censored), B on day 8, C never, D on day 13.
    """
    posts = {0: [0, 11], 1: [0, 8], 2: [0], 3: [0, 13]}
    user = [u for u, days in posts.items() for _ in days]
    day = [d for days in posts.values() for d in days]
    covered = {DAY0 + dt.timedelta(days=i) for i in range(15) if i not in (9, 10)}
    return time_to_return([DAY0] * 4, user, day, after_days=7, follow_days=14,
                          data_end=DAY0 + dt.timedelta(days=14), covered=covered)


def from_times(time, event, k) -> TimeToReturn:
    """A label without gaps: at risk through every bin up to the time (the return's bin excluded)."""
    time, event = np.asarray(time), np.asarray(event, dtype=bool)
    bins = np.arange(k)[None, :]
    at_risk = (bins < time[:, None]) | (~event[:, None] & (bins == time[:, None]))
    last = np.where(event, time, -1)
    return TimeToReturn(np.arange(k + 1), at_risk, last, last, np.where(event, -1, time))


def test_the_hand_crawl_gives_the_documented_label():
    label = hand_crawl()
    assert [list(np.flatnonzero(row)) for row in label.at_risk] == [[0, 1], [0], [0, 1, 4, 5, 6, 7], [0, 1, 4, 5]]
    assert label.event_first.tolist() == [2, 1, -1, 6] and label.event_last.tolist() == [4, 1, -1, 6]


def test_masked_bins_and_an_interval_censored_return_against_the_hand_count():
    # At risk per bin: 0: ABCD; 1: ABCD (B returns); 2, 3: nobody (the gap is masked for A, C, D);
    # 4: A C D (A's return counts where it was seen); 5: C D; 6: C D (D returns); 7: C (censored).
    sets = risk_sets(hand_crawl())
    assert sets.at_risk[0].tolist() == [4, 4, 0, 0, 3, 2, 2, 1]
    assert sets.events[0].tolist() == [0, 1, 0, 0, 1, 0, 1, 0]
    assert sets.censored[0].tolist() == [0, 0, 0, 0, 0, 0, 0, 1]
    curve = kaplan_meier_bins(hand_crawl())
    assert curve.survival == pytest.approx([1, 3 / 4, 3 / 4, 3 / 4, 1 / 2, 1 / 2, 1 / 4, 1 / 4])
    # Greenwood: sum d / (n (n - d)) = 1/12 + 1/6 + 1/2 by bin 6; log-log band S ** exp(+-z sigma / log S)
    z, s = stats.norm.isf(0.025), 0.25
    sigma = np.sqrt(1 / 12 + 1 / 6 + 1 / 2)
    assert (curve.ci_low[6], curve.ci_high[6]) == pytest.approx(
        (s ** np.exp(-z * sigma / np.log(s)), s ** np.exp(z * sigma / np.log(s))))


def test_the_log_rank_test_on_the_hand_crawl():
    # {A, B} against {C, D}: bin 1 (n 4, d 1 from group 1, n1 2): E1 1/2, V 1/4; bin 4 (n 3, d 1 from
    # group 1, n1 1): E1 1/3, V 2/9; bin 6 (n 2, d 1 from group 2, n1 0): E1 0, V 0.
    sets = risk_sets(hand_crawl(), np.array(["AB", "AB", "CD", "CD"]))
    test = logrank_test(sets.events, sets.at_risk)
    assert test["observed"].tolist() == [2, 1] and test["expected"] == pytest.approx([5 / 6, 13 / 6])
    assert test["statistic"] == pytest.approx((7 / 6) ** 2 / (1 / 4 + 2 / 9))
    assert test["p_value"] == pytest.approx(stats.chi2.sf(49 / 17, 1))
    assert test["df"] == 1


def random_data(rng, n, k, groups):
    time = rng.integers(0, k, n)
    event = rng.random(n) < 0.6
    return time, event, rng.integers(0, groups, n)


def test_without_gaps_the_curve_is_the_ordinary_kaplan_meier():
    rng = np.random.default_rng(3)
    time, event, _ = random_data(rng, 80, 10, 1)
    ours = kaplan_meier_bins(from_times(time, event, 10))
    plain = kaplan_meier(time, event)
    assert ours.at(plain.time) == pytest.approx(plain.survival)
    seen = np.isin(ours.time, plain.time)
    assert ours.ci_low[seen] == pytest.approx(plain.ci_low) and ours.ci_high[seen] == pytest.approx(plain.ci_high)


@pytest.mark.parametrize("seed, groups", [(0, 2), (1, 3), (2, 4), (3, 5)])
def test_the_log_rank_test_matches_scikit_survival(seed, groups):
    compare = pytest.importorskip("sksurv.compare")
    from sksurv.util import Surv

    rng = np.random.default_rng(seed)
    time, event, group = random_data(rng, 150, 12, groups)
    group = np.where(group == 0, group, group + (rng.random(150) < 0.3 * time / 12))  # some real differences
    sets = risk_sets(from_times(time, event, 12), group)
    ours = logrank_test(sets.events, sets.at_risk)
    chisq, p = compare.compare_survival(Surv.from_arrays(event, time), group)
    assert ours["statistic"] == pytest.approx(chisq, abs=1e-6, rel=1e-6)
    assert ours["p_value"] == pytest.approx(p, abs=1e-6)


def test_under_no_group_effect_the_test_rejects_no_more_than_nominal():
    draws, alpha, rejected = 200, 0.05, 0
    for seed in range(draws):
        rng = np.random.default_rng(seed)
        time, event, group = random_data(rng, 30, 8, 3)
        sets = risk_sets(from_times(time, event, 8), group)
        rejected += logrank_test(sets.events, sets.at_risk)["p_value"] < alpha
    # Binomial allowance: more rejections than this would happen by chance under nominal size once in 1,000.
    assert rejected <= stats.binom.isf(0.001, draws, alpha)
    assert rejected > 0  # a test that never rejects would pass the line above too


def test_one_curve_per_group_and_bad_input_is_refused():
    label = hand_crawl()
    by = curves(risk_sets(label, np.array([1, 1, 2, 2])))
    assert list(by) == [1, 2] and by[2].survival[-1] == pytest.approx(1 / 2)
    with pytest.raises(ToolkitError, match="one entry per user"):
        risk_sets(label, np.array([1, 2]))
    with pytest.raises(ToolkitError, match="groups >= 2"):
        logrank_test(np.zeros((1, 3)), np.ones((1, 3)))
