"""The ``fasttext`` featurizer: mean fastText word vectors, trained on the training users or pre-trained."""

from __future__ import annotations

import os
import tempfile
import zlib
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit.errors import ToolkitError
from toolkit.featurizers.fasttext_file import check_fasttext_bin
from toolkit.featurizers.base import Featurizer
from toolkit.text.tokenize import load_jieba, user_texts
from toolkit.text.tokens import tokenize_texts
from toolkit.params import Interval
from toolkit.registry import register_featurizer
from toolkit.safe_io import open_regular


@register_featurizer("fasttext")
class FastTextFeaturizer(Featurizer):
    """fastText sentence vectors of each user's tokenized text.

    Without ``path``, ``fit`` trains unsupervised word vectors (with subword
    n-grams) on the training users' text only, tokenized by
    :func:`toolkit.text.tokenize.tokenize`, one user per line. Training
    runs on one thread, so a seed gives the same vectors every run. fastText
    itself treats seeds 0 and 1 alike, so ``seed + 1`` is what it receives and
    every seed gives its own model. Unless the block sets ``seed``, the spec's
    ``seed`` is used. A user's vector is the
    mean of the unit-length word vectors of their tokens; a user without tokens
    gets zeros.

    With ``path``, the pre-trained ``.bin`` model is used as is; the other
    training parameters are ignored and the output has the model's dimension.
    A saved featurizer then records only the path and reloads from it, since
    pre-trained models run to gigabytes; a trained model is saved inside.

    Example spec block:
        - {type: fasttext, dim: 50, epoch: 5, model: skipgram, minn: 2, maxn: 4}

    Args:
        dim: Size of the word vectors.
        epoch: Passes over the training text.
        min_count: Ignore words seen fewer times than this in training.
        model: ``skipgram`` or ``cbow``.
        word_ngrams: Longest word n-gram used in training.
        minn: Shortest character n-gram (subword); with ``maxn: 0`` no subwords.
        maxn: Longest character n-gram.
        lr: Initial learning rate of fastText's SGD.
        bucket: Rows of the hashed subword table. Kept at fastText's own default: with
            smaller tables fastText 0.9's single-thread training was seen to give
            different vectors from run to run (and to abort with "Encountered NaN").
            Saved models are compressed, since most rows stay zero.
        path: A pre-trained fastText ``.bin`` file; ``fit`` then trains nothing.
        seed: Seed of fastText's random generator (default: the spec's ``seed``).
    """

    test_params = {"dim": 8, "epoch": 5}

    kind = "dense"
    param_constraints = {
        "dim": Interval(1, None),
        "epoch": Interval(1, None),
        "min_count": Interval(1, None),
        "word_ngrams": Interval(1, None),
        "minn": Interval(0, None),
        "maxn": Interval(0, None),
        "bucket": Interval(1, None),
        "lr": Interval(0, None, closed_low=False),
    }

    def __init__(
        self,
        *,
        dim: int = 50,
        epoch: int = 5,
        min_count: int = 1,
        model: Literal["skipgram", "cbow"] = "skipgram",
        word_ngrams: int = 1,
        minn: int = 2,
        maxn: int = 4,
        lr: float = 0.05,
        bucket: int = 2_000_000,
        path: str | None = None,
        seed: int = 0,
    ):
        self.dim = dim
        self.epoch = epoch
        self.min_count = min_count
        self.model = model
        self.word_ngrams = word_ngrams
        self.minn = minn
        self.maxn = maxn
        self.lr = lr
        self.bucket = bucket
        self.path = path
        self.seed = seed

    def check_available(self) -> None:
        """A pre-trained ``path`` must exist and be a complete fastText .bin (checked without loading it)."""
        if self.path is not None and not os.path.isfile(self.path):
            _load_bin(self.path)  # raises the ToolkitError that names the path
        if self.path is not None:
            check_fasttext_bin(self.path)

    def warm_up(self) -> None:
        """Load jieba's dictionary and any pre-trained model before timing starts."""
        load_jieba()
        if self.path is not None and getattr(self, "_pretrained", None) is None:
            self._pretrained = _load_bin(self.path)

    def fit(self, users: pd.DataFrame) -> "FastTextFeaturizer":
        docs = tokenize_texts(user_texts(users))
        if self.path is not None:
            self.warm_up()
            self.model_ = self._pretrained
        else:
            self.model_ = self._train(docs)
        self.dim_ = int(self.model_.get_dimension())
        self.mean_tokens_ = float(np.mean([len(d) for d in docs])) if docs else 0.0
        sample = sorted({w for d in docs for w in d})[:2000]
        self.mean_subwords_ = float(np.mean([len(self.model_.get_subwords(w)[0]) for w in sample])) if sample else 1.0
        return self

    def _train(self, docs: list[list[str]]) -> Any:
        if self.model not in ("skipgram", "cbow"):
            raise ToolkitError(
                f"The 'model' parameter of FastTextFeaturizer must be one of 'skipgram', 'cbow'. Got {self.model!r} instead."
            )
        lines = [" ".join(d) for d in docs if d]
        if not lines:
            raise ToolkitError(
                f"FastTextFeaturizer found no words in the text of the {len(docs)} training users; "
                "there is nothing to train word vectors on."
            )
        with tempfile.TemporaryDirectory(prefix="toolkit-fasttext-") as folder:
            corpus = os.path.join(folder, "train.txt")
            with open(corpus, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            options = dict(
                input=corpus,
                model=self.model,
                dim=self.dim,
                epoch=self.epoch,
                minCount=self.min_count,
                wordNgrams=self.word_ngrams,
                minn=self.minn,
                maxn=self.maxn,
                lr=self.lr,
                bucket=self.bucket,
                thread=1,  # one thread: Hogwild updates on several would make results vary run to run
                verbose=0,
                seed=self.seed + 1,  # fastText maps 0 to 1: shift so seeds 0 and 1 differ
            )
            try:
                return _train_with_retries(options)
            except ValueError as exc:  # "Empty vocabulary. Try a smaller -minCount value."
                raise ToolkitError(
                    f"FastTextFeaturizer could not train on {len(lines)} training users with "
                    f"min_count={self.min_count}: {exc}"
                ) from exc
            except RuntimeError as exc:
                # Still "Encountered NaN" after the retries: real divergence.
                tokens = sum(len(line.split()) for line in lines)
                raise ToolkitError(
                    f"FastTextFeaturizer failed while training on {len(lines)} training users "
                    f"({tokens} tokens): {exc} fastText needs more text than this, or a smaller step: "
                    f"use more users, more epochs, a lower 'lr' (now {self.lr}), or pre-trained vectors via 'path'."
                ) from exc

    def _fitted_model(self) -> Any:
        if getattr(self, "model_", None) is None:  # a reloaded featurizer with a pre-trained path
            self.warm_up()
            self.model_ = self._pretrained
        return self.model_

    def transform(self, users: pd.DataFrame) -> np.ndarray:
        model = self._fitted_model()
        texts = user_texts(users)
        out = np.zeros((len(texts), self.dim_), dtype=np.float32)
        for i, tokens in enumerate(tokenize_texts(texts)):
            if tokens:
                out[i] = model.get_sentence_vector(" ".join(tokens))
        return out

    def flops_per_user(self) -> float:
        if not hasattr(self, "dim_"):
            return 0.0
        # Each token's vector sums the word row and its subword rows (get_subwords counts both).
        return float(self.mean_tokens_ * self.dim_ * max(self.mean_subwords_, 1.0))

    # fastText models wrap C++ objects that pickle cannot handle: keep the model's own file bytes.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_pretrained", None)
        model = state.pop("model_", None)
        if model is not None and self.path is None:
            with tempfile.TemporaryDirectory(prefix="toolkit-fasttext-") as folder:
                file = os.path.join(folder, "model.bin")
                model.save_model(file)
                with open(file, "rb") as fh:
                    # fastText leaves most subword rows at zero: compression shrinks the
                    # saved model about tenfold at little cost.
                    state["model_zlib_"] = zlib.compress(fh.read(), 1)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        data = state.pop("model_zlib_", None)
        self.__dict__.update(state)
        if data is not None:
            with tempfile.TemporaryDirectory(prefix="toolkit-fasttext-") as folder:
                file = os.path.join(folder, "model.bin")
                with open(file, "wb") as fh:
                    fh.write(zlib.decompress(data))
                self.model_ = _load_bin(file)


def _load_bin(path: str) -> Any:
    import fasttext

    if not os.path.lexists(path):
        raise ToolkitError(f"The fastText model file {path!r} does not exist (the 'path' parameter of fasttext).")
    open_regular(path, "a fastText .bin model (the 'path' parameter of fasttext)").close()  # names a FIFO, a folder
    check_fasttext_bin(path)  # a truncated file can otherwise load with garbage vectors
    try:
        return fasttext.load_model(path)
    except ValueError as exc:  # "... has wrong file format!"
        raise ToolkitError(
            f"The fastText model file {path!r} could not be loaded: expected a fastText .bin model ({exc})."
        ) from exc


def _train_with_retries(options: dict[str, Any], attempts: int = 3) -> Any:
    """Train, retrying fastText's spurious "Encountered NaN".

    On a small corpus fastText's monitoring thread can read the running loss
    before any example was counted (0/0) and abort; whether it does depends on
    thread timing, not on the data. A retry with the same seed trains the same
    model, so retrying changes no result.
    """
    for attempt in range(attempts):
        try:
            return _train_unsupervised(options)
        except RuntimeError as exc:
            if "NaN" not in str(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _train_unsupervised(options: dict[str, Any]) -> Any:
    import fasttext

    try:
        return fasttext.train_unsupervised(**options)
    except TypeError as exc:
        if "seed" not in str(exc):
            raise
    # fastText 0.9.3's Python wrapper leaves 'seed' out of the names train_unsupervised
    # accepts, although the C++ trainer reads it; build the arguments the way the wrapper does.
    from fasttext import FastText as wrapper

    args = {**wrapper.unsupervised_default, **options}
    built = wrapper._build_args(args, set(options))
    model = wrapper._FastText(args=built)
    wrapper.fasttext.train(model.f, built)
    model.set_args(model.f.getArgs())
    return model
