"""The retention process behind the synthetic posts, and the CSV and truth file it writes.

The public file is too small to benchmark on (one retained user), so the
toolkit trains and tests on data made here. The CSV has the crawl's columns and
quirks (BOM, multi-line quoted content, empty titles, ``7.6万`` and ``1万+``
counts, ``M/D/YYYY H:MM`` times); the truth file beside it holds each user's
retention probability, so a model's AUC can be read against the oracle's.

The process, per user:

* day 0 is the date of the first post; every user posts on 1-7 distinct days
  in days ``0..GEN_OBSERVE_DAYS-1`` and, unless retained, never again;
* a retained user posts again on at least one day in
  ``GEN_OBSERVE_DAYS..GEN_HORIZON_DAYS`` (and may post later), so the label
  "any post on days 7..28 after the first post date" equals ``retained``;
* the first return day comes from a constant daily hazard
  ``lam = 1 - (1 - p_retained) ** (1 / 22)`` on days 7..28 and none after, so
  ``S(t) = (1 - lam) ** (t - 6)`` and a return by day 28 has probability
  ``p_retained``: ``retained`` is drawn, then a retained user's first return
  day from the hazard given a return by day 28 (its own generator);
* ``logit = intercept + W * (z_engagement + z_text + z_temporal) + noise``,
  with each family score standardized over the users, so the three families
  carry equal parts of the signal and none alone reaches the oracle. The
  scores use only what the first seven days of the CSV show (parsed likes,
  the theme the text is written in, Chinese characters, active days, posting
  hours); the noise term stands for causes the file does not show;
* the text score has a part written only in Chinese
  (:mod:`toolkit.data.synth.intent`): each user intends to stay (+1) or leave
  (-1) and may say so in Chinese inside posts that hold Chinese;
  ``INTENT_EFFECT * intent`` joins the raw text score when a first-week post
  says it. On 3,000 users (seed 0) it is 30.7% of the raw text score's variance
  and 9.6% of the noise-free logit's (:func:`chinese_only_share`).

Planted crawl gaps (``gaps``, off by default, so the data for a seed is the same
with or without this option unset): days the crawler "did not run". Every post
dated on a gap day (as written in the file) is dropped; the truth file keeps
every user and gains ``crawl_gaps`` (the gap days, ``;``-separated, the same on
every row; :func:`read_gaps`) and ``posts_in_gaps`` (the user's posts dropped).
``gaps: N`` draws N distinct days, from their own generator, among the days new
users arrive on after the first (``GAP_DAYS``): there, the posts that are no
cohort user's return show a hole; after the last arrival a stopped crawler is
seen only by whoever states the crawl's dates. A list of dates plants those.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.cleanup import Removal, remove_dir_if_empty, remove_matching_files
from toolkit.data.config import MAX_SYNTHETIC_USERS
from toolkit.data.counts import parse_counts
from toolkit.data.synth.intent import INTENT_EFFECT, draw_intent, states_intent, write_intent
from toolkit.data.synth.text import OTHER_REGIONS, compose, user_names
from toolkit.errors import ToolkitError
from toolkit.progress import counter_for
from toolkit.user_dirs import cache_root
from toolkit.safe_io import open_atomic, open_output, output_target

#: observation window: first posts fall on days 0..GEN_OBSERVE_DAYS-1
GEN_OBSERVE_DAYS = 7
#: a retained user posts again on some day in GEN_OBSERVE_DAYS..GEN_HORIZON_DAYS
GEN_HORIZON_DAYS = 28
#: bump when the output for a given (users, seed, rate) changes; it is in cache names
GENERATOR_VERSION = 3
#: weight of each standardized family score in the logit
FAMILY_WEIGHT = 0.9
#: sd of the per-user logit noise the file carries no trace of
NOISE_SD = 0.5
#: theme -> its effect on the text score; learning, food and friends posters stay
THEME_EFFECT = {
    "learning_chinese": 1.2, "food": 0.7, "friends": 0.7, "pets": 0.0,
    "makeup": 0.0, "music": 0.0, "travel": -0.1, "greeting": -1.2,
}
THEME_SHARE = {
    "learning_chinese": 0.12, "food": 0.12, "friends": 0.11, "pets": 0.1,
    "makeup": 0.09, "music": 0.09, "travel": 0.09, "greeting": 0.28,
}
#: text-score bonus for writing any Chinese in the first week
_TOPIC_THEMES = np.array([t for t in THEME_SHARE if t != "greeting"])
CHINESE_EFFECT = 0.8
CSV_COLUMNS = (
    "title", "content", "address", "label", "user_name", "user_id", "like_count", "collect_count",
    "comment_count", "share_count", "create_time", "post_id", "ip_localtion", "post_image", "post_type",
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_HASHTAG = re.compile(r"#[^#\s]*\[话题\]#")
_BURST_START = np.datetime64("2025-01-13")
_TAIL_START, _LAST_FIRST_SEEN = np.datetime64("2025-01-16"), np.datetime64("2025-02-28")
#: ``gaps: N`` draws its days from these: the arrival days after the first (Jan 14 .. Feb 28 2025)
GAP_DAYS = (_BURST_START + np.timedelta64(1, "D"), _LAST_FIRST_SEEN)
# Share of posts per hour of day (as written in the file): a morning and a
# larger late-evening peak, almost nothing before dawn.
_HOUR_WEIGHTS = np.array([4, 3, 2, 1, 1, 1, 2, 3, 5, 7, 8, 8, 7, 6, 5, 5, 6, 7, 8, 10, 12, 12, 10, 7], float)


def _validate(users: int, seed: int, positive_rate: float) -> None:
    if isinstance(users, bool) or not isinstance(users, (int, np.integer)) or not 10 <= users <= MAX_SYNTHETIC_USERS:
        raise ToolkitError(
            f"The 'users' argument of the synthetic generator must be an int from 10 to {MAX_SYNTHETIC_USERS:,} "
            f"(generating holds every post in memory, about 9.4 KB a user). Got {users!r} instead."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ToolkitError(
            f"The 'seed' argument of the synthetic generator must be an int >= 0. Got {seed!r} instead."
        )
    if isinstance(positive_rate, bool) or not isinstance(positive_rate, (int, float)) or not 0 < positive_rate < 1:
        raise ToolkitError(
            "The 'positive_rate' argument of the synthetic generator must be a float in the range (0, 1). "
            f"Got {positive_rate!r} instead."
        )


def _hex_ids(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """``n`` distinct 24-hex-digit ids (the crawl's user_id/post_id shape)."""
    taken = set() if taken is None else taken
    ids = []
    while len(ids) < n:
        for row in rng.integers(0, 256, size=(n - len(ids), 12), dtype=np.uint8):
            key = row.tobytes().hex()
            if key not in taken:
                taken.add(key)
                ids.append(key)
    return ids


def _display(values: np.ndarray, lower_bound: np.ndarray) -> list[str]:
    """Counts as the app shows them: ``3829``, ``7.6万``, or a bound ``1万+``/``1千+``/``99+``/``10+``."""
    out = []
    for v, lb in zip(values.tolist(), lower_bound.tolist()):
        if lb and v >= 10:
            if v >= 10000:
                out.append(f"{v // 10000}万+")
            elif v >= 1000:
                out.append(f"{v // 1000}千+")
            else:
                out.append("99+" if v >= 100 else "10+")
        elif v >= 100_000_000:
            out.append(f"{v / 1e8:.1f}".removesuffix(".0") + "亿")
        elif v >= 10000:
            # Round down like the app does, so the display never exceeds the count.
            out.append(f"{np.floor(v / 1000) / 10:.1f}".removesuffix(".0") + "万")
        else:
            out.append(str(v))
    return out


def _first_seen(rng: np.random.Generator, n: int) -> np.ndarray:
    """A burst on Jan 13-15 2025, then a decaying tail through February."""
    burst = rng.random(n) < 0.55
    burst_day = rng.choice(3, size=n, p=[0.3, 0.45, 0.25])
    # Truncated exponential by inverse CDF, so no date passes Feb 28.
    span = int((_LAST_FIRST_SEEN - _TAIL_START).astype(int)) + 1
    scale = 10.0
    u = rng.random(n)
    tail_day = np.floor(-scale * np.log1p(-u * (1 - np.exp(-span / scale)))).astype(int)
    days = np.where(burst, (_BURST_START - _TAIL_START).astype(int) + burst_day, np.minimum(tail_day, span - 1))
    return _TAIL_START + days.astype("timedelta64[D]")


def _observed_days(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Distinct active days in 0..6 per user, day 0 always among them; most users have one."""
    n_days = rng.choice(np.arange(1, GEN_OBSERVE_DAYS + 1), size=n, p=[0.62, 0.15, 0.09, 0.06, 0.04, 0.02, 0.02])
    # A random order of days 1..6 per user; the first n_days-1 of it join day 0.
    order = np.argsort(rng.random((n, GEN_OBSERVE_DAYS - 1)), axis=1) + 1
    return [np.sort(np.concatenate(([0], order[i, : k - 1]))) for i, k in enumerate(n_days)]


def _return_days(rng: np.random.Generator, first: int) -> np.ndarray:
    """Later active days of a retained user: the first return day, maybe more from it up to day 60."""
    extra = rng.integers(first, 61, size=rng.choice(4, p=[0.45, 0.3, 0.15, 0.1]))
    return np.unique(np.concatenate(([first], extra)))


def daily_hazard(p_retained: np.ndarray) -> np.ndarray:
    """The constant daily chance of a first return on days ``GEN_OBSERVE_DAYS..GEN_HORIZON_DAYS``.

    ``1 - (1 - p) ** (1 / 22)``: over the 22 days it gives a return by day 28 with probability ``p``.
    """
    window = GEN_HORIZON_DAYS - GEN_OBSERVE_DAYS + 1
    return -np.expm1(np.log1p(-np.asarray(p_retained, dtype=float)) / window)


def first_return_day(rng: np.random.Generator, p_retained: np.ndarray) -> np.ndarray:
    """Each user's first return day given a return by ``GEN_HORIZON_DAYS``: the hazard's truncated geometric.

    By inverse CDF: with ``S(t) = (1 - lam) ** (t - 6)``, ``P(T <= t | T <= 28) = (1 - S(t)) / p``,
    so ``T = 6 + ceil(22 * log(1 - u p) / log(1 - p))`` for ``u`` uniform in [0, 1).
    """
    window = GEN_HORIZON_DAYS - GEN_OBSERVE_DAYS + 1
    p = np.minimum(np.asarray(p_retained, dtype=float), 1 - 1e-12)  # p = 1 would divide by log(0)
    steps = np.ceil(window * np.log1p(-rng.random(len(p)) * p) / np.log1p(-p))
    return (GEN_OBSERVE_DAYS - 1 + np.clip(steps, 1, window)).astype(np.int64)


def _solve_intercept(score: np.ndarray, rate: float) -> float:
    """The intercept whose mean sigmoid(intercept + score) equals ``rate`` (bisection)."""
    low, high = -30.0, 30.0
    for _ in range(100):
        mid = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(mid + score)))) < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _standardize(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


def generate(users: int, seed: int, positive_rate: float = 0.1, *, gaps=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate synthetic posts and their users' retention truth.

    Args:
        users: how many users (>= 10).
        seed: seed for :func:`numpy.random.default_rng`; equal seeds give equal frames.
        positive_rate: the mean retention probability over the users, in (0, 1).
        gaps: planted crawl gaps (see the module docstring): None or 0 for none (the default), an int N
            for N days drawn from :data:`GAP_DAYS`, or a list of dates.

    Returns:
        ``(posts, truth)``. ``posts`` has the public CSV's columns, every value
        the string the CSV holds. ``truth`` has one row per user: ``user_id``,
        ``p_retained``, ``p_noise_free``, ``retained``, ``daily_hazard`` (the
        true daily chance ``lam`` of a first return on days 7..28, zero after,
        so ``S(t) = (1 - lam) ** (t - 6)`` there and ``P(return by day 28) =
        p_retained``), ``return_day`` (the first return day after day 0, the
        first post date; empty for users who never return; ``retained`` is
        ``return_day <= 28``), ``account_created``, ``first_seen`` (date),
        ``theme`` and the standardized family scores ``engagement_score``,
        ``text_score``, ``temporal_score``; with ``gaps``, also ``crawl_gaps``
        and ``posts_in_gaps``.

    Raises:
        ToolkitError: an argument is out of range.

    The steps share one generator and run in a fixed order (users, first-week posts,
    retention, later posts, post ids, shuffle): the output for a seed depends on that
    order, so a change to it is a change of :data:`GENERATOR_VERSION`.
    """
    _validate(users, seed, positive_rate)
    gap_days = _gap_days(gaps, seed)
    rng = np.random.default_rng(seed)
    taken: set[str] = set()  # user and post ids are drawn from one pool, so none repeats
    people = _draw_users(rng, seed, int(users), taken)
    first_week, active_days = _first_week_posts(rng, people)
    z = _family_scores(first_week, active_days, people)
    p_retained, p_noise_free, retained = _draw_retention(rng, z, positive_rate)
    # Return days have their own generator, so the main stream draws what it drew before.
    first_return = first_return_day(np.random.default_rng([seed, 3]), p_retained)
    later = _later_posts(rng, people, retained, first_return)
    posts = _posts_frame(rng, people, first_week, later, taken)
    truth = pd.DataFrame({
        "user_id": people.user_ids, "p_retained": p_retained, "p_noise_free": p_noise_free, "retained": retained,
        "daily_hazard": daily_hazard(p_retained),
        "return_day": pd.arrays.IntegerArray(first_return, ~retained),  # masked (empty) where no return
        "account_created": pd.DatetimeIndex(people.created),
        "first_seen": pd.DatetimeIndex(people.first_seen.astype("datetime64[ns]")), "theme": people.themes, **z,
    })
    if gap_days:
        posts, truth = _plant_gaps(posts, truth, gap_days)
    return posts, truth


def _gap_days(gaps, seed: int) -> list:
    """The gap days as sorted ``datetime.date`` values (empty: no gaps)."""
    import datetime as dt

    if gaps is None or (isinstance(gaps, (int, np.integer)) and not isinstance(gaps, bool) and gaps == 0):
        return []
    first, last = (d.astype(object) for d in GAP_DAYS)
    span = (last - first).days + 1
    if isinstance(gaps, (int, np.integer)) and not isinstance(gaps, bool):
        if not 0 <= gaps <= span:
            raise ToolkitError(f"The 'gaps' argument of the synthetic generator must be an int from 0 to {span} "
                               f"(the arrival days {first}..{last} it draws from) or a list of dates. "
                               f"Got {gaps!r} instead.")
        picks = np.random.default_rng([seed, 4]).choice(span, size=int(gaps), replace=False)
        return sorted(first + dt.timedelta(days=int(k)) for k in picks)
    if isinstance(gaps, (list, tuple)):
        try:
            return sorted({d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in gaps})
        except ValueError:
            pass
    raise ToolkitError("The 'gaps' argument of the synthetic generator must be an int (how many gap days to draw) "
                       f"or a list of dates written YYYY-MM-DD. Got {gaps!r} instead.")


def _plant_gaps(posts: pd.DataFrame, truth: pd.DataFrame, gap_days: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop every post dated on a gap day; record the days and each user's dropped posts in the truth."""
    dates = pd.to_datetime(posts["create_time"], format="%m/%d/%Y %H:%M").dt.date
    dropped = dates.isin(set(gap_days)).to_numpy()
    lost = posts.loc[dropped, "user_id"].value_counts()
    truth = truth.assign(crawl_gaps=";".join(str(d) for d in gap_days),
                         posts_in_gaps=truth["user_id"].map(lost).fillna(0).astype(np.int64))
    return posts.loc[~dropped].reset_index(drop=True), truth


@dataclass
class _Users:
    """Per-user traits, parallel arrays in user order."""

    user_ids: list[str]
    first_seen: np.ndarray  # datetime64[D]
    created: np.ndarray  # datetime64[s], account creation
    themes: np.ndarray
    p_chinese: np.ndarray  # chance a post is written (partly) in Chinese
    popularity: np.ndarray  # shift of log likes
    home_hour: np.ndarray
    hour_sd: np.ndarray
    names: list[str]
    ip: np.ndarray
    intent: np.ndarray  # +1 stay, -1 leave; written only in Chinese (toolkit.data.synth.intent)
    intent_rng: np.random.Generator  # the intent's own draws, apart from the main stream

    def posts(self, rng: np.random.Generator, user: np.ndarray, day: np.ndarray) -> dict:
        """:func:`_posts_for` with these users' traits."""
        out = _posts_for(rng, user, day, self.home_hour, self.hour_sd, self.popularity, self.themes, self.p_chinese)
        out["content"] = write_intent(self.intent_rng, out["content"], self.intent[user], out.pop("_language"))
        # Read off the text as a reader sees it, like ``_has_zh``; a phrase may be a mixed post's only Chinese.
        out["_intent"] = np.array([states_intent(t, c) for t, c in zip(out["title"], out["content"])], dtype=float)
        out["_has_zh"] = np.maximum(out["_has_zh"], out["_intent"])
        return out


@dataclass
class _Posts:
    """Posts as parallel arrays: whose (index into :class:`_Users`), on which day after first_seen, and their fields."""

    user: np.ndarray
    day: np.ndarray
    fields: dict


def _draw_users(rng: np.random.Generator, seed: int, n: int, taken: set[str]) -> _Users:
    """Each user's id, dates and traits; creation times come from their own generator (see :func:`_object_ids`)."""
    user_ids = _hex_ids(rng, n, taken)
    first_seen = _first_seen(rng, n)
    user_ids, created = _object_ids(np.random.default_rng([seed, 1]), user_ids, first_seen)
    themes = np.array(list(THEME_SHARE))[rng.choice(len(THEME_SHARE), size=n, p=list(THEME_SHARE.values()))]
    p_chinese = rng.choice([0.0, 0.5, 0.9], size=n, p=[0.55, 0.3, 0.15])
    popularity = rng.normal(0.0, 1.3, size=n)
    home_hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    hour_sd = np.where(rng.random(n) < 0.5, 0.75, 5.0)
    names = user_names(rng, n)
    ip = np.where(rng.random(n) < 0.93, "U.S.", rng.choice(OTHER_REGIONS, size=n))
    intent_rng = np.random.default_rng([seed, 2])
    return _Users(user_ids, first_seen, created, themes, p_chinese, popularity, home_hour, hour_sd, names, ip,
                  draw_intent(intent_rng, n), intent_rng)


def _first_week_posts(rng: np.random.Generator, people: _Users) -> tuple[_Posts, np.ndarray]:
    """Observation-window posts, one or more per active day, and each user's number of active days."""
    days = _observed_days(rng, len(people.user_ids))
    per_day = [1 + (rng.random(len(d)) < 0.15) + (rng.random(len(d)) < 0.05) for d in days]
    user = np.concatenate([np.full(k.sum(), i) for i, k in enumerate(per_day)])
    day = np.concatenate([np.repeat(d, k) for d, k in zip(days, per_day)])
    return _Posts(user, day, people.posts(rng, user, day)), np.array([len(d) for d in days])


def _text_parts(first_week: _Posts, people: _Users) -> tuple[np.ndarray, np.ndarray]:
    """``(text_raw, chinese_only)``: the raw text score and its part written only in Chinese (the stated intent)."""
    n, obs, obs_user = len(people.themes), first_week.fields, first_week.user
    wrote_chinese = np.bincount(obs_user, obs["_has_zh"], n) > 0
    stated = np.bincount(obs_user, obs["_intent"], n) > 0
    chinese_only = INTENT_EFFECT * people.intent * stated
    return np.array([THEME_EFFECT[t] for t in people.themes]) + CHINESE_EFFECT * wrote_chinese + chinese_only, chinese_only


def _family_scores(first_week: _Posts, active_days: np.ndarray, people: _Users) -> dict[str, np.ndarray]:
    """The standardized family scores, from what the first week of the file shows."""
    n, obs, obs_user = len(people.themes), first_week.fields, first_week.user
    likes, _ = parse_counts(obs["like_count"])
    engagement = np.bincount(obs_user, np.log1p(likes), n) / np.bincount(obs_user, minlength=n)
    text_raw, _ = _text_parts(first_week, people)
    angle = 2 * np.pi * obs["_hour_frac"] / 24
    n_posts = np.bincount(obs_user, minlength=n)
    resultant = np.hypot(np.bincount(obs_user, np.cos(angle), n), np.bincount(obs_user, np.sin(angle), n)) / n_posts
    regularity = np.where(n_posts >= 2, resultant, 0.0)
    temporal_raw = np.log(active_days) + regularity
    return {k: _standardize(v) for k, v in
            (("engagement_score", engagement), ("text_score", text_raw), ("temporal_score", temporal_raw))}


def chinese_only_share(users: int = 3000, seed: int = 0) -> dict[str, float]:
    """How much of the signal is written only in Chinese, measured on generated users.

    Returns:
        ``{"of_text": var(chinese-only term) / var(raw text score), "of_signal": var(its part of the
        logit) / var(the noise-free logit)}``. The positive rate does not change either.
    """
    _validate(users, seed, 0.1)
    rng = np.random.default_rng(seed)
    people = _draw_users(rng, seed, int(users), set())
    first_week, active_days = _first_week_posts(rng, people)
    text_raw, chinese_only = _text_parts(first_week, people)
    signal = FAMILY_WEIGHT * sum(_family_scores(first_week, active_days, people).values())
    in_signal = FAMILY_WEIGHT * chinese_only / text_raw.std()
    return {"of_text": float(chinese_only.var() / text_raw.var()), "of_signal": float(in_signal.var() / signal.var())}


def _draw_retention(rng: np.random.Generator, z: dict[str, np.ndarray], positive_rate: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(p_retained, p_noise_free, retained)``: the logit with and without its noise term, and the draw."""
    signal = FAMILY_WEIGHT * sum(z.values())
    score = signal + rng.normal(0.0, NOISE_SD, size=len(signal))
    intercept = _solve_intercept(score, positive_rate)
    p_retained = 1 / (1 + np.exp(-(intercept + score)))
    # What the file can show at best: the same logit without the noise term (the noise-free ceiling).
    p_noise_free = 1 / (1 + np.exp(-(intercept + signal)))
    retained = rng.random(len(signal)) < p_retained
    return p_retained, p_noise_free, retained


def _later_posts(rng: np.random.Generator, people: _Users, retained: np.ndarray, first_return: np.ndarray) -> _Posts:
    """The retained users' posts after the observation window, the first on ``first_return``."""
    kept = np.flatnonzero(retained)
    later = [_return_days(rng, int(first_return[i])) for i in kept]
    user = np.concatenate([np.full(len(d), i) for i, d in zip(kept, later)] + [np.zeros(0, int)])
    day = np.concatenate(later + [np.zeros(0, int)])
    return _Posts(user, day, people.posts(rng, user, day))


def _posts_frame(rng: np.random.Generator, people: _Users, obs: _Posts, ret: _Posts, taken: set[str]) -> pd.DataFrame:
    """Every post as the CSV writes it, shuffled; draws the post ids, then the order."""
    every_user = np.concatenate([obs.user, ret.user])
    stamp = (people.first_seen[every_user] + np.concatenate([obs.day, ret.day]).astype("timedelta64[D]")).astype(
        "datetime64[m]") + np.concatenate([obs.fields["_minute"], ret.fields["_minute"]]).astype("timedelta64[m]")
    stamps = pd.DatetimeIndex(stamp)
    post_ids = _hex_ids(rng, len(every_user), taken)
    uid = np.array(people.user_ids, dtype=object)[every_user]
    both = {c: obs.fields[c] + ret.fields[c] for c in
            ("title", "content", "label", "like_count", "collect_count", "comment_count", "share_count", "post_type")}
    posts = pd.DataFrame({
        "title": both["title"],
        "content": both["content"],
        "address": [f"https://www.xiaohongshu.com/user/profile/{u}?xsec_source=pc_note" for u in uid],
        "label": both["label"],
        "user_name": np.array(people.names, dtype=object)[every_user],
        "user_id": uid,
        **{c: both[c] for c in ("like_count", "collect_count", "comment_count", "share_count")},
        "create_time": [f"{m}/{d}/{y} {h}:{mi:02d}" for m, d, y, h, mi in
                        zip(stamps.month, stamps.day, stamps.year, stamps.hour, stamps.minute)],
        "post_id": post_ids,
        "ip_localtion": people.ip[every_user],
        "post_image": [f"https://sns-img.example.com/notes/{p}/cover.jpg" for p in post_ids],
        "post_type": both["post_type"],
    }, columns=list(CSV_COLUMNS))
    # The crawl lists posts in no per-user order; shuffle so users interleave.
    return posts.iloc[rng.permutation(len(posts))].reset_index(drop=True).astype(object)


def _object_ids(rng: np.random.Generator, ids: list[str], first_seen: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Make the ids object ids whose first 8 hex digits are a creation time like the public crawl's.

    Most accounts (88%) were created in the migration wave, Jan 13-19 2025 (UTC), and never
    after the day of their first post, so users first seen in February mostly have accounts weeks
    old; the rest are older accounts from 2019-2024. Creation times are UTC; the posts' naive
    times are read on UTC+8 (the default ``data.timezone``), so a wave account is created at
    least 8 hours before its first post's calendar day starts there. A separate generator
    draws them, so the rest of the data does not depend on them.
    """
    n = len(ids)
    day = first_seen.astype("datetime64[s]").astype(np.int64)
    wave = np.datetime64("2025-01-13", "s").astype(np.int64) + rng.integers(0, 7 * 86400, n)
    latest = day - 8 * 3600 - rng.integers(0, 16 * 3600, n)
    old = rng.integers(np.datetime64("2019-01-01", "s").astype(np.int64),
                       np.datetime64("2024-12-31", "s").astype(np.int64), n)
    created = np.where(rng.random(n) < 0.88, np.minimum(wave, latest), old)
    return [f"{int(c):08x}{i[8:]}" for c, i in zip(created, ids)], created.astype("datetime64[s]")


def _posts_for(rng, user, day, home_hour, hour_sd, popularity, themes, p_chinese) -> dict:
    """Text, counts, type and minute-of-day for posts of ``user`` on ``day`` (parallel arrays)."""
    m = len(user)
    hour_frac = (home_hour[user] + 0.5 + rng.normal(0.0, 1.0, m) * hour_sd[user]) % 24
    minute = np.floor(hour_frac * 60).astype(int)
    log_likes = 2.8 + popularity[user] + rng.normal(0.0, 1.1, m) + 3.5 * (rng.random(m) < 0.04)
    likes = np.maximum(np.floor(np.exp(log_likes)) - 1, 0).astype(np.int64)
    counts = {"like_count": likes}
    for name, shift, spread in (("collect_count", -1.2, 0.8), ("comment_count", -2.0, 0.9), ("share_count", -2.5, 1.0)):
        counts[name] = np.floor(likes * np.exp(rng.normal(shift, spread, m))).astype(np.int64)
    out = {name: _display(v, rng.random(m) < 0.08) for name, v in counts.items()}
    # Most posts are in the user's theme; some stray into another (never a bare greeting).
    stray = rng.random(m) < 0.2
    post_theme = np.where(stray, rng.choice(_TOPIC_THEMES, size=m), themes[user])
    zh = rng.random(m) < p_chinese[user]
    language = np.where(zh, np.where(rng.random(m) < 0.5, "zh", "mixed"), "en")
    written = compose(rng, post_theme, language)
    out.update(written)
    out["post_type"] = np.where(rng.random(m) < 0.35, "video", "normal").tolist()
    # "Writes Chinese" is read off the text as a reader would see it: hashtag
    # markup (``#学中文[话题]#``) is the app's, not the user's writing.
    out["_has_zh"] = np.array([
        _CJK.search(_HASHTAG.sub("", f"{t} {c}")) is not None for t, c in zip(written["title"], written["content"])
    ], dtype=float)
    out["_hour_frac"] = minute / 60
    out["_minute"] = minute
    out["_language"] = language
    return out


def _write_atomic(frame: pd.DataFrame, path: Path, user_named: bool = False) -> None:
    """Write a CSV with a BOM through :func:`toolkit.safe_io.open_atomic` (temp file in the folder, then rename).

    ``user_named``: through :func:`toolkit.safe_io.open_output` (a pipe or device is written to in place).
    """
    with (open_output(path) if user_named else open_atomic(path, within=path.parent)) as fh:
        f = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(frame.columns)
        progress = counter_for("write rows", len(frame))
        step = 50_000
        for start in range(0, len(frame), step):  # in slices, so a bar can show rows and their rate
            writer.writerows(frame.iloc[start:start + step].itertuples(index=False, name=None))
            if progress is not None:
                progress(min(step, len(frame) - start))
        f.flush()
        f.detach()  # the atomic file closes the underlying handle itself


def write_synthetic(path: str | Path, users: int, seed: int, positive_rate: float = 0.1, *,
                    user_named: bool = False, gaps=None) -> Path:
    """Write a synthetic posts CSV and, beside it, ``<stem>.truth.csv``.

    Args:
        path: where the posts CSV goes; its folder is created if missing.
        users, seed, positive_rate, gaps: as for :func:`generate`.
        user_named: ``path`` is one the user named (``data synth --out``): a named pipe or a device
            there (``/dev/stdout``, ``/dev/null``) is written to in place, never replaced, and no truth
            file is written (``/dev/null.truth.csv`` is nobody's file).

    Returns:
        The posts CSV's path.
    """
    progress = counter_for("generate", users)
    posts, truth = generate(users, seed, positive_rate, gaps=gaps)
    if progress is not None:
        progress(users)
    path = Path(path)
    stream = user_named and output_target(path).stream
    if not stream:
        path.parent.mkdir(parents=True, exist_ok=True)
    truth = truth.assign(first_seen=truth["first_seen"].dt.strftime("%Y-%m-%d"),
                         return_day=[str(d) if d is not pd.NA else "" for d in truth["return_day"]])
    # Truth first: a posts file that exists always has its truth beside it.
    if not stream:
        _write_atomic(truth, truth_path(path))
    _write_atomic(posts, path, user_named)
    return path


def truth_path(path: str | Path) -> Path:
    """The truth file that goes with a synthetic posts CSV."""
    path = Path(path)
    return path.with_name(f"{path.stem}.truth.csv")


def read_gaps(path: str | Path) -> list | None:
    """The crawl gaps planted in a synthetic CSV (``datetime.date`` values), from its truth file.

    None when there is no truth file or it records no gaps (the file was made without ``gaps``).
    """
    import datetime as dt

    truth = truth_path(path)
    if not truth.is_file():
        return None
    table = pd.read_csv(truth, dtype={"crawl_gaps": str}, usecols=lambda c: c == "crawl_gaps", nrows=1,
                        encoding="utf-8-sig")
    if "crawl_gaps" not in table.columns or table.empty:
        return None
    return [dt.date.fromisoformat(d) for d in str(table["crawl_gaps"].iloc[0]).split(";") if d]


def read_truth(path: str | Path, user_ids, columns=("p_retained",)) -> list[np.ndarray | None]:
    """Per user, each of ``columns`` of the truth file beside a synthetic CSV (``p_retained``, the true
    retention probability; ``p_noise_free``, the same without unobserved noise; ``daily_hazard``, the
    true daily chance of a first return on days 7..28), read once.

    An entry is None when the file, the column or a user's row is absent.
    """
    truth = truth_path(path)
    if not truth.is_file():
        return [None] * len(columns)
    table = pd.read_csv(truth, dtype={"user_id": str}, encoding="utf-8-sig").set_index("user_id")
    rows = table.reindex(list(user_ids))
    out = []
    for column in columns:
        p = rows[column].to_numpy(dtype=float) if column in table.columns else None
        out.append(None if p is None or np.isnan(p).any() else p)
    return out


def ensure_synthetic(users: int, seed: int, positive_rate: float = 0.1, cache_dir: str | Path | None = None) -> Path:
    """A cached synthetic posts CSV, generated on first use.

    Args:
        users, seed, positive_rate: as for :func:`generate`.
        cache_dir: the folder; default ``$TOOLKIT_CACHE_DIR/synthetic`` or
            ``~/.cache/toolkit/synthetic``.

    Returns:
        The posts CSV's path (its truth file and their signature, ``<name>.csv.sig``, are beside it).
    """
    from toolkit.data.synth.cache import sign_pair, trusted

    _validate(users, seed, positive_rate)
    if cache_dir is None:
        cache_dir = cache_root() / "synthetic"
    path = Path(cache_dir) / f"synthetic-v{GENERATOR_VERSION}-u{users}-s{seed}-r{positive_rate:g}.csv"
    if not trusted(path, truth_path(path)):  # missing, unsigned or altered: the generator's files again
        write_synthetic(path, users, seed, positive_rate)
        sign_pair(path, truth_path(path))
    return path


# The names ensure_synthetic gives its files (signature included), and the temporary files
# _write_atomic leaves if killed.
_CACHED_FILE = re.compile(
    r"(\.)?synthetic-v\d+-u\d+-s\d+-r[0-9.e+-]+(?:\.truth\.csv|\.csv(?:\.sig)?)(?(1)\.[A-Za-z0-9_]+\.tmp|)")


def clear_synthetic(folder: str | Path) -> Removal:
    """Delete the generated data files in ``folder`` (by their exact names); report anything else left."""
    removal = remove_matching_files(Path(folder), _CACHED_FILE)
    remove_dir_if_empty(Path(folder))
    return removal
