"""The base every plugin (featurizer or head) shares: config, repr, validation, persistence.

A plugin's parameters are the keyword-only arguments of its ``__init__`` (see
:mod:`toolkit.params`); ``get_config()`` returns them as given, which is the
plugin's YAML block without ``type``. ``validate()`` checks what one parameter's
type cannot say alone (``ngram_range: [2, 1]``) and raises ToolkitError; the
spec calls it before any data is read.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, ClassVar

from toolkit.params import declared_params
from toolkit.safe_io import open_atomic

#: in :attr:`Plugin.test_params`, stands for a tiny pretrained model folder the tests build
TINY_MODEL = "<tiny-model>"


class Plugin:
    #: set by ``@register_featurizer`` / ``@register_head``
    registry_name: ClassVar[str] = ""
    #: small parameters under which the plugin contract tests (tests/test_contract.py) run this
    #: plugin in about a second; :data:`TINY_MODEL` stands for a tiny pretrained model folder
    test_params: ClassVar[dict[str, Any]] = {}

    def get_config(self) -> dict[str, Any]:
        """The constructor parameters, as given: the plugin's YAML block without ``type``."""
        return {name: getattr(self, name) for name in declared_params(type(self))}

    def validate(self, where: str) -> None:
        """Raise ToolkitError when parameters cannot work together. Called when the spec is validated."""

    # Persistence: pickle by default; a plugin holding an unpicklable object
    # (a fastText model) overrides __getstate__/__setstate__.
    def save(self, path: str | Path) -> Path:
        """Write the (fitted) plugin to the file ``path``; returns it."""
        with open_atomic(path) as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Read a plugin written by :meth:`save`."""
        with open(path, "rb") as fh:
            return pickle.load(fh)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
