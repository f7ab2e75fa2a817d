"""The ``tfidf`` featurizer: TF-IDF over jieba/English word n-grams."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import ToolkitError
from toolkit.features.blocks import BlockKind, as_float32
from toolkit.featurizers.base import Featurizer
from toolkit.text.tokenize import load_jieba, user_texts
from toolkit.text.tokens import tokenize_texts
from toolkit.params import Interval
from toolkit.registry import register_featurizer


def _pre_tokenized(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The vectorizer's tokenizer: documents arrive already tokenized (a module function, so it pickles)."""
    return tokens


@register_featurizer("tfidf")
class TfidfFeaturizer(Featurizer):
    """TF-IDF over the tokens of :func:`toolkit.text.tokenize.tokenize`.

    Each user's text is tokenized once (jieba for Chinese, a regex for the rest)
    and scikit-learn's ``TfidfVectorizer`` builds n-grams over those tokens. The
    vocabulary and document frequencies come from the training users only.

    When the settings leave no vocabulary (``min_df`` larger than the number of
    training users, or training texts that are empty or all stop words) ``fit``
    raises ToolkitError rather than quietly relaxing ``min_df``: a changed
    setting would make the run differ from its spec.

    Example spec block:
        - {type: tfidf, max_features: 20000, ngram_range: [1, 2]}

    Args:
        max_features: Keep the most frequent n-grams, at most this many; ``None`` keeps all.
        ngram_range: Smallest and largest n-gram length, in tokens.
        min_df: Drop n-grams found in fewer training users than this (an int)
            or than this share of them (a float in [0, 1]).
        max_df: Drop n-grams found in more than this share of training users.
        sublinear_tf: Use ``1 + log(tf)`` instead of raw term counts.
        stop_words: Remove English and Chinese stop words before making n-grams.
        svd_components: Reduce to this many dimensions with ``TruncatedSVD``
            (latent semantic analysis); the block becomes dense. ``None`` keeps
            the sparse matrix.
    """

    test_params = {"max_features": 200, "min_df": 1}

    kind = "sparse"
    param_constraints = {
        "max_features": Interval(1, None),
        "min_df": Interval(0, None),
        "max_df": Interval(0, 1, closed_low=False),
        "svd_components": Interval(1, None),
    }

    def __init__(
        self,
        *,
        max_features: int | None = 20000,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 2,
        max_df: float = 1.0,
        sublinear_tf: bool = True,
        stop_words: bool = True,
        svd_components: int | None = None,
    ):
        self.max_features = max_features
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.stop_words = stop_words
        self.svd_components = svd_components

    def warm_up(self) -> None:
        """Load jieba's dictionary before timing starts."""
        load_jieba()

    def output_kind(self) -> BlockKind:
        return "sparse" if self.svd_components is None else "dense"

    def _tokens(self, users: pd.DataFrame) -> list[tuple[str, ...]]:
        # Memoized per run: the folds, fit and transform, and the final model tokenize each text once.
        return tokenize_texts(user_texts(users), stop_words=self.stop_words)

    def validate(self, where: str) -> None:
        """Rules between parameters, checked with the spec before any data is read."""
        low, high = (int(v) for v in self.ngram_range)
        if not 1 <= low <= high:
            raise ToolkitError(
                f"{where}: the 'ngram_range' parameter of TfidfFeaturizer must be [low, high] with "
                f"1 <= low <= high. Got {list(self.ngram_range)!r} instead."
            )
        if isinstance(self.min_df, float) and self.min_df > 1:
            raise ToolkitError(
                f"{where}: the 'min_df' parameter of TfidfFeaturizer must be an int (a number of users) or a float "
                f"in the range [0, 1] (a share of users). Got {self.min_df!r} instead."
            )

    def _check(self, n_users: int) -> tuple[int, int]:
        self.validate("tfidf")
        low, high = (int(v) for v in self.ngram_range)
        if n_users == 0:
            raise ToolkitError("TfidfFeaturizer needs at least one training user to learn a vocabulary. Got 0.")
        if isinstance(self.min_df, int) and self.min_df > n_users:
            raise ToolkitError(
                f"The 'min_df' parameter of TfidfFeaturizer keeps words used by at least {self.min_df} training "
                f"users, but there are only {n_users}. Lower min_df (or give a share such as 0.01)."
            )
        return low, high

    def _fit(self, users: pd.DataFrame) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = self._tokens(users)
        low, high = self._check(len(docs))
        self.vectorizer_ = TfidfVectorizer(
            tokenizer=_pre_tokenized,
            token_pattern=None,
            lowercase=False,
            ngram_range=(low, high),
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
            dtype=np.float32,
        )
        try:
            matrix = self.vectorizer_.fit_transform(docs)
        except ValueError as exc:  # "empty vocabulary", "After pruning, no terms remain", max_df < min_df
            hint = (
                "max_df allows fewer users than min_df requires"
                if "max_df" in str(exc)
                else "the training texts may be empty or all stop words"
            )
            raise ToolkitError(
                f"TfidfFeaturizer learned no vocabulary from {len(docs)} training users with min_df={self.min_df!r}, "
                f"max_df={self.max_df!r}, stop_words={self.stop_words!r}: {hint}; lower min_df or raise max_df. "
                f"(scikit-learn: {exc})"
            ) from exc
        self.vocabulary_size_ = len(self.vectorizer_.vocabulary_)
        self.mean_tokens_ = float(np.mean([len(d) for d in docs]))
        self.svd_ = None
        if self.svd_components is not None:
            matrix = self._fit_svd(matrix, len(docs))
        return matrix

    def _fit_svd(self, matrix: Any, n_users: int) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD

        k = self.svd_components
        if k >= self.vocabulary_size_ or k > n_users:
            raise ToolkitError(
                f"The 'svd_components' parameter of TfidfFeaturizer must be below the vocabulary size "
                f"({self.vocabulary_size_}) and at most the number of training users ({n_users}). Got {k}."
            )
        # A fixed random_state: the spec has no seed for this step and runs must repeat exactly.
        self.svd_ = TruncatedSVD(n_components=k, random_state=0)
        return self.svd_.fit_transform(matrix)

    def fit(self, users: pd.DataFrame) -> "TfidfFeaturizer":
        self._fit(users)
        return self

    def fit_transform(self, users: pd.DataFrame) -> Any:
        return as_float32(self._fit(users))

    def transform(self, users: pd.DataFrame) -> Any:
        matrix = self.vectorizer_.transform(self._tokens(users))
        if self.svd_ is not None:
            return as_float32(self.svd_.transform(matrix))
        return as_float32(matrix.tocsr())

    def flops_per_user(self) -> float:
        if not hasattr(self, "vectorizer_"):
            return 0.0
        low, high = (int(v) for v in self.ngram_range)
        flops = self.mean_tokens_ * (high - low + 1)
        if self.svd_components is not None:
            flops += 2.0 * self.vocabulary_size_ * self.svd_components
        return float(flops)
