"""Words most associated with retention and with churn, from a linear model's coefficients.

The model is an L2 logistic regression (scikit-learn, ``class_weight=balanced``
so rare positives are not drowned) on TF-IDF unigrams of the users' text, fitted
on the training part only. Positive coefficients point to retention, negative to
churn. TF-IDF columns share one scale (each row has unit norm), so coefficients
of different words are comparable; they are associations, not causes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from toolkit.sanitize import for_markdown_cell as cell

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_chinese(term: str) -> bool:
    return bool(_CJK.search(term))


def linear_terms(train_users: pd.DataFrame, y: np.ndarray, *, top: int = 15, seed: int = 0,
                 min_df: int = 2) -> dict:
    """Top terms per direction and language: ``{retention|churn: {english|chinese: [{term, coef, users}]}}``."""
    from sklearn.linear_model import LogisticRegression

    from toolkit.featurizers.tfidf import TfidfFeaturizer

    featurizer = TfidfFeaturizer(max_features=5000, ngram_range=(1, 1), min_df=min_df)
    x = featurizer.fit_transform(train_users)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=seed).fit(x, y)
    out: dict = {"model": "L2 logistic regression (C=1, balanced classes) on TF-IDF unigrams, min_df="
                 f"{min_df}, fitted on the training part"}
    return {**out, **_pick(featurizer.vectorizer_.get_feature_names_out(), model.coef_[0], x, top)}


def cox_terms(train_users: pd.DataFrame, targets: np.ndarray, *, top: int = 15, min_df: int = 2) -> dict:
    """The time-to-return counterpart of :func:`linear_terms`: a penalised Cox model on the same unigrams.

    ``targets`` are the training users' packed time-to-return targets. A positive coefficient
    raises the hazard of returning (a sooner return: retention), a negative one lowers it.
    """
    from toolkit.features.blocks import Block
    from toolkit.featurizers.tfidf import TfidfFeaturizer
    from toolkit.heads.cox import CoxHead

    featurizer = TfidfFeaturizer(max_features=5000, ngram_range=(1, 1), min_df=min_df)
    x = featurizer.fit_transform(train_users)
    model = CoxHead(penalizer=0.01).fit([Block("tfidf", "sparse", x)], targets)
    out: dict = {"model": "penalised Cox model (L2 penalizer 0.01) on TF-IDF unigrams, min_df="
                 f"{min_df}, fitted on the training part; returning sooner counts as retention"}
    return {**out, **_pick(featurizer.vectorizer_.get_feature_names_out(), model.coef_, x, top)}


def _pick(vocab, coef: np.ndarray, x, top: int) -> dict:
    """The ``top`` terms per direction (positive coefficients: retention) and language."""
    users = np.asarray((x > 0).sum(axis=0)).ravel()
    out: dict = {"retention": {}, "churn": {}}
    for direction, order in (("retention", np.argsort(-coef)), ("churn", np.argsort(coef))):
        for language, wanted in (("english", False), ("chinese", True)):
            picked = [i for i in order if is_chinese(vocab[i]) == wanted
                      and (coef[i] > 0 if direction == "retention" else coef[i] < 0)][:top]
            out[direction][language] = [{"term": str(vocab[i]), "coef": float(coef[i]), "users": int(users[i])}
                                        for i in picked]
    return out


def terms_lines(terms: dict) -> list[str]:
    """Markdown lines: the terms most associated with each outcome, per language, each word kept in its cell."""
    lines = [f"Model: {terms['model']}. Positive coefficients go with retention, negative with churn.", ""]
    for direction in ("retention", "churn"):
        for language in ("english", "chinese"):
            items = terms[direction][language]
            text = ", ".join(f"{cell(t['term'])} ({t['coef']:+.2f}, {t['users']} users)" for t in items) or "none"
            lines.append(f"- **{direction}, {language}:** {text}")
    return lines
