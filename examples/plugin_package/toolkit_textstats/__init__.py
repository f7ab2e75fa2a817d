"""An example featurizer living in its own package.

It joins the toolkit through the ``toolkit.featurizers`` entry-point group in
``pyproject.toml``; the toolkit itself is not edited.
"""

import re

import numpy as np

from toolkit.featurizers import Featurizer
from toolkit.params import Interval

_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_FEATURES = ("chars", "hashtags", "emoji", "questions", "exclamations", "lines")


class TextStatsFeaturizer(Featurizer):
    """Counts in each user's text: characters, hashtags, emoji, '?', '!', lines (log1p-scaled).

    Example spec block:
        - {type: textstats, max_count: 1000}

    Args:
        max_count: counts are clipped here before scaling.
    """

    kind = "dense"
    param_constraints = {"max_count": Interval(1, None)}

    def __init__(self, *, max_count: int = 1000):
        self.max_count = max_count

    def fit(self, users):
        return self

    def transform(self, users):
        rows = []
        for text in users["text"]:
            rows.append([len(text), text.count("#"), len(_EMOJI.findall(text)), text.count("?"),
                         text.count("!"), text.count("\n") + 1])
        counts = np.clip(np.asarray(rows, dtype=np.float32), 0, self.max_count)
        return np.log1p(counts)

    def flops_per_user(self):
        return float(len(_FEATURES))
