"""The on-disk feature cache.

:mod:`~toolkit.features.cache.store` reads and writes entries,
:mod:`~toolkit.features.cache.clear` removes them (``cache clear``) and
:mod:`~toolkit.features.cache.key` holds the secret that signs them.
"""

from toolkit.features.cache.store import (
    FORMAT, MANIFEST, CachedBlocks, CacheStats, FeatureCache, code_version, default_cache_root, rows_fingerprint,
    users_fingerprint,
)

__all__ = ["FORMAT", "MANIFEST", "CachedBlocks", "CacheStats", "FeatureCache", "code_version", "default_cache_root",
           "rows_fingerprint", "users_fingerprint"]
