"""``--version`` prints the installed toolkit's version, and reading it imports nothing else of the package."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

from hostile import REPO, toolkit


def test_version_flag_prints_the_packaged_version(tmp_path):
    result = toolkit("--version", cwd=tmp_path)
    assert result.rc == 0 and result.out.strip() == f"retention-toolkit {metadata.version('retention-toolkit')}"


def test_the_version_module_imports_nothing_of_the_package():
    code = "import sys, toolkit._version as v; print(sorted(m for m in sys.modules if m.startswith('toolkit')))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['toolkit', 'toolkit._version']"
