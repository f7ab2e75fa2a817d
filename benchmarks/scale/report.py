"""The scale benchmark's outputs: figures beside targets, ``RESULTS.md``'s section and ``scale.png``."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

from .targets import BENCHMARKS, GROWTH_TARGET, TARGETS

START, END = "<!-- scale:start -->", "<!-- scale:end -->"


def target_text(row: dict) -> str:
    """`` (target < 180 s, < 3 GB: met)`` for a row with a target, else ``""``."""
    target = TARGETS.get((row["head"], row["users"]))
    if target is None or row.get("training") == "shipped":  # the time targets are the capped runs'
        return ""
    met = row["wall_s"] < target[0] and row["peak_gb"] < target[1]
    return f" (target < {target[0]:.0f} s and < {target[1]:.0f} GB: {'met' if met else 'MISSED'})"


def growth_lines(rows: list[dict]) -> list[str]:
    """time(100k) / time(10k) per head, beside its target."""
    lines = []
    for head in sorted({r["head"] for r in rows}):
        wall = {r["users"]: r["wall_s"] for r in rows if r["head"] == head}
        if 10_000 in wall and 100_000 in wall:
            ratio = wall[100_000] / wall[10_000]
            verdict = "met" if ratio <= GROWTH_TARGET else "MISSED"
            lines.append(f"{head}: time(100k) / time(10k) = {ratio:.1f} (target <= {GROWTH_TARGET:.0f}: {verdict})")
    return lines


def dominant_stage(row: dict, gen: dict | None) -> str:
    """The stage taking most of a run's time, the generator included when it was timed."""
    stages = [(s["stage"], s["seconds"]) for s in row["stages"]]
    if gen and gen.get("seconds"):
        stages.append(("generate", gen["seconds"]))
    name, seconds = max(stages, key=lambda s: s[1])
    total = sum(s for _, s in stages)
    return f"{name} ({seconds:.0f} s of {total:.0f} s)"


def machine() -> str:
    from toolkit.environment import cpu_model

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = os.getloadavg()[0]
    return (f"{cpu_model()}, {os.cpu_count()} cores, {mem:.0f} GB, {platform.system()} {platform.release()}; "
            f"load average {load:.1f} at the end (the machine is shared)")


def table(rows: list[dict], gens: dict) -> list[str]:
    out = ["| users | head | generate s | load, users, imports s | featurize s | train + score s | final model s "
           "| wall s | CPU s | peak GB | ROC-AUC | target |",
           "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        st = {s["stage"]: s["seconds"] for s in r["stages"]}
        gen = gens.get(r["users"], {}).get("seconds")
        cells = [f"{r['users']:,}", head_cell(r), f"{gen:.0f}" if gen else "reused",
                 *(f"{st.get(k, 0.0):.1f}" for k in ("load, users, imports", "featurize", "train + score", "final model")),
                 f"{r['wall_s']:.1f}", f"{r['cpu_s']:.0f}" if "cpu_s" in r else "-", f"{r['peak_gb']:.2f}", f"{r['roc_auc']:.3f}", target_text(r).strip(" ()") or "-"]
        out.append("| " + " | ".join(cells) + " |")
    return out


#: a network trained as shipped should stay this close to logistic regression at scale
AUC_TOLERANCE = 0.005


def auc_lines(rows: list[dict]) -> list[str]:
    """Each shipped-training network's ROC-AUC against logreg's at the same size, with the tolerance."""
    logreg = {r["users"]: r["roc_auc"] for r in rows if r["head"] == "logreg"}
    out = []
    for r in rows:
        if r.get("training") == "shipped" and r["users"] in logreg:
            delta = r["roc_auc"] - logreg[r["users"]]
            met = "met" if delta >= -AUC_TOLERANCE else "MISSED"
            out.append(f"{r['head']} (shipped training) at {r['users']:,} users: ROC-AUC {r['roc_auc']:.3f} against "
                       f"logreg {logreg[r['users']]:.3f}, {delta:+.3f} (target >= -{AUC_TOLERANCE}: {met})")
    return out


def head_cell(row: dict) -> str:
    """The head, with the training a network's figure was measured under beside it."""
    if row["head"] == "logreg":
        return "logreg"
    if row.get("training") == "shipped":
        return f"{row['head']} (shipped training)"
    return f"{row['head']} (capped: 10 epochs, batch 256)"


def section(rows: list[dict], gens: dict, skipped: list, command: str) -> str:
    lines = [START, "## Scale: 10,000 to 1,000,000 users", "",
             f"Command: `{command}`. Machine: {machine()}.", "",
             "TF-IDF (20,000 features, 1-2 grams) + behavior; one stratified split (test fraction 0.2); "
             "MLP: 10 epochs at most, batch 256 (the cap, marked in the head column) unless "
             "`--shipped-training` (marked \"shipped training\"); `--no-cache`. Wall and peak are the run's own process "
             "(`wait4`; the peak is the larger of that and every stage's peak, since resetting the counter "
             "between stages resets what `wait4` reads); stage peaks are each stage's own. A tokenizing "
             "worker process, when the run starts one, is not counted (about 0.1 GB: jieba's dictionary "
             "and a chunk of text). Generating the CSV is a separate process.", "", *table(rows, gens), "", *[f"- {g}" for g in growth_lines(rows)],
             *[f"- {a}" for a in auc_lines(rows)]]
    for r in rows:
        if (r["head"], r["users"]) in TARGETS:
            lines.append(f"- {r['head']} at {r['users']:,} users{target_text(r)}; slowest stage: "
                         f"{dominant_stage(r, gens.get(r['users']))}")
    if skipped:
        lines.append("- Not run (would exceed the time budget on this machine): "
                     + ", ".join(f"{h} at {u:,}" for h, u in skipped))
    lines += ["", "![scale curve](scale.png)", END]
    return "\n".join(lines)


def write_results(text: str, path: Path = BENCHMARKS / "RESULTS.md", markers: tuple[str, str] = (START, END)) -> None:
    """Replace the section between the markers, or append it; other content is left alone."""
    old = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n"
    pattern = re.compile(re.escape(markers[0]) + r".*?" + re.escape(markers[1]), re.S)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


def plot(rows: list[dict], path: Path = BENCHMARKS / "scale.png") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
    for head in sorted({head_cell(r) for r in rows}):
        pts = sorted((r["users"], r["wall_s"], r["peak_gb"]) for r in rows if head_cell(r) == head)
        ax_t.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=head)
        ax_m.plot([p[0] for p in pts], [p[2] for p in pts], "o-", label=head)
    for (head, users), (secs, gb) in TARGETS.items():
        ax_t.plot([users], [secs], "x", color="red")
        ax_m.plot([users], [gb], "x", color="red")
    for ax, label in ((ax_t, "wall time (s)"), (ax_m, "peak memory (GB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("users")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="head (x: target)")
    fig.suptitle("TF-IDF + behavior, one split, --no-cache")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def merged(rows: list[dict], gens: dict, path: Path = BENCHMARKS / "scale_rows.json") -> tuple[list[dict], dict]:
    """This run's rows over those saved by earlier runs (same head and size: the new one wins), saved back.

    Lets the curve be measured a few sizes at a time on a machine that cannot run it all at once.
    """
    import json

    saved = json.loads(path.read_text()) if path.is_file() else {"rows": [], "generate": {}}
    def key(r):  # a row trained with the shipped defaults stands beside the capped one, not over it
        return r["head"], r["users"], r.get("training", "capped")

    keep = {key(r): r for r in saved["rows"]}
    keep.update({key(r): r for r in rows})
    all_gens = {int(k): v for k, v in saved["generate"].items()}
    all_gens.update({u: {"seconds": g["seconds"], "peak_gb": g["peak_gb"]} for u, g in gens.items()
                     if g.get("seconds") is not None})
    out = sorted(keep.values(), key=lambda r: (r["users"], r["head"], r.get("training", "capped")))
    for r in out:
        # Resetting the peak counter between stages also resets what wait4 reports at exit,
        # so the run's peak is the larger of that and every stage's own.
        r["peak_gb"] = max([r["peak_gb"], *(s["peak_gb"] for s in r.get("stages", []))])
    path.write_text(json.dumps({"rows": out, "generate": {str(k): v for k, v in sorted(all_gens.items())}}, indent=1))
    return out, all_gens


def write_outputs(rows: list[dict], gens: dict, skipped: list, command: str) -> None:
    rows, gens = merged(rows, gens)
    for line in growth_lines(rows):
        print(line)
    text = section(rows, gens, skipped, command)
    write_results(text)
    if rows:
        plot(rows)
    print(f"wrote {BENCHMARKS / 'RESULTS.md'} and {BENCHMARKS / 'scale.png'}")
