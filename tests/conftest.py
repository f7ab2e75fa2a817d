import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or fill the user's ~/.cache/toolkit, nor make a key in ~/.config/toolkit;
    a test may still pass its own --cache-dir."""
    patch = pytest.MonkeyPatch()
    patch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path_factory.mktemp("toolkit-cache")))
    patch.setenv("TOOLKIT_CACHE_KEY_FILE", str(tmp_path_factory.mktemp("toolkit-config") / "cache.key"))
    yield
    patch.undo()
