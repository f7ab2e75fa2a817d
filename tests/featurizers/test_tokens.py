"""Tokenizing many texts: the same tokens as one by one, each text once per run, in parallel when asked."""

import time
from concurrent.futures import Future

import pytest

from factories import make_users
from toolkit.text import tokens as tokens_module
from toolkit.featurizers.tfidf import TfidfFeaturizer
from toolkit.text.tokenize import tokenize, user_texts
from toolkit.text.tokens import clear_memo, free_cores, tokenize_parallel, tokenize_texts


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


def test_parallel_tokens_are_identical_and_in_order(monkeypatch):
    monkeypatch.setattr(tokens_module, "CHUNK_CHARS", 500)  # several chunks
    texts = user_texts(make_users(80, seed=4)) * 2
    done = []
    got = tokenize_parallel(texts, workers=2, progress=done.append)
    assert got == [tuple(tokenize(t)) for t in texts]
    assert sum(done) == len(texts)


EDGE_TEXTS = ["", "，。！？…", "2025 1000 3.14", " \t\n\u3000 ", "你好\u3000世界\nhello\tworld\r\ndon't",
              "#tiktok[话题]# https://x.cn/a 难民", "[笑哭R]", "ＡＢＣ１ iphone16 5g"]


def test_a_chunk_joined_into_one_string_splits_back_into_the_same_tokens():
    texts = EDGE_TEXTS + user_texts(make_users(30, seed=5))
    for stop_words in (True, False):
        expected = [tuple(tokenize(t, stop_words=stop_words)) for t in texts]
        assert () in expected  # texts that yield no tokens are part of the round trip
        assert tokens_module._split_tokens(tokens_module._chunk_worker(texts, stop_words)) == expected
    assert tokens_module._split_tokens(tokens_module._chunk_worker([""], True)) == [()]


def test_chunks_cover_every_text_once_in_order():
    texts = ["ab", "", "cdef", "g", "hijk", ""]
    assert tokens_module._chunk_bounds(texts, 3) == [(0, 3), (3, 5), (5, 6)]
    assert tokens_module._chunk_bounds(texts, 10**6) == [(0, 6)]
    assert tokens_module._chunk_bounds([], 3) == []


def test_this_process_and_a_worker_share_the_chunks_in_order(monkeypatch):
    """This process is slowed down, so the worker (which has the real tokenizer) takes chunks too."""
    texts = EDGE_TEXTS + user_texts(make_users(120, seed=6))
    here = []

    def slow(text, *, stop_words=True):
        here.append(text)
        time.sleep(0.02)
        return tokenize(text, stop_words=stop_words)

    monkeypatch.setattr(tokens_module, "tokenize", slow)
    monkeypatch.setattr(tokens_module, "CHUNK_CHARS", 1)  # one text per chunk
    done = []
    got = tokenize_parallel(texts, workers=2, progress=done.append)
    assert got == [tuple(tokenize(t)) for t in texts]
    assert 0 < len(here) < len(texts)  # both sides tokenized some
    assert here[0] == texts[-1]  # this process starts from the back
    assert sum(done) == len(texts)


def _future(state: str) -> Future:
    future = Future()
    if state in ("running", "done"):
        future.set_running_or_notify_cancel()
    if state == "done":
        future.set_result("")
    return future


def test_with_nothing_left_this_process_takes_back_or_redoes_the_last_handed_out_chunk():
    done_here = []
    unsent = {_future("running"): 3, _future("pending"): 4}
    tokens_module._reclaim_or_wait(unsent, done_here.append, worker_up=True)
    assert done_here == [4] and list(unsent.values()) == [3]  # not started by a worker: taken back
    started = {_future("running"): 5, _future("running"): 6}
    tokens_module._reclaim_or_wait(started, done_here.append, worker_up=True)
    assert done_here == [4, 6] and list(started.values()) == [5]  # a worker would reach it last: redone here
    booting = {_future("running"): 7}
    tokens_module._reclaim_or_wait(booting, done_here.append, worker_up=False)
    assert done_here == [4, 6, 7] and not booting  # the worker is still starting: done here
    last = {_future("done"): 8}
    tokens_module._reclaim_or_wait(last, done_here.append, worker_up=True)
    assert done_here == [4, 6, 7] and list(last.values()) == [8]  # the worker's nearly done: wait for it


@pytest.mark.parametrize("min_seconds, parallel", [(0.0, True), (1e9, False)])
def test_the_sampled_rate_decides_whether_to_go_parallel(monkeypatch, min_seconds, parallel):
    texts = [f"第{i}条 post {i}" for i in range(50)]
    calls = []

    def fake_parallel(rest, *, stop_words, workers, progress):
        calls.append((len(rest), workers))
        return tokens_module._chunk_serial(rest, stop_words, progress)

    monkeypatch.setattr(tokens_module, "tokenize_parallel", fake_parallel)
    monkeypatch.setattr(tokens_module, "free_cores", lambda: 2)
    monkeypatch.setattr(tokens_module, "SAMPLE_TEXTS", 10)
    monkeypatch.setattr(tokens_module, "PARALLEL_MIN_SECONDS", min_seconds)
    clear_memo()
    done = []
    assert tokenize_texts(texts, progress=done.append) == [tuple(tokenize(t)) for t in texts]
    assert calls == ([(40, 2)] if parallel else [])
    assert sum(done) == len(texts)
    clear_memo()


def test_cores_follow_the_thread_cap(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert free_cores() == 1
