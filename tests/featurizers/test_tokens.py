"""Tokenizing many texts: the same tokens as one by one, each text once per run, in parallel when asked."""

import pytest

from factories import make_users
from toolkit.featurizers import tokens as tokens_module
from toolkit.featurizers.tfidf import TfidfFeaturizer
from toolkit.featurizers.tokenize import tokenize, user_texts
from toolkit.featurizers.tokens import clear_memo, free_cores, tokenize_parallel, tokenize_texts


@pytest.fixture()
def counted(monkeypatch):
    """Count calls of the single-text tokenizer made by the serial path, from an empty memo."""
    clear_memo()
    calls = []

    def counting(text, *, stop_words=True):
        calls.append(text)
        return tokenize(text, stop_words=stop_words)

    monkeypatch.setattr(tokens_module, "tokenize", counting)
    yield calls
    clear_memo()


def test_tokens_match_the_single_text_tokenizer_and_progress_counts_every_text(counted):
    texts = user_texts(make_users(50, seed=1)) + ["", "同一句话 same words", "同一句话 same words"]
    done = []
    got = tokenize_texts(texts, progress=done.append)
    assert got == [tuple(tokenize(t)) for t in texts]
    assert sum(done) == len(texts)
    assert len(counted) == len(set(texts))  # a repeated text is tokenized once


def test_tfidf_tokenizes_each_text_once_across_fit_transform_folds_and_final_model(counted):
    users = make_users(60, seed=2)
    first, second = users.iloc[:40], users.iloc[20:]
    TfidfFeaturizer(min_df=1, max_features=100).fit_transform(first)
    assert len(counted) == len(set(user_texts(first)))
    feat = TfidfFeaturizer(min_df=1, max_features=100)
    feat.fit(second)
    feat.transform(second)
    TfidfFeaturizer(min_df=1, max_features=100).fit(users)
    assert len(counted) == len(set(user_texts(users)))


def test_parallel_tokens_are_identical_and_in_order():
    texts = user_texts(make_users(80, seed=4)) * 2
    done = []
    got = tokenize_parallel(texts, workers=2, progress=done.append)
    assert got == [tuple(tokenize(t)) for t in texts]
    assert sum(done) == len(texts)


def test_cores_follow_the_thread_cap(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert free_cores() == 1
