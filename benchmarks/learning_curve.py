"""A learning curve: logreg, mlp and gbdt on TF-IDF + behavior at growing numbers of users.

    python benchmarks/learning_curve.py [--sizes 3000 30000 300000] [--heads logreg mlp gbdt]
                                        [--budget 1500] [--split-above 30000]

Answers "is the networks' tie with logistic regression a small-data effect?" with the heads
trained as shipped (no epoch cap): each point is one ``python -m toolkit run`` of
``experiments/quickstart.yaml``'s data, label, training and evaluation with the efficiency
study's baseline blocks (TF-IDF + behavior) and only the head and ``data.synthetic.users``
changed, so at each size every head sees the same users and folds. Sizes up to
``--split-above`` use the spec's 5 folds; larger sizes one stratified 80/20 split (five
networks at 300,000 users do not fit a session on 2 cores), and the table says which. The
metric is the run's own out-of-fold (or held-out) ROC-AUC with its interval.

A head stops being run at the larger sizes once its last run, grown linearly with the users,
would take longer than ``--budget`` seconds; skipped points are listed, not guessed.
Writes ``benchmarks/learning_curve.json``, ``benchmarks/learning_curve.png`` and the section
of ``benchmarks/RESULTS.md`` between ``<!-- learning-curve:start -->`` and ``<!-- learning-curve:end -->``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: benchmarks.scale importable
from benchmarks.scale.report import write_results  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
START, END = "<!-- learning-curve:start -->", "<!-- learning-curve:end -->"
BLOCKS = [{"type": "tfidf"}, {"type": "behavior"}]  # the efficiency study's baseline blocks


def spec_for(users: int, head: str, split_above: int) -> dict:
    spec = yaml.safe_load((ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8"))
    spec["name"] = f"curve_{head}_{users}"
    spec["data"]["synthetic"]["users"] = users
    spec["featurizers"] = [dict(b) for b in BLOCKS]
    spec["head"] = {"type": head}
    if users > split_above:
        spec["evaluation"] = {**{k: v for k, v in spec["evaluation"].items() if k != "cv"},
                              "split": {"test_fraction": 0.2}}
    return spec


def run_point(users: int, head: str, split_above: int, work: Path, cache: Path) -> dict:
    """One run in its own process; its wall seconds and the run's ROC-AUC with interval."""
    spec = spec_for(users, head, split_above)
    path = work / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    results = work / "results"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "toolkit", "run", str(path), "--quiet", "--results-dir",
                           str(results), "--cache-dir", str(cache)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{head} at {users:,} users failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    (folder,) = sorted((results / spec["name"]).iterdir())
    roc = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["metrics"]["roc_auc"]
    return {"users": users, "head": head, "evaluation": "split 80/20" if users > split_above else "5-fold",
            "wall_s": wall, "roc_auc": roc["mean"], "ci_low": roc.get("ci_low"), "ci_high": roc.get("ci_high")}


def section(rows: list[dict], skipped: list, commands: list[str]) -> str:
    from toolkit.environment import cpu_model

    heads = list(dict.fromkeys(r["head"] for r in rows))
    sizes = sorted({r["users"] for r in rows})
    by = {(r["users"], r["head"]): r for r in rows}
    lines = [START, "## Learning curve: logreg, mlp and gbdt as the crawl grows", "",
             "Commands: " + "; then ".join(f"`{c}`" for c in commands) + f". Machine: {cpu_model()}, {os.cpu_count()} cores; heads trained as shipped "
             "(not the scale benchmark's 10-epoch cap); TF-IDF + behavior, quickstart's label and training (30 epochs at most, batch 64, early stopping); ROC-AUC with the run's 95% "
             "interval; Δ = head - logreg on the same users and folds. Wall seconds include the final model.", "",
             "| users | evaluation | " + " | ".join(heads) + " | " + " | ".join(f"Δ {h}" for h in heads if h != "logreg")
             + " | seconds (" + ", ".join(heads) + ") |",
             "|---:|---|" + "---:|" * (2 * len(heads) - ("logreg" in heads)) + "---|"]
    for users in sizes:
        cells, deltas, secs = [], [], []
        base = by.get((users, "logreg"))
        for h in heads:
            r = by.get((users, h))
            cells.append(f"{r['roc_auc']:.4f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]" if r else "skipped")
            secs.append(f"{r['wall_s']:.0f}" if r else "-")
            if h != "logreg":
                deltas.append(f"{r['roc_auc'] - base['roc_auc']:+.4f}" if r and base else "-")
        evaluation = next(r["evaluation"] for r in rows if r["users"] == users)
        lines.append(f"| {users:,} | {evaluation} | " + " | ".join(cells) + " | " + " | ".join(deltas)
                     + " | " + ", ".join(secs) + " |")
    if skipped:
        lines += ["", "Skipped for the time budget: " + ", ".join(f"{h} at {u:,}" for h, u in skipped)]
    lines += ["", "![learning curve](learning_curve.png)", END]
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, head in enumerate(dict.fromkeys(r["head"] for r in rows)):
        pts = sorted((r for r in rows if r["head"] == head), key=lambda r: r["users"])
        x = [r["users"] * (1 + 0.04 * (i - 1)) for r in pts]  # a small offset keeps the bars apart
        y = [r["roc_auc"] for r in pts]
        err = [[r["roc_auc"] - r["ci_low"] for r in pts], [r["ci_high"] - r["roc_auc"] for r in pts]]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=head)
    ax.set_xscale("log")
    ax.set_xlabel("synthetic users (log scale)")
    ax.set_ylabel("ROC-AUC (run's 95% interval)")
    ax.set_title("TF-IDF + behavior, heads trained as shipped")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 30000, 300000])
    parser.add_argument("--heads", nargs="+", default=["logreg", "mlp", "gbdt"])
    parser.add_argument("--budget", type=float, default=1500.0)
    parser.add_argument("--split-above", type=int, default=30000)
    parser.add_argument("--out", default=str(HERE), help="folder for learning_curve.json/.png and RESULTS.md")
    args = parser.parse_args(argv)
    out = Path(args.out)
    # Points already measured stay unless this run measures them again, so one slow point can be run alone.
    kept = json.loads((out / "learning_curve.json").read_text(encoding="utf-8")) if (out / "learning_curve.json").is_file() else {}
    rows, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="toolkit-curve-") as tmp:
        work, cache = Path(tmp), Path(tmp) / "cache"
        for users in sorted(args.sizes):
            for head in args.heads:
                done = [r for r in rows if r["head"] == head]
                if done and done[-1]["wall_s"] * users / done[-1]["users"] > args.budget:
                    skipped.append((head, users))
                    continue
                rows.append(run_point(users, head, args.split_above, work, cache))
                r = rows[-1]
                print(f"{users:>9,} users  {head:<7} {r['evaluation']:<11} roc_auc {r['roc_auc']:.4f} "
                      f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]  {r['wall_s']:.0f} s", flush=True)
    measured = {(r["users"], r["head"]) for r in rows}
    rows = sorted([r for r in kept.get("rows", []) if (r["users"], r["head"]) not in measured] + rows,
                  key=lambda r: (r["users"], r["head"] != "logreg"))
    have = {(r["head"], r["users"]) for r in rows}
    skipped = list(dict.fromkeys(p for p in [tuple(p) for p in kept.get("skipped", [])] + skipped if p not in have))
    command = "python benchmarks/learning_curve.py " + " ".join(argv if argv is not None else sys.argv[1:])
    commands = list(dict.fromkeys(kept.get("commands", []) + [command.strip()]))
    (out / "learning_curve.json").write_text(json.dumps({"rows": rows, "skipped": skipped, "commands": commands}, indent=1), encoding="utf-8")
    plot(rows, out / "learning_curve.png")
    write_results(section(rows, skipped, commands), out / "RESULTS.md", markers=(START, END))
    return 0


if __name__ == "__main__":
    sys.exit(main())
