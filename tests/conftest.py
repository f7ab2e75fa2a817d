import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or fill the user's ~/.cache/toolkit; a test may still pass its own --cache-dir."""
    patch = pytest.MonkeyPatch()
    patch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path_factory.mktemp("toolkit-cache")))
    yield
    patch.undo()
