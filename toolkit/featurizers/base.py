"""The featurizer contract.

A featurizer turns the per-user table (see README, "The users table") into one
feature block. It follows scikit-learn:

* ``__init__`` takes keyword-only parameters, stores them as given and does no
  work; the annotated parameters and their defaults are the plugin's declared
  parameters (``toolkit plugins`` lists them, the spec is checked against them).
* ``fit(users)`` learns state from the training users only; learned attributes
  end in an underscore.
* ``transform(users)`` returns a block: a 2-D NumPy array (``dense``), a SciPy
  sparse matrix (``sparse``) or a 3-D array ``(users, steps, channels)``
  (``sequence``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from toolkit.features.blocks import BlockKind, as_float32  # noqa: F401  (as_float32: for plugins)
from toolkit.plugin import Plugin


class Featurizer(Plugin):
    """Base class for featurizer plugins.

    Subclasses set ``kind`` (or override :meth:`output_kind` when it depends on
    a parameter), and implement :meth:`fit` and :meth:`transform`.
    """

    #: the kind of block ``transform`` returns
    kind: ClassVar[BlockKind] = "dense"
    #: True when ``fit`` learns nothing from the data (a frozen encoder): a user's row is then
    #: the same whichever users the featurizer was fitted on, so a run computes each row once
    #: and every fold slices them (see :func:`toolkit.features.rows.embed_rows`)
    stateless: ClassVar[bool] = False

    #: for a stateless featurizer: the attributes ``fit`` sets, when they are plain numbers (sizes,
    #: counts; never weights). They are kept beside the cached rows, so a run whose rows are all in
    #: the row cache restores them (:meth:`restore_fitted`) instead of loading the model
    fitted_attributes: ClassVar[tuple[str, ...]] = ()

    def fitted_facts(self) -> dict[str, Any]:
        """The :attr:`fitted_attributes` that are set, as JSON-ready numbers."""
        return {name: getattr(self, name) for name in self.fitted_attributes if hasattr(self, name)}

    def restore_fitted(self, facts: dict[str, Any] | None) -> bool:
        """Set the :attr:`fitted_attributes` from ``facts`` (what :meth:`fitted_facts` gave) without fitting.

        Returns False, changing nothing, when the featurizer declares none or ``facts`` lacks one
        of the required ones (``fit`` must then run). Attributes starting with ``_`` are optional.
        """
        required = [n for n in self.fitted_attributes if not n.startswith("_")]
        if not required or not facts or any(n not in facts for n in required):
            return False
        for name in self.fitted_attributes:
            if name in facts:
                setattr(self, name, facts[name])
        return True

    def output_kind(self) -> BlockKind:
        """The kind of block :meth:`transform` returns, known before fitting."""
        return self.kind

    def fit(self, users: pd.DataFrame) -> "Featurizer":
        return self

    def transform(self, users: pd.DataFrame) -> Any:
        raise NotImplementedError

    def fit_transform(self, users: pd.DataFrame) -> Any:
        return self.fit(users).transform(users)

    def flops_per_user(self) -> float:
        """A rough count of floating-point operations to featurize one user (after fit)."""
        return 0.0

    def frozen_params(self) -> int:
        """Parameters of a pretrained model the featurizer uses but does not train (after fit)."""
        return 0

    def weights_bytes(self) -> int:
        """Bytes of pretrained files (weights, tokenizer) a pipeline needs besides the saved model."""
        return 0

    def row_texts(self, users: pd.DataFrame) -> list[str] | None:
        """For a stateless featurizer whose row for a user depends on that user's text alone:
        each user's text, which keys the content-addressed row cache. None otherwise."""
        return None

    def row_identity(self) -> dict[str, Any]:
        """What a row depends on besides its text (with :meth:`row_texts`): by default the
        parameters; a pretrained featurizer adds its weights' content hash."""
        return self.get_config()

    def warm_up(self) -> None:
        """Load whatever is expensive to load (a pretrained model) before timing starts."""

    def check_available(self) -> None:
        """Raise ToolkitError when something this featurizer needs (weights, a file) is missing.

        Called by ``validate`` and before a run does any work.
        """
