"""Head plugins. ``from toolkit.heads import Head`` is the public base class.

Importing this package registers the built-in heads; Keras is imported only when
a Keras head is built or loaded.
"""

from toolkit.features.blocks import Block
from toolkit.heads.base import Head

from toolkit.heads import cox, gbdt, hazard, hybrid, logreg, lstm, mlp, stack, tuned  # noqa: E402,F401  (registration)

__all__ = ["Block", "Head"]
