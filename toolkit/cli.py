"""Command line: ``python -m toolkit {run,validate,plugins,data}``.

Exit status: 0 on success, 2 on a user error (bad spec, bad data, too few
positives, missing model; printed without a traceback), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toolkit.environment import quiet_backends
from toolkit.errors import ToolkitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m toolkit", description="Retention experiments with cost accounting.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run an experiment spec and write results/<name>/<timestamp>/",
                         description="Run an experiment spec: cross-validated metrics with confidence intervals, "
                                     "compute cost, and a model trained on all data.")
    run.add_argument("spec", help="YAML experiment spec, e.g. experiments/quickstart.yaml")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                     help="override a spec value (YAML), e.g. --set training.epochs=5 --set featurizers.0.max_features=500")
    run.add_argument("--results-dir", default="results", help="where results/<name>/<timestamp>/ goes (default: results)")
    run.add_argument("--cache-dir", default=None, help="where generated synthetic data is kept "
                     "(default: $TOOLKIT_CACHE_DIR or ~/.cache/toolkit)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")

    val = sub.add_parser("validate", help="check a spec, its data and label counts without training",
                         description="Check a spec against the installed plugins, then load its data and check the "
                                     "label counts, without training anything.")
    val.add_argument("spec")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE")
    val.add_argument("--cache-dir", default=None)
    val.add_argument("--spec-only", action="store_true", help="check the spec but do not load the data")

    sub.add_parser("plugins", help="list installed featurizers and heads with their parameters",
                   description="List every installed featurizer and head, its parameters, and where it came from.")

    data = sub.add_parser("data", help="data utilities", description="Data utilities.")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    synth = data_sub.add_parser("synth", help="write a synthetic posts CSV with known retention",
                                description="Write a posts CSV in the public format with a known retention process, "
                                            "and beside it <stem>.truth.csv with each user's true probability.")
    synth.add_argument("--users", type=int, required=True)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--positive-rate", type=float, default=0.1)
    synth.add_argument("--out", required=True, help="CSV file to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    quiet_backends()
    args = build_parser().parse_args(argv)
    from rich.console import Console
    from rich.text import Text

    # markup off: paths, values and messages are printed as they are, brackets included
    console, errors = Console(markup=False, highlight=False), Console(stderr=True, markup=False, highlight=False)
    try:
        return COMMANDS[args.command](args, console)
    except ToolkitError as exc:
        # The message is plain text: square brackets in it (a CSV value, a key) are not styling.
        errors.print(Text.assemble(("error:", "bold red"), " ", str(exc)), highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        errors.print("interrupted: no results were written.")
        return 1


def cmd_run(args, console) -> int:
    from rich.console import Console

    from toolkit.progress import NullProgress, RichProgress
    from toolkit.report import cost_table, metrics_table, run_header
    from toolkit.runner import run
    from toolkit.spec import load_spec

    spec = load_spec(args.spec, args.overrides)
    results = Path(args.results_dir)
    if results.exists() and not results.is_dir():
        raise ToolkitError(f"--results-dir {str(results)!r} is a file; expected a folder (it is created if missing).")
    if args.quiet:
        outcome = run(spec, results_dir=args.results_dir, progress=NullProgress(), cache_dir=args.cache_dir)
    else:
        # Bars and log lines go to stderr, so stdout holds only the tables.
        with RichProgress(Console(stderr=True)) as progress:
            outcome = run(spec, results_dir=args.results_dir, progress=progress, cache_dir=args.cache_dir)
    console.print(run_header(outcome.metrics), highlight=False)
    console.print(metrics_table(outcome.metrics))
    console.print(cost_table(outcome.metrics))
    console.print(f"results: {outcome.folder}")
    return 0


def cmd_validate(args, console) -> int:
    from toolkit.spec import load_spec

    spec = load_spec(args.spec, args.overrides)
    console.print(f"spec {args.spec}: ok ({len(spec.featurizers)} featurizer(s), head {spec.head[0]!r})")
    if not args.spec_only:
        from toolkit.runner import prepare

        prepared = prepare(spec, cache_dir=args.cache_dir)
        r = prepared.report
        console.print(f"data {prepared.source}: {prepared.load.summary()}")
        console.print(f"label: {r.label}")
        console.print(f"users: {r.users} in file, {r.in_cohort} in cohort, {r.censored} censored, "
                      f"{r.positives} positive ({r.positive_rate:.2%}): ok for {spec.evaluation.folds} folds")
    return 0


def cmd_plugins(args, console) -> int:
    from toolkit.params import declared_params
    from toolkit.registry import FEATURIZERS, HEADS
    from toolkit.report import plugins_table

    def describe(cls) -> str:
        parts = []
        for info in declared_params(cls).values():
            default = "required" if info.required else repr(list(info.default) if isinstance(info.default, tuple) else info.default)
            parts.append(f"{info.name}: {info.short_text()} = {default}")
        return "\n".join(parts) or "-"

    console.print(plugins_table("featurizer", FEATURIZERS.entries(), describe))
    console.print(plugins_table("head", HEADS.entries(), describe))
    return 0


def cmd_data(args, console) -> int:
    from toolkit.data.synth import write_synthetic

    out = Path(args.out)
    if out.is_dir() or not out.name:
        raise ToolkitError(f"--out {str(out)!r} is a folder; expected a CSV file path such as data/synth.csv.")
    if out.parent and not out.parent.exists():
        raise ToolkitError(f"--out: folder {str(out.parent)!r} does not exist.")
    path = write_synthetic(out, args.users, args.seed, args.positive_rate)
    console.print(f"wrote {path} and {path.with_name(path.stem + '.truth.csv')}")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "plugins": cmd_plugins, "data": cmd_data}

if __name__ == "__main__":
    sys.exit(main())
