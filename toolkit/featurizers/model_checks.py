"""A model folder is untrusted input: what is checked before ``from_pretrained`` reads any of it.

A folder named after ``model:`` may come from anyone (a colleague's copy, a download, a
wheel). ``transformers`` trusts what it finds: it builds the network from ``config.json``
(a ``vocab_size`` of 2e9 asks for an 8 GB table), reads ``tokenizer.json`` whole (3 GB read
into memory), and fails with a traceback on a ``config.json`` that holds a list. So before
loading, :func:`check_model_folder` checks, from sizes and a small bounded read only:

- that the folder is a model folder at all: ``config.json``, tokenizer files and weights
  (``model: /etc`` is named as such, not answered with "install sentencepiece");
- ``config.json``: a regular file of at most :data:`MAX_CONFIG_BYTES`, a JSON object, its
  sizes (vocabulary, width, layers, heads, positions) integers within :data:`CONFIG_BOUNDS`,
  and an embedding table the weight files are large enough to hold;
- every tokenizer and JSON side file: a regular file (not a FIFO or a device) of at most
  :data:`MAX_SIDE_FILE_BYTES`, refused from its size without being read;
- the weights: ``*.safetensors`` (plain tensors, no code), or a pickled ``pytorch_model.bin``
  that loads with ``torch.load(weights_only=True)`` (onto the meta device, so nothing is
  allocated): a pickle holding anything but tensors is refused, whatever the installed
  ``transformers`` would do with it.

Every refusal is a ToolkitError naming the file, what was expected and what was found.
"""

from __future__ import annotations

import itertools
import json
import os
import stat
import zipfile
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.safe_io import describe_path, read_regular

#: config.json is a few kilobytes; 1 MiB bounds the read and the parse
MAX_CONFIG_BYTES = 1 << 20
#: tokenizer.json of the largest multilingual vocabularies is about 35 MB
MAX_SIDE_FILE_BYTES = 128 << 20
#: files a Hugging Face tokenizer is built from (any one of them makes a tokenizer)
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model",
                   "spiece.model", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                   "added_tokens.json")
#: config.json keys that size the network, with the largest value a real encoder has (with room):
#: XLM-V's vocabulary is 0.9M pieces, the widest published models 16k-wide, the deepest 128 layers
CONFIG_BOUNDS = {
    "vocab_size": 2**21, "type_vocab_size": 2**10,
    "hidden_size": 2**16, "dim": 2**16, "d_model": 2**16, "n_embd": 2**16,
    "intermediate_size": 2**18, "hidden_dim": 2**18, "ffn_dim": 2**18, "d_ff": 2**18, "n_inner": 2**18,
    "num_hidden_layers": 1024, "n_layers": 1024, "n_layer": 1024, "num_layers": 1024,
    "num_attention_heads": 1024, "n_heads": 1024, "n_head": 1024,
    "max_position_embeddings": 2**20, "n_positions": 2**20,
}
_WIDTH_KEYS = ("hidden_size", "dim", "d_model", "n_embd")
#: weights are stored at 4 bits a value at the least, so N bytes of weight files hold at most 2N values
_VALUES_PER_BYTE = 2
_SHOWN_NAMES = 12


def check_model_folder(folder: str | Path, model: str, *, weights: bool = True) -> dict:
    """Check a model folder before anything loads it; return its ``config.json`` (a dict).

    Args:
        folder: the folder ``from_pretrained`` would read.
        model: the ``model:`` value, for messages.
        weights: also check the weight files (``toolkit models`` lists tokenizers only).

    Raises:
        ToolkitError: not a model folder, or a file in it that is too large, not a regular
            file, or not what its name says (see the module docstring).
    """
    folder = Path(folder)
    where = repr(model) if model == str(folder) else f"{model!r} ({folder})"
    if not folder.is_dir():
        raise ToolkitError(f"The model {where} {describe_path(folder)}; expected a model folder holding "
                           "config.json, tokenizer files and the weights.")
    present = [name for name in TOKENIZER_FILES if os.path.lexists(folder / name)]
    if not os.path.lexists(folder / "config.json") or not present:
        raise ToolkitError(f"The model {where} is not a model folder: expected config.json and tokenizer files "
                           f"({', '.join(TOKENIZER_FILES[:3])}, ...) as save_pretrained writes them, "
                           f"found {_found(folder)}.")
    config = _read_config(folder / "config.json")
    _check_config(config, folder / "config.json")
    side = {*present, *(p.name for p in itertools.islice(folder.glob("*.json"), 1000))}
    for name in sorted(side):
        _check_file(folder / name, MAX_SIDE_FILE_BYTES, "a tokenizer or configuration file")
    if weights:
        files = weight_files(folder)
        if not files:
            raise ToolkitError(f"The model {where} has no weights: expected model.safetensors (or sharded "
                               f"model-*.safetensors, or pytorch_model.bin), found {_found(folder)}.")
        for path in files:
            _check_file(path, None, "model weights")
        if files[0].suffix != ".safetensors":  # transformers loads safetensors when both are there
            for path in files:
                check_pickled_weights(path)
        _check_embedding_fits(config, folder, files)
    return config


def weight_files(folder: Path) -> list[Path]:
    """The weight files ``from_pretrained`` would load: safetensors, or else pickled PyTorch files."""
    for pattern in ("model.safetensors", "model-*-of-*.safetensors", "pytorch_model.bin", "pytorch_model-*-of-*.bin"):
        found = sorted(folder.glob(pattern))
        if found:
            return found
    return []


def read_config(folder: str | Path) -> dict:
    """A model folder's ``config.json``, bounded in size and checked to be a JSON object."""
    return _read_config(Path(folder) / "config.json")


def _read_config(path: Path) -> dict:
    data = read_regular(path, MAX_CONFIG_BYTES, "a model's config.json")
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0]
        raise ToolkitError(f"{path} is not valid JSON ({reason}); expected a model's config.json.") from None
    if not isinstance(config, dict):
        raise ToolkitError(f"{path} holds a JSON {type(config).__name__}; a model's config.json is a JSON object "
                           "({\"model_type\": ..., \"vocab_size\": ..., ...}).")
    return config


def _check_config(config: dict, path: Path) -> None:
    for key, high in CONFIG_BOUNDS.items():
        value = config.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            shown = value if isinstance(value, (int, float)) and len(repr(value)) < 40 else type(value).__name__
            raise ToolkitError(f"{path}: {key} must be an int from 0 to {high:,} (no real model is larger); "
                               f"got {shown}. The folder's config.json was edited or does not belong to a model.")


def _check_embedding_fits(config: dict, folder: Path, files: list[Path]) -> None:
    """The embedding table config.json declares must fit in the weight files (else it is allocated, not loaded)."""
    vocab = config.get("vocab_size")
    width = next((config[k] for k in _WIDTH_KEYS if isinstance(config.get(k), int)), None)
    if not isinstance(vocab, int) or width is None:
        return
    stored = sum(os.stat(p).st_size for p in files)
    if vocab * width > _VALUES_PER_BYTE * stored:
        raise ToolkitError(f"{folder / 'config.json'} declares an embedding table of vocab_size {vocab:,} x "
                           f"width {width:,} = {vocab * width:,} values, more than the {stored:,} bytes of weight "
                           "files could hold: the config.json does not belong to these weights.")


def _check_file(path: Path, limit: int | None, what: str) -> None:
    """A regular file (links followed: the Hugging Face cache links snapshots to blobs) of at most ``limit`` bytes."""
    try:
        info = os.stat(path)
    except OSError:
        raise ToolkitError(f"{path} {describe_path(path)}; expected {what}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise ToolkitError(f"{path} {describe_path(path)}, not a regular file; expected {what}.")
    if limit is not None and info.st_size > limit:
        raise ToolkitError(f"{path} is {info.st_size:,} bytes; {what} in a model folder is at most {limit:,} "
                           "bytes (refused from its size, unread).")


def check_pickled_weights(path: Path) -> None:
    """Refuse a pickled weights file that holds anything but tensors (unpickling it would run code)."""
    import torch

    try:
        # meta: tensors get shapes, no memory; mmap (zip format only) reads no tensor data either
        torch.load(path, map_location="meta", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as exc:  # any failure means transformers could not load it either
        first = str(exc).splitlines()[0] if str(exc) else ""
        if "weights only" in str(exc).lower() or type(exc).__name__ == "UnpicklingError":
            raise ToolkitError(f"{path} is a pickle holding more than tensors, and loading it would run its code "
                               "(torch.load with weights_only=True refused it). Load only safetensors from folders "
                               "you did not make: on a machine you trust, convert the model with "
                               "save_pretrained(folder, safe_serialization=True).") from None
        raise ToolkitError(f"{path} cannot be read as PyTorch weights ({type(exc).__name__}: {first[:200]}).") from None


def _found(folder: Path) -> str:
    """The first names in a folder, for a message ("a, b, c and 40 more", or "nothing")."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name + ("/" if e.is_dir() else "") for e in itertools.islice(entries, 1000))
    except OSError as exc:
        return f"a folder that cannot be listed ({exc.strerror or exc})"
    if not names:
        return "nothing (an empty folder)"
    more = len(names) - _SHOWN_NAMES
    shown = ", ".join(repr(n) for n in names[:_SHOWN_NAMES])
    return shown + (f" and {more}{'+' if len(names) == 1000 else ''} more" if more > 0 else "")
