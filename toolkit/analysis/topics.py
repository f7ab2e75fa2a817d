"""NMF topics over the TF-IDF of users' text (jieba for Chinese, words for the rest).

Each user's text (their observation-window posts, as in the users table) is one
document. scikit-learn's ``NMF`` with ``init="nndsvda"`` and a fixed
``random_state`` factorizes the TF-IDF matrix, so the same data and seed give
the same topics. A user belongs to the topic with the largest weight; a user
with no weight on any topic (no text, or only words outside the vocabulary) is
counted apart.

The number of topics, when not given: ``clip(round(sqrt(users / 50)), 3, 12)``,
a few topics for a few hundred users, at most 12 so every topic keeps enough
users for a retention rate with a usable interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from toolkit.analysis.terms import is_chinese


def default_topics(n_users: int) -> int:
    return int(min(12, max(3, round(math.sqrt(n_users / 20)))))


def nmf_topics(texts: list[str], *, n_topics: int | None = None, seed: int = 0, top: int = 8,
               min_df: int = 2) -> dict:
    """Fit NMF topics; returns ``{n_topics, rule, topics: [{id, english, chinese}], assignment: array}``.

    ``assignment`` holds each document's topic id, or -1 for no topic.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    from toolkit.text.tokenize import tokenize

    k = n_topics or default_topics(len(texts))
    docs = [tokenize(t) for t in texts]
    vectorizer = TfidfVectorizer(analyzer=lambda tokens: tokens, min_df=min(min_df, max(1, len(docs) // 2)),
                                 max_df=0.95 if len(docs) > 20 else 1.0, sublinear_tf=True)
    x = vectorizer.fit_transform(docs)
    k = max(1, min(k, x.shape[1], x.shape[0]))
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=500)
    weights = model.fit_transform(x)
    vocab = vectorizer.get_feature_names_out()
    topics = []
    for i, row in enumerate(model.components_):
        order = [j for j in np.argsort(-row, kind="stable") if row[j] > 0]
        topics.append({"id": i,
                       "english": [str(vocab[j]) for j in order if not is_chinese(vocab[j])][:top],
                       "chinese": [str(vocab[j]) for j in order if is_chinese(vocab[j])][:top]})
    assignment = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1)
    rule = "given" if n_topics else f"default clip(round(sqrt({len(texts)} users / 20)), 3, 12) = {k}"
    return {"n_topics": k, "rule": rule, "topics": topics, "assignment": assignment}


def topic_retention(assignment: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Users, retained and the retention rate with a Wilson interval, per topic (-1 = no topic)."""
    from toolkit.analysis.eda.stats import rate_table

    return rate_table(pd.Series(assignment, name="topic"), y)
