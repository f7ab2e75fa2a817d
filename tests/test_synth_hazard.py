import numpy as np
import pandas as pd
import pytest

from toolkit.data.synth import generate, truth_path, write_synthetic
from toolkit.data.synth.process import daily_hazard, first_return_day


@pytest.fixture(scope="module")
def truth():
    return generate(20000, seed=21, positive_rate=0.2)[1]


def _check_curve(frame: pd.DataFrame) -> None:
    """Returns by each day t against sum_i 1 - (1 - lam_i) ** (t - 6), within 4 binomial sds."""
    lam = frame["daily_hazard"].to_numpy()
    day = frame["return_day"].to_numpy(dtype=float, na_value=np.inf)
    for t in range(7, 29):
        p = 1 - (1 - lam) ** (t - 6)
        seen = (day <= t).sum()
        sd = np.sqrt((p * (1 - p)).sum())
        assert abs(seen - p.sum()) < 4 * sd + 1, (t, seen, p.sum(), sd)


def test_return_times_follow_the_hazard(truth):
    _check_curve(truth)
    # And within low and high retention probabilities, so the curve follows each user's p.
    high = truth["p_retained"] > truth["p_retained"].median()
    _check_curve(truth[high])
    _check_curve(truth[~high])
    # Given a return, a higher hazard brings it earlier (a uniform return day would not).
    returned = truth[truth["retained"]]
    early = returned["return_day"] <= 10
    high_returned = returned["p_retained"] > returned["p_retained"].median()
    assert early[high_returned].mean() > early[~high_returned].mean() + 0.03


def test_hazard_gives_p_by_the_horizon(truth):
    lam, p = truth["daily_hazard"], truth["p_retained"]
    assert np.allclose(1 - (1 - lam) ** 22, p, rtol=1e-9, atol=1e-12)
    assert ((lam > 0) & (lam < p + 1e-15)).all()


def test_retained_is_a_return_by_day_28(truth):
    day = truth["return_day"]
    assert (day.notna() == truth["retained"]).all()
    assert day.dropna().between(7, 28).all()
    assert ((day <= 28).fillna(False) == truth["retained"]).all()
    assert day.dropna().nunique() == 22


def test_conditional_first_day_by_inverse_cdf():
    p = np.full(200_000, 0.3)
    day = first_return_day(np.random.default_rng(0), p)
    lam = daily_hazard(p[:1])[0]
    for t in (7, 10, 20, 27, 28):
        expect = min((1 - (1 - lam) ** (t - 6)) / 0.3, 1.0)
        sd = np.sqrt(expect * (1 - expect) / len(p))
        assert abs((day <= t).mean() - expect) < 4 * sd + 1e-9, t
    # Extremes stay in the window.
    edge = first_return_day(np.random.default_rng(1), np.array([1e-12, 0.5, 1.0, 1 - 1e-17]))
    assert ((edge >= 7) & (edge <= 28)).all()


def test_return_day_is_the_first_later_post_in_the_file(tmp_path):
    path = write_synthetic(tmp_path / "posts.csv", users=400, seed=5)
    posts = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    truth = pd.read_csv(truth_path(path), dtype={"user_id": str}, encoding="utf-8-sig").set_index("user_id")
    day = pd.to_datetime(posts["create_time"], format="%m/%d/%Y %H:%M").dt.normalize()
    offset = (day - day.groupby(posts["user_id"]).transform("min")).dt.days
    later = offset.where(offset >= 7).groupby(posts["user_id"]).min().reindex(truth.index)
    assert truth["retained"].sum() > 10
    pd.testing.assert_series_equal(later, truth["return_day"].astype(float), check_names=False)
