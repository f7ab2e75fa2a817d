"""The documentation site builds strictly, renders in a headless browser, and its search works.

`mkdocs build --strict` fails on a broken link or anchor between pages and on an API name the
reference (mkdocstrings) cannot resolve, so a page that goes stale fails here. The browser tests
serve the built site on the loopback address (the search runs in a web worker, which a browser
does not start from file://) and drive Debian's `chromium` headless.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# every page of the site and a heading it must show once rendered
PAGES = {
    "index.html": "retention-toolkit", "getting-started.html": "Getting started",
    "your-own-csv.html": "Your own CSV", "spec.html": "The spec", "labels-and-coverage.html": "Labels and coverage",
    "time-to-return.html": "Time to return", "metrics.html": "Metrics", "bench-and-compare.html": "bench and compare",
    "outputs.html": "Reading the outputs", "plugins.html": "Plugins", "encoders.html": "Pretrained encoders",
    "performance.html": "Performance", "trust-and-safety.html": "Trust and safety", "decisions.html": "Decisions",
    "architecture.html": "Architecture", "api.html": "Python API",
}
BROWSER_FLAGS = ["--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
                 "--enable-logging=stderr", "--v=0"]


def _missing_docs_tools() -> str | None:
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return f"{module} is not installed: pip install -e \".[docs]\" (.ci/run installs it)"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    missing = _missing_docs_tools()
    if missing:
        pytest.skip(missing)
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(REPO / "mkdocs.yml"),
         "--site-dir", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


class _Server:
    """The built site on 127.0.0.1, plus the two routes the search probe page talks to."""

    def __init__(self, root: Path):
        self.reports: list[str] = []
        self.done = threading.Event()
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_POST(self):
                size = int(self.headers.get("Content-Length", 0))
                server.reports.append(self.rfile.read(size).decode("utf-8"))
                if self.path == "/done":
                    server.done.set()
                self.send_response(204)
                self.end_headers()

            def do_GET(self):
                if self.path == "/hold":  # keeps the probe page loading until its search has answered
                    server.done.wait(30)
                    self.send_response(204)
                    self.end_headers()
                    return
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.done.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(site):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it where it can)")
    server = _Server(site)
    yield server
    server.close()


def _browse(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{abs(hash(url))}"
    return subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_site_builds_strictly_with_every_page_and_the_api_reference(site):
    for page in PAGES:
        assert (site / page).is_file(), page
    api = (site / "api.html").read_text(encoding="utf-8")
    for name in ("toolkit.run", "toolkit.load_run", "toolkit.compare", "toolkit.bench", "toolkit.api.Run",
                 "toolkit.api.Comparison", "toolkit.errors.ToolkitError", "toolkit.featurizers.base.Featurizer",
                 "toolkit.heads.base.Head", "toolkit.registry.register_featurizer"):
        assert f'id="{name}"' in api, f"the API reference lacks {name}"
    assert "Run a spec and write its results folder" in api  # a docstring made it through


def test_the_search_index_holds_the_pages_words(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert set(PAGES) - {"index.html"} <= locations
    text = " ".join(doc["text"] for doc in index["docs"]).lower()
    for word in ("censored", "date_format", "kaplan-meier", "safetensors"):
        assert word in text, word


def test_every_page_renders_in_chromium_without_a_console_message(served, tmp_path):
    for page, heading in PAGES.items():
        result = _browse(f"{served.url}/{page}", tmp_path, "--dump-dom")
        assert result.returncode == 0, f"{page}: chromium exited {result.returncode}\n{result.stderr[-2000:]}"
        titles = re.findall(r"<h1[^>]*>(.*?)</h1>", result.stdout, re.S)
        assert any(heading in re.sub(r"<[^>]+>", "", t) for t in titles), f"{page}: no <h1> {heading!r} in {titles}"
        assert 'class="md-nav' in result.stdout, f"{page}: the theme's navigation did not render"
        assert not _console(result.stderr), f"{page}: console messages {_console(result.stderr)}"


def test_a_screenshot_of_the_home_page_is_drawn(served, tmp_path):
    shot = tmp_path / "index.png"
    result = _browse(f"{served.url}/index.html", tmp_path, f"--screenshot={shot}", "--window-size=1280,900")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000  # not a blank page


def test_the_sites_own_search_worker_finds_a_known_word(served, site, tmp_path):
    worker = next((site / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    # Material's worker protocol: SETUP 0 -> READY 1, QUERY 2 -> RESULT 3
    (site / "probe.html").write_text(f"""<!doctype html><html><body><script>
const say = (path, text) => fetch(path, {{method: "POST", body: text}});
window.onerror = (message) => say("/done", "error: " + message);
const worker = new Worker("assets/javascripts/workers/{worker.name}");
worker.onerror = (e) => say("/done", "worker error: " + e.message);
worker.onmessage = (e) => {{
  if (e.data.type === 1) worker.postMessage({{type: 2, data: "censored"}});
  else if (e.data.type === 3) say("/done", JSON.stringify(e.data.data.items.map(
    (i) => (Array.isArray(i) ? i[0] : i).location)));
}};
fetch("search/search_index.json").then((r) => r.json()).then((index) => worker.postMessage(
  {{type: 0, data: {{config: index.config, docs: index.docs, options: {{suggest: false}}}}}}));
</script><img src="/hold"></body></html>""", encoding="utf-8")
    result = _browse(f"{served.url}/probe.html", tmp_path, "--dump-dom")
    assert served.done.is_set(), f"the search never answered\n{result.stderr[-2000:]}"
    hits = json.loads(served.reports[-1])
    assert any(hit.startswith("labels-and-coverage.html") for hit in hits), hits
    assert not _console(result.stderr), _console(result.stderr)


def _readme_links() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold commands, not links
    return re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text)


def test_every_relative_link_in_the_readme_points_at_a_file():
    links = [link for link in _readme_links() if not re.match(r"[a-z][a-z0-9+.-]*:|#", link)]
    assert len(links) >= 10, links  # the README links the docs pages
    missing = [link for link in links if not (REPO / link.split("#")[0]).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
    assert any(link.startswith("docs/") for link in links)


def test_ci_runs_the_readmes_test_command_character_for_character():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Set up and run the tests.*?```bash\n(.*?)\n```", readme, re.S)
    assert block, "README.md lost its test command"
    command = block.group(1).strip()
    assert command.endswith("python -m pytest") and "\n" not in command
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in [line.strip() for line in ci], f".ci/run does not run {command!r}"
    assert [line.strip() for line in ci if line.strip() and not line.startswith("#")][-1] == command  # and last
