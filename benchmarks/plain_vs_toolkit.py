"""``toolkit run`` against the plain script, side by side, on the same data and split.

    python benchmarks/plain_vs_toolkit.py [--users 30000] [--repeats 2]

Both are started as fresh processes (imports included on both sides), in
alternation, and each keeps its best wall time, so a burst of load from other
processes slows one attempt of each rather than one side. Same work: TF-IDF +
behavior, the MLP, one stratified split (test fraction 0.2, seed 0), the same
epochs and batch size, then a final model on all users, saved. Target: the
toolkit at most 1.15x the script's time. The figures go into the scale section
of ``benchmarks/RESULTS.md`` (``--no-record`` to leave it alone).
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGET = 1.15


def main(argv=None) -> dict:
    import yaml

    from scale.run import measured
    from scale.data import spec_mapping
    from toolkit.data.synth import ensure_synthetic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--data-dir", default=str(HERE / ".data"))
    args = parser.parse_args(argv)
    data = ensure_synthetic(args.users, 0, 0.1, cache_dir=args.data_dir)
    best = {"script": float("inf"), "toolkit": float("inf")}
    peaks, script_out = {}, ""
    with tempfile.TemporaryDirectory(prefix="toolkit-plain-") as work:
        spec = Path(work) / "spec.yaml"
        spec.write_text(yaml.safe_dump(spec_mapping("plain_vs_toolkit", data, "mlp", epochs=args.epochs,
                                                    batch_size=args.batch_size)))
        commands = {
            "script": [sys.executable, str(HERE / "plain_script.py"), str(data), "--epochs", str(args.epochs),
                       "--batch-size", str(args.batch_size)],
            "toolkit": [sys.executable, "-m", "toolkit", "run", str(spec), "--no-cache", "--quiet",
                        "--results-dir", str(Path(work) / "results")],
        }
        for _ in range(args.repeats):
            for side, cmd in commands.items():
                wall, peak, out = measured(cmd)
                best[side] = min(best[side], wall)
                peaks[side] = peak
                script_out = out if side == "script" else script_out
    ratio = best["toolkit"] / best["script"]
    script = ast.literal_eval(script_out.strip().splitlines()[-1])
    print(f"{args.users:,} users, MLP, {args.epochs} epochs, batch {args.batch_size}: plain script "
          f"{best['script']:.1f} s ({peaks['script']:.2f} GB, ROC-AUC {script['roc_auc']:.3f}), toolkit run "
          f"{best['toolkit']:.1f} s ({peaks['toolkit']:.2f} GB); toolkit / script = {ratio:.2f} "
          f"(target <= {TARGET}: {'met' if ratio <= TARGET else 'MISSED'})")
    return {"users": args.users, "script_s": best["script"], "toolkit_s": best["toolkit"], "ratio": ratio,
            "script_gb": peaks["script"], "toolkit_gb": peaks["toolkit"]}


if __name__ == "__main__":
    main()
