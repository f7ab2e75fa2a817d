"""Hostile encoder folders: a ``model:`` folder received from someone else, with one thing broken.

Each case copies a tiny real DistilBERT folder (``tests/tiny_distilbert.py``), breaks one
file, and runs the real command line (``validate``, which loads the model as ``run`` does).
Before these checks each ended in a traceback (exit 1): an UnpicklingError, a RuntimeError for
``vocab_size`` 2e9, a MemoryError after reading a 3 GB ``tokenizer.json`` whole, a TypeError
for a ``config.json`` holding a list; ``model: /etc`` said "install sentencepiece or tiktoken".
Now each is one ``error:`` line, exit 2.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from hostile import assert_refused, toolkit, write_yaml
from specs import spec_dict

MARKER = "pickle-ran.txt"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from tiny_distilbert import build_tiny_distilbert

    return Path(build_tiny_distilbert(tmp_path_factory.mktemp("tiny-bert")))


@pytest.fixture
def folder(tiny, tmp_path) -> Path:
    """A fresh copy of the tiny model, to break one thing in."""
    return Path(shutil.copytree(tiny, tmp_path / "received-model"))


def validate(model, tmp_path: Path, timeout: float = 120):
    spec = spec_dict(data={"synthetic": {"users": 200, "seed": 1, "positive_rate": 0.2}},
                     featurizers=[{"type": "distilbert", "model": str(model), "batch_size": 8}])
    return toolkit("validate", str(write_yaml(tmp_path / "spec.yaml", spec)), cwd=tmp_path, timeout=timeout)


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **changes}))


def to_pickled_weights(folder: Path, extra=None) -> None:
    """Replace model.safetensors by pytorch_model.bin holding the same tensors (and ``extra``, pickled)."""
    import torch
    from safetensors.torch import load_file

    weights = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save({**weights, **({"extra": extra} if extra is not None else {})}, folder / "pytorch_model.bin")


class WritesAMarker:
    """Unpickling this runs code: it creates ``MARKER`` in the current folder."""

    def __reduce__(self):
        return (open, (MARKER, "w"))


def test_the_untouched_copy_loads(folder, tmp_path):
    done = validate(folder, tmp_path)
    assert done.rc == 0, done.text


def test_tensors_only_pytorch_model_bin_loads_with_weights_only(folder, tmp_path):
    to_pickled_weights(folder)
    done = validate(folder, tmp_path)
    assert done.rc == 0, done.text


def test_a_pickle_that_runs_code_is_refused_and_never_run(folder, tmp_path):
    to_pickled_weights(folder, extra=WritesAMarker())
    assert_refused(validate(folder, tmp_path), 2, "pytorch_model.bin", "loading it would run its code",
                   "weights_only=True", "safetensors")
    assert not (tmp_path / MARKER).exists()


def test_a_truncated_pytorch_model_bin_is_named(folder, tmp_path):
    to_pickled_weights(folder)
    data = (folder / "pytorch_model.bin").read_bytes()
    (folder / "pytorch_model.bin").write_bytes(data[: len(data) // 2])
    assert_refused(validate(folder, tmp_path), 2, "pytorch_model.bin", "cannot be read as PyTorch weights")


@pytest.mark.parametrize("value, fragments", [
    (2_000_000_000, ("vocab_size must be an int from 0 to 2,097,152", "got 2000000000")),
    (2e9, ("vocab_size must be an int",)),
    ("760", ("vocab_size must be an int", "got str")),
    (-1, ("vocab_size must be an int from 0",)),
], ids=["2e9-int", "2e9-float", "a-string", "negative"])
def test_a_vocab_size_no_model_has_is_refused(folder, tmp_path, value, fragments):
    edit_config(folder, vocab_size=value)
    assert_refused(validate(folder, tmp_path), 2, "config.json", *fragments)


def test_an_embedding_table_larger_than_the_weights_is_refused(folder, tmp_path):
    edit_config(folder, vocab_size=1_000_000)  # within bounds, but 32M values cannot be in 178 KB of weights
    assert_refused(validate(folder, tmp_path), 2, "vocab_size 1,000,000 x width 32",
                   "does not belong to these weights")


@pytest.mark.parametrize("key", ["n_layers", "dim", "max_position_embeddings"])
def test_a_layer_count_or_width_beyond_any_model_is_refused(folder, tmp_path, key):
    edit_config(folder, **{key: 10**7})
    assert_refused(validate(folder, tmp_path), 2, f"{key} must be an int from 0 to")


def test_weights_of_another_shape_than_the_config_are_one_line(folder, tmp_path):
    edit_config(folder, vocab_size=800)  # the weights hold 760 rows
    assert_refused(validate(folder, tmp_path), 2, "could not be loaded", "config.json")


def test_a_3_gb_tokenizer_json_is_refused_from_its_size_unread(folder, tmp_path):
    with open(folder / "tokenizer.json", "r+b") as fh:
        fh.truncate(3 * 2**30)  # sparse: no disk used
    start = time.monotonic()
    done = validate(folder, tmp_path, timeout=60)
    assert_refused(done, 2, "tokenizer.json", "3,221,225,472 bytes", "at most 134,217,728", "unread")
    assert time.monotonic() - start < 45  # reading 3 GB would take far longer (and end in a MemoryError)


def test_a_fifo_tokenizer_file_is_refused_without_hanging(folder, tmp_path):
    (folder / "tokenizer.json").unlink()
    os.mkfifo(folder / "tokenizer.json")
    assert_refused(validate(folder, tmp_path, timeout=60), 2, "tokenizer.json", "named pipe (FIFO)")


@pytest.mark.parametrize("text, fragments", [
    ("[1, 2]", ("holds a JSON list", "a JSON object")),
    ('"a string"', ("holds a JSON str",)),
    ("{not json", ("is not valid JSON",)),
    ("[" * 100_000 + "]" * 100_000, ("is not valid JSON", "nested too deeply")),
    ('{"model_type": "distilbert", "pad": "' + "x" * (2 << 20) + '"}', ("at most 1,048,576 bytes",)),
], ids=["a-list", "a-string", "not-json", "100000-deep", "2-MiB"])
def test_a_config_json_that_is_not_a_config_is_refused(folder, tmp_path, text, fragments):
    (folder / "config.json").write_text(text)
    assert_refused(validate(folder, tmp_path), 2, "config.json", *fragments)


def test_a_folder_that_is_not_a_model_says_so(tmp_path):
    other = tmp_path / "documents"
    other.mkdir()
    for name in ("notes.txt", "photo.jpg", "passwd"):
        (other / name).write_text("x")
    done = validate(other, tmp_path)
    assert_refused(done, 2, "is not a model folder", "expected config.json and tokenizer files",
                   "found 'notes.txt', 'passwd', 'photo.jpg'")
    assert "sentencepiece" not in done.text and "tiktoken" not in done.text


def test_model_etc_is_not_a_model_folder(tmp_path):
    done = validate("/etc", tmp_path)
    assert_refused(done, 2, "'/etc' is not a model folder", "found")
    assert "sentencepiece" not in done.text


def test_a_model_folder_without_weights_says_what_is_missing(folder, tmp_path):
    (folder / "model.safetensors").unlink()
    assert_refused(validate(folder, tmp_path), 2, "has no weights", "expected model.safetensors", "'config.json'")


def test_a_file_named_as_the_model_is_not_a_folder(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\0" * 10)
    assert_refused(validate(tmp_path / "model.bin", tmp_path), 2, "is a regular file", "expected a model folder")


def test_toolkit_models_listing_reads_a_listed_folder_bounded(folder):
    from toolkit.errors import ToolkitError
    from toolkit.featurizers import listing

    with open(folder / "tokenizer.json", "r+b") as fh:
        fh.truncate(3 * 2**30)
    assert listing._chinese_unk(folder) is None  # the tokenizer is not read: no share rather than 3 GB read
    (folder / "config.json").write_text("[1]")
    with pytest.raises(ToolkitError, match="holds a JSON list"):
        listing.model_summary(folder)
