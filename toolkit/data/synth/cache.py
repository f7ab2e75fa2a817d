"""Signatures of the synthetic data kept in the cache, so a tampered file is never used.

``ensure_synthetic`` keeps ``synthetic-….csv`` and its ``….truth.csv`` in the cache folder and
reuses them. Whoever can write there could otherwise swap the truth file's probabilities (the
oracle's ROC-AUC follows them) or the posts. Beside the pair lies ``synthetic-….csv.sig``: the
size and SHA-256 of both files, signed with HMAC-SHA256 under the user's cache key (the one that
signs feature cache entries, :mod:`toolkit.signing`). A pair whose signature is missing or does
not match is discarded with a warning and generated again; the generator is deterministic, so
the new files are the ones that should have been there.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

from toolkit.safe_io import atomic_write
from toolkit.signing import load_or_create_key, sign, verify

FORMAT = 1
MAX_SIGNATURE_BYTES = 64 * 1024  # a signature is a few hundred bytes; read no more before it verifies


def signature_path(posts: Path) -> Path:
    return Path(posts).with_name(Path(posts).name + ".sig")


def _digest(path: Path) -> dict:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": sha.hexdigest()}


def _body(posts: Path, truth: Path) -> dict:
    return {"format": FORMAT, "files": [_digest(posts), _digest(truth)]}


def _canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True).encode()


def _key() -> bytes | None:
    try:
        return load_or_create_key()
    except OSError as exc:
        warnings.warn(f"cannot read or create the cache key ({exc}); cached synthetic data is regenerated "
                      "each time", stacklevel=3)
        return None


def sign_pair(posts: Path, truth: Path) -> None:
    """Write the signature of a freshly generated pair (nothing when no key can be had)."""
    key = _key()
    if key is None:
        return
    body = _body(posts, truth)
    atomic_write(signature_path(posts), json.dumps({**body, "hmac": sign(key, _canonical(body))}) + "\n")


def why_untrusted(posts: Path, truth: Path) -> str | None:
    """None when the pair exists and matches its signature; otherwise what is wrong."""
    sig = signature_path(posts)
    if not (posts.is_file() and truth.is_file()):
        return "missing"
    if sig.is_symlink() or not sig.is_file() or sig.stat().st_size > MAX_SIGNATURE_BYTES:
        return "no signature"
    key = _key()
    if key is None:
        return "no cache key to check it with"
    try:
        found = json.loads(sig.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable signature ({type(exc).__name__})"
    if not isinstance(found, dict) or not verify(key, _canonical({k: v for k, v in found.items() if k != "hmac"}),
                                                 found.get("hmac")):
        return "signature mismatch: altered, or signed with another cache key"
    if found != {**_body(posts, truth), "hmac": found["hmac"]}:
        return "a file was changed after it was signed"
    return None


def trusted(posts: Path, truth: Path) -> bool:
    """Whether the cached pair can be used; a pair that exists but fails its check is warned about."""
    why = why_untrusted(posts, truth)
    if why is not None and why != "missing":
        warnings.warn(f"cached synthetic data {posts.name} is not trusted ({why}); discarding and generating "
                      "it again", stacklevel=3)
    return why is None
