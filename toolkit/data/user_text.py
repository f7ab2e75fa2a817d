"""Per-user text columns of the users table: the joined text, its Chinese share, length and hashtags.

Built one user at a time on purpose. The column-wise way (concatenate title and
content for every post, join per user, strip topic tags from every joined text,
split every post's hashtags) holds several copies of all the text at once, which
at a million users was several GB; here only one user's strings are alive
beyond the result. The values are the same as the column-wise expressions they
replace (``str.strip``, ``"\\n".join`` in post order, the same patterns).

A user's text is capped at :data:`MAX_USER_TEXT_CHARS` characters (their first posts, in file
order). A week of a real account is a few thousand characters; a file giving one user a
million posts would otherwise make one string of hundreds of megabytes and a tokenizer pass
over it (``predict`` on 433 MB of one user's posts peaked at 3.6 GB). ``text_chars`` still
measures the whole text; ``zh_share`` and the text featurizers see the capped text.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Runs rather than single characters: the counts are the same, with far fewer matches to make.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_RUN = re.compile(r"[A-Za-z]+")
# Platform hashtags read "#tiktok[话题]#": their Chinese marker says nothing about the writer.
_TOPIC_TAG = re.compile(r"#[^#\n]*?\[话题\]#?")
#: characters of one user's joined text kept for featurizing (see the module docstring)
MAX_USER_TEXT_CHARS = 100_000


def text_columns(window: pd.DataFrame, key: np.ndarray, n_users: int) -> pd.DataFrame:
    """``text``, ``zh_share``, ``text_chars`` and ``n_hashtags`` per user, by position.

    Args:
        window: the observation-window posts (``title``, ``content``, ``hashtags``), in file order.
        key: each post's user as a position in ``0 .. n_users - 1``.
        n_users: users in the table; a user without posts gets ``""`` and zeros.

    Returns:
        A frame indexed ``0 .. n_users - 1``. ``text`` joins the user's posts (title, a newline,
        content; stripped) with newlines in file order; ``zh_share`` is Chinese characters over
        Chinese plus Latin letters once topic tags are removed (0 when there are none);
        ``text_chars`` is log1p of the text's length; ``n_hashtags`` counts non-blank ``#`` parts.
    """
    order = np.argsort(key, kind="stable")  # stable: each user's posts stay in file order
    bounds = np.searchsorted(key[order], np.arange(n_users + 1))
    titles = window["title"].to_numpy(dtype=object)[order]
    contents = window["content"].to_numpy(dtype=object)[order]
    texts: list[str] = []
    lengths = np.zeros(n_users)
    zh_share = np.zeros(n_users)
    for user in range(n_users):
        a, b = bounds[user], bounds[user + 1]
        text, lengths[user] = _joined(titles[a:b], contents[a:b])
        texts.append(text)
        prose = _TOPIC_TAG.sub(" ", text)
        n_cjk = sum(map(len, _CJK_RUN.findall(prose)))
        n_latin = sum(map(len, _LATIN_RUN.findall(prose)))
        if n_cjk + n_latin:
            zh_share[user] = n_cjk / (n_cjk + n_latin)
    tags = np.fromiter((_hashtag_count(h) for h in window["hashtags"].to_numpy(dtype=object)),
                       dtype=np.int64, count=len(window))
    return pd.DataFrame({"text": pd.Series(texts, dtype="str"), "zh_share": zh_share,
                         "text_chars": np.where(bounds[1:] > bounds[:-1], np.log1p(lengths), 0.0),
                         "n_hashtags": np.bincount(key, weights=tags, minlength=n_users).astype(np.int64)})


def _joined(titles, contents) -> tuple[str, int]:
    """The user's posts joined (at most MAX_USER_TEXT_CHARS characters) and the full text's length."""
    pieces = [(_str(t) + "\n" + _str(c)).strip() for t, c in zip(titles, contents)]
    full = sum(map(len, pieces)) + max(len(pieces) - 1, 0)  # the newlines "\n".join puts between posts
    if full <= MAX_USER_TEXT_CHARS:
        return "\n".join(pieces), full
    kept, n = 0, 0
    while kept < MAX_USER_TEXT_CHARS:  # the first posts that reach the cap, then cut
        kept += len(pieces[n]) + 1
        n += 1
    return "\n".join(pieces[:n])[:MAX_USER_TEXT_CHARS], full


def _str(value) -> str:
    """A text cell as a string: missing (None, NaN) is empty."""
    return value if isinstance(value, str) else "" if value is None or value != value else str(value)


def _hashtag_count(cell) -> int:
    return sum(1 for part in _str(cell).split("#") if part.strip())
