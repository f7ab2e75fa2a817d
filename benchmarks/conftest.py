"""Shared inputs for the benchmark suites.

The suites reuse the test helpers (``tests/factories.py``, ``tests/tiny_distilbert.py``),
so ``tests/`` goes on ``sys.path`` here, as ``tests/conftest.py`` does for the tests.
Everything below is built once per session and outside any timer.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import make_users  # noqa: E402
from tiny_distilbert import build_tiny_distilbert  # noqa: E402

from toolkit.text.tokenize import load_jieba, user_texts  # noqa: E402

#: users in the shared table: the size of a small study, large enough that per-call overhead is not all we see
N_USERS = 3000


@pytest.fixture(scope="session")
def users():
    """A 3,000-user table with every column of ``USER_COLUMNS`` (about 1 in 8 without text)."""
    return make_users(n=N_USERS, seed=0)


@pytest.fixture(scope="session")
def texts(users):
    """The users' texts as a list of str, and jieba's dictionary loaded, so no timer pays for it."""
    load_jieba()
    return user_texts(users)


@pytest.fixture(scope="session")
def tiny_distilbert(tmp_path_factory):
    """A folder holding a tiny random DistilBERT (dim 32, 2 layers, 64 positions) and its tokenizer."""
    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny-distilbert"))
