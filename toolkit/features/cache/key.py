"""The feature cache's signing key: kept in :mod:`toolkit.signing`, which the data layer shares."""

from toolkit.signing import KEY_BYTES, key_file, load_or_create_key, sign, verify

__all__ = ["KEY_BYTES", "key_file", "load_or_create_key", "sign", "verify"]
