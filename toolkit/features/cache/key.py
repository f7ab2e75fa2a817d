"""The feature cache's signing key: kept in :mod:`toolkit.signing`, which the data layer shares."""

from toolkit.signing import KEY_BYTES, key_file, load_or_create_key, sign, sign_parts, verify, verify_parts

__all__ = ["KEY_BYTES", "key_file", "load_or_create_key", "sign", "sign_parts", "verify", "verify_parts"]
