"""Measure a page the way a reader sees it: in headless Chromium (Debian's ``chromium`` package).

Tests using it skip, with the reason, where no Chromium is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)")

_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--virtual-time-budget=5000")


def scroll_width(page: Path, *, window_width: int = 1366) -> int:
    """The laid-out page's ``scrollWidth`` in CSS pixels, in a ``window_width`` px wide window.

    A copy of the page gets a script that writes the width into its title; ``--dump-dom``
    prints the DOM after load, scripts run.
    """
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        script = "<script>document.title = 'scrollWidth=' + document.documentElement.scrollWidth;</script>"
        probe.write_text(Path(page).read_text(encoding="utf-8").replace("</body>", script + "</body>"),
                         encoding="utf-8")
        done = subprocess.run(
            [CHROMIUM, *_FLAGS, f"--user-data-dir={tmp}/profile", f"--window-size={window_width},900",
             "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r"<title>scrollWidth=(\d+)</title>", done.stdout)
    assert found, f"Chromium did not lay out the page (exit {done.returncode}): {done.stderr[-2000:]}"
    return int(found.group(1))
