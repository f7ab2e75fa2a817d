"""Screenshots of the four HTML reports (run, explain, bench/compare, eda), built on small synthetic data.

    python benchmarks/screenshots.py [--out /tmp/toolkit-screenshots] [--users 400]

Builds, in a temporary results folder: three yes/no runs (TF-IDF + behavior, behavior alone, TF-IDF
alone, all logistic regression) and one time-to-return run (Cox, the shipped
``experiments/time_to_return.yaml``); ``explain`` on the first yes/no run and on the time-to-return
run; ``compare`` of the three yes/no runs; ``eda`` on a yes/no spec and on the time-to-return spec.
Each ``report.html`` is then opened in headless Chromium (Debian's ``chromium``) and saved as a
1280 x 2000 PNG in ``--out``, with ``--full`` as tall as the page. About two minutes on two cores.

The PNGs are for looking at, not for the repository (keep at most a few small ones under
``docs/images/``): the point is that a person reads every figure before a report change is merged.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BINARY = {
    "data": {"synthetic": {"users": 400, "seed": 3, "positive_rate": 0.2}},
    "label": {"cohort": {"first_seen": ["2025-01-01", "2025-02-14"]}, "observe_days": 7,
              "retained_if": {"returns_after_days": 7, "horizon_days": 28}},
    "head": {"type": "logreg"},
    "training": {"epochs": 3, "batch_size": 64},
    "evaluation": {"cv": {"folds": 3, "repeats": 1}, "bootstrap": 200},
    "seed": 0,
}
VARIANTS = {
    "text_and_behavior": [{"type": "tfidf", "max_features": 300}, {"type": "behavior"}],
    "behavior_only": [{"type": "behavior"}],
    "text_only": [{"type": "tfidf", "max_features": 300}],
}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("headless Chromium is not installed (Debian: apt-get install chromium)")
    return found


def screenshot(page: Path, png: Path, *, height: int = 2000) -> Path:
    """``page`` as Chromium lays it out in a 1280 px wide window, saved as ``png``."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size=1280,{height}",
                        page.resolve().as_uri()], check=True, capture_output=True, timeout=180)
    return png


def page_height(page: Path) -> int:
    """The laid-out page's ``scrollHeight`` at 1280 px wide (a copy of it writes the height into its title)."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        script = "<script>document.title = 'scrollHeight=' + document.documentElement.scrollHeight;</script>"
        probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
        done = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp}/p",
                               "--window-size=1280,2000", "--dump-dom", probe.as_uri()],
                              capture_output=True, text=True, timeout=180, check=False)
    found = re.search(r"<title>scrollHeight=(\d+)</title>", done.stdout)
    return min(30000, int(found.group(1)) + 40) if found else 2000


def build(work: Path, users: int) -> dict[str, Path]:
    """Every report, built in ``work``: ``{name: report.html}``."""
    from toolkit.analysis.eda import run_eda
    from toolkit.analysis.explain import explain
    from toolkit.bench.comparison import gather, write_outputs
    from toolkit.experiment.runner import run
    from toolkit.experiment.spec import apply_override, parse_spec

    results, pages, runs = work / "results", {}, []
    for name, featurizers in VARIANTS.items():
        raw = {**BINARY, "name": name, "featurizers": featurizers}
        raw["data"] = {"synthetic": {**BINARY["data"]["synthetic"], "users": users}}
        runs.append(run(parse_spec(raw), results_dir=results, use_cache=False).folder)
    raw = yaml.safe_load((ROOT / "experiments" / "time_to_return.yaml").read_text(encoding="utf-8"))
    apply_override(raw, f"data.synthetic.users={users}")
    survival = run(parse_spec(raw), results_dir=results, use_cache=False).folder
    pages["run"], pages["run_time_to_return"] = runs[0] / "report.html", survival / "report.html"
    explain(runs[0], repeats=3)
    explain(survival, repeats=3)
    pages["explain"], pages["explain_time_to_return"] = runs[0] / "explain/report.html", survival / "explain/report.html"
    found, baselines = gather([str(r) for r in runs])
    pages["bench"] = write_outputs(work / "compare", found, baselines).files["report"]
    specs = {"eda": {**BINARY, "name": "eda", "featurizers": VARIANTS["text_and_behavior"]}, "eda_time_to_return": raw}
    for name, spec in specs.items():
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        pages[name] = run_eda(path, results_dir=results, n_topics=4)[0] / "report.html"
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="/tmp/toolkit-screenshots", help="folder for the PNGs")
    parser.add_argument("--users", type=int, default=400, help="synthetic users per run (default 400)")
    parser.add_argument("--full", action="store_true", help="shoot each page at its full height")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, page in build(Path(tmp), args.users).items():
            shutil.copy(page, out / f"{name}.html")
            png = screenshot(page, out / f"{name}.png", height=page_height(page) if args.full else 2000)
            print(f"{name}: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
