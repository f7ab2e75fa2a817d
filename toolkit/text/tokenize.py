"""Word tokens for Xiaohongshu posts: jieba for Chinese runs, a regex for the rest.

Shared by the ``tfidf`` and ``fasttext`` featurizers. Decisions, in order:

* The text is NFKC-normalized (full-width ``ＡＢＣ１`` becomes ``ABC1``) and lowercased.
* Xiaohongshu markup goes: ``[话题]`` topic markers and sticker codes such as
  ``[笑哭R]``; URLs (``http://``, ``https://``, ``www.``) go too.
* A hashtag counts as its word: ``#tiktok[话题]#`` gives ``tiktok``, since ``#``
  is punctuation and punctuation is dropped.
* Runs of Chinese characters are segmented by jieba (default dictionary, HMM on:
  deterministic for a given jieba version).
* Any other run of letters and digits is one token, apostrophes inside a word
  kept (``don't``); emoji and punctuation are dropped.
* Pure numbers are dropped (``2025``, ``1000``): dates, prices and counts would
  swell the vocabulary with one-off tokens, and the ``behavior`` featurizer
  already carries the numbers that matter. A token mixing letters and digits
  (``iphone16``, ``5g``) is kept whole.
* Stop words (a built-in English list and a list of Chinese function words) are
  removed unless ``stop_words=False``.
"""

from __future__ import annotations

import functools
import math
import os
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from toolkit.errors import ToolkitError

if TYPE_CHECKING:
    import pandas as pd

# CJK Unified Ideographs, Extension A, and compatibility ideographs.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Topic markers and sticker codes ([笑哭R], lowercased by then); "[editor]" is left alone.
_MARKUP_RE = re.compile(r"\[话题\]|\[[\u4e00-\u9fff]{1,8}r\]")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
# A Chinese run, or a run of other letters/digits with apostrophes inside.
_TOKEN_RE = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+(?:'[^\W_{_CJK}]+)*)")

ENGLISH_STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each either else ever few for from further get got had hadn't
    has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his
    how how's however i i'd i'll i'm i've if in into is isn't it it's its itself just let's me
    more most much must mustn't my myself neither no nor not now of off on once only or other
    ought our ours ourselves out over own per quite rather same shan't she she'd she'll she's
    should shouldn't since so some such than that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've this those though through thus to too
    under until up upon us very was wasn't we we'd we'll we're we've were weren't what what's
    when when's where where's whether which while who who's whom whose why why's will with within
    without won't would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
    im ive dont doesnt didnt cant wont isnt
    """.split()
)

CHINESE_STOP_WORDS = frozenset(
    """
    的 地 得 了 着 过 是 我 你 您 他 她 它 我们 你们 他们 她们 它们 咱们 大家 在 和 与 及 跟 同 也 都 就
    还 又 再 才 只 而 但 但是 可是 不过 却 并 并且 或 或者 因为 所以 如果 虽然 然后 而且 那么 于是 这 那
    这个 那个 这些 那些 这样 那样 这里 那里 这么 有 没 没有 不 很 太 更 最 非常 吧 吗 呢 啊 呀 哦
    噢 嗯 哈 哈哈 哈哈哈 啦 嘛 哇 呗 么 吖 哟 之 其 于 以 为 被 把 给 让 对 从 向 往 到 一个 一些 一下
    自己 什么 怎么 为什么 个 些 上 下 里 中 就是 还是 已经 可以 会 能 要 想 说 等 等等
    """.split()
)


@functools.lru_cache(maxsize=None)
def _jieba():
    """One initialized jieba tokenizer per process; loading its dictionary takes 0.2-0.6 s."""
    import logging

    import jieba

    # jieba logs "Building prefix dict ..." at DEBUG on stderr; keep it quiet.
    jieba.setLogLevel(logging.WARNING)
    segmenter = jieba.Tokenizer()  # private instance: user dictionaries added elsewhere do not leak in
    if not read_jieba_cache(segmenter, jieba_cache_path()):
        segmenter.initialize()  # builds the dictionary and writes jieba's cache for next time
    return segmenter


def jieba_cache_path() -> str:
    """Where jieba 0.42 keeps its default dictionary's cache: ``jieba.cache`` in the temp folder."""
    import tempfile

    return os.path.join(tempfile.gettempdir(), "jieba.cache")


def read_jieba_cache(segmenter, path: str) -> bool:
    """Fill a fresh default-dictionary ``jieba.Tokenizer`` from jieba's own cache file, read in one go.

    jieba's ``initialize`` reads the same file with ``marshal.load`` on the open file, which
    reads it piece by piece: 0.6 s, against 0.2 s for ``marshal.loads`` of its bytes. That
    second matters most to a tokenizing worker process, which loads the dictionary before
    its first chunk. Same file, same rule as jieba (the default dictionary's cache is used
    whenever it is there); anything unexpected returns False and jieba loads it itself.
    """
    import marshal

    import jieba

    if segmenter.initialized or segmenter.dictionary != jieba.DEFAULT_DICT or segmenter.cache_file:
        return False
    try:
        with open(path, "rb") as file:
            freq, total = marshal.loads(file.read())
    except Exception:  # missing, unreadable or not jieba's format: jieba decides
        return False
    if not isinstance(freq, dict) or not isinstance(total, int) or not freq:
        return False
    segmenter.FREQ, segmenter.total, segmenter.initialized = freq, total, True
    return True


def load_jieba() -> None:
    """Load jieba's dictionary now (0.2-0.6 s), so a featurizer's timed work does not include it."""
    _jieba()


@functools.lru_cache(maxsize=200_000)
def _segment(chinese: str) -> tuple[str, ...]:
    """jieba's words for one run of Chinese characters. Cached: hashtags, stock phrases and
    laughter repeat across posts, and jieba (roughly 200k characters a second on one core)
    dominates the cost."""
    return tuple(_jieba().lcut(chinese))


def tokenize(text: str, *, stop_words: bool = True) -> list[str]:
    """Split one text into lowercase word tokens (see the module docstring for the rules).

    Args:
        text: Posts in English, Chinese or both; ``None``/NaN count as empty.
        stop_words: Remove English and Chinese stop words.

    Returns:
        The tokens in text order.
    """
    if not isinstance(text, str) or not text:
        return []
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    text = _URL_RE.sub(" ", _MARKUP_RE.sub(" ", text))
    tokens: list[str] = []
    for chinese, other in _TOKEN_RE.findall(text):
        if chinese:
            words = _segment(chinese)
            tokens.extend(w for w in words if not stop_words or w not in CHINESE_STOP_WORDS)
        elif any(ch.isalpha() for ch in other):
            if not stop_words or other not in ENGLISH_STOP_WORDS:
                tokens.append(other)
    return tokens


def user_texts(users: pd.DataFrame) -> list[str]:
    """The ``text`` column as a list of str, missing values as ``""``."""
    if "text" not in users.columns:
        raise ToolkitError(
            f"The users table must have a 'text' column. Found columns: {', '.join(map(str, users.columns))}."
        )
    return [t if isinstance(t, str) else "" if _is_missing(t) else str(t) for t in users["text"]]


def _is_missing(value: Any) -> bool:
    # pandas' NA by type name: this module does not import pandas (see toolkit.text).
    return value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NAType"
