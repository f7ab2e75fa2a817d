"""Featurizer plugins. ``from toolkit.featurizers import Featurizer`` is the public base class.

Importing this package registers the built-in featurizers; each lives in its own
module named after its registry key and imports its heavy dependencies lazily.
"""

from toolkit.featurizers.base import Featurizer

from toolkit.featurizers import behavior, distilbert, e5, fasttext, temporal, tfidf, use  # noqa: E402,F401  (registration)

__all__ = ["Featurizer"]
