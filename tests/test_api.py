"""The Python API: the same checks, folders and numbers as the command line, returned as objects."""

from __future__ import annotations

import json
import pydoc
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import toolkit
from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from specs import spec_dict
from toolkit.analysis.predict import predict
from toolkit.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_importing_the_package_loads_neither_pandas_nor_tensorflow(tmp_path):
    code = ("import sys, toolkit; toolkit.run; toolkit.compare; "
            "print(sorted(m for m in ('pandas', 'tensorflow', 'torch', 'toolkit.api') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_help_lists_the_api_with_examples():
    import toolkit.bench.harness  # noqa: F401  (as any sweep does: toolkit.bench is now the package)

    text = pydoc.render_doc(toolkit, renderer=pydoc.plaintext)
    for name in ("run(spec", "load_run(path", "compare(paths", ":func:`bench`"):
        assert name in text
    from toolkit import api

    for function in (toolkit.run, toolkit.load_run, toolkit.compare, api.bench):
        assert "Example:" in function.__doc__ and ">>>" in function.__doc__
    assert callable(toolkit.bench) and "Comparison" in type(toolkit.bench).__call__.__doc__
    assert toolkit.Run.__name__ == "Run" and toolkit.ToolkitError.__name__ == "ToolkitError"


def test_a_loaded_run_has_its_figures_as_frames(finished_run):  # noqa: F811
    folder, _ = finished_run
    raw = json.loads((folder / "metrics.json").read_text())
    r = toolkit.load_run(folder)
    metrics = r.metrics.set_index("metric")
    assert list(r.metrics.columns) == ["metric", "mean", "low", "high", "group", "note"]
    assert metrics.loc["roc_auc", "mean"] == raw["metrics"]["roc_auc"]["mean"]
    assert metrics.loc["pr_auc", "high"] == raw["metrics"]["pr_auc"]["ci_high"]
    scores = r.scores
    assert list(scores.columns) == ["user", "repeat", "fold", "score", "label"]
    assert len(scores) == raw["data"]["labelled"] and scores["label"].sum() == raw["data"]["positives"]
    assert set(r.baselines["baseline"]) == set(raw["baselines"])
    assert r.cost == raw["cost"] and r.data["positives"] == raw["data"]["positives"]
    assert r.folder == folder and "analysis" in repr(r)


def test_predict_takes_a_path_or_a_frame_and_matches_the_command(finished_run):  # noqa: F811
    folder, posts = finished_run
    r = toolkit.load_run(folder)
    by_path = r.predict(posts)
    by_frame = r.predict(pd.read_csv(posts, dtype=str, keep_default_na=False))
    expected = predict(folder, posts)
    pd.testing.assert_frame_equal(by_path, expected)
    np.testing.assert_allclose(by_frame["score"].to_numpy(), expected["score"].to_numpy(), rtol=1e-9)


def test_compare_gives_the_numbers_of_the_command_lines_table(finished_run, tmp_path, capsys):  # noqa: F811
    folder, _ = finished_run
    assert main(["compare", str(folder), str(folder.parent.parent / "other-missing")]) == 2  # one bad path: refused
    capsys.readouterr()
    assert main(["compare", str(folder), "--out", str(tmp_path / "cli")]) == 0
    capsys.readouterr()
    expected = pd.read_csv(tmp_path / "cli" / "table.csv")
    table = toolkit.compare([folder]).table
    # table.csv holds every task's columns; the frame those of the run's task, in the same order
    assert [c for c in expected.columns if c in table.columns] == list(table.columns) and len(table) == len(expected)
    assert "c_index" in expected.columns and "c_index" not in table.columns
    numeric = [c for c in table.columns if pd.api.types.is_float_dtype(expected[c])
               and not any(isinstance(v, str) for v in table[c])]  # an empty text reads back as NaN
    assert "roc_auc" in numeric and "delta_roc_auc" in numeric
    np.testing.assert_allclose(table[numeric].to_numpy(dtype=float), expected[numeric].to_numpy(dtype=float),
                               rtol=1e-12, equal_nan=True)


def test_compare_writes_nothing_unless_asked_and_plots_the_front(finished_run, tmp_path):  # noqa: F811
    folder, _ = finished_run
    before = sorted(p.name for p in folder.parent.iterdir())
    comparison = toolkit.compare(folder)
    assert sorted(p.name for p in folder.parent.iterdir()) == before and comparison.folder is None
    figure = comparison.plot()
    assert type(figure).__name__ == "Figure" and figure.axes[0].get_ylabel().startswith("ROC-AUC")
    written = toolkit.compare([folder], out=tmp_path / "cmp")
    assert written.folder == tmp_path / "cmp" and (tmp_path / "cmp" / "table.csv").is_file()


@pytest.mark.parametrize("call, fragment", [
    (lambda tmp: toolkit.load_run(tmp / "nowhere"), "not found"),
    (lambda tmp: toolkit.compare([tmp]), "neither a run folder"),
    (lambda tmp: toolkit.run(spec_dict(head={"type": "nope"}), results_dir=tmp), "Unknown head 'nope'"),
    (lambda tmp: toolkit.run(spec_dict(), set=["training.epochs"], results_dir=tmp), "key.path=value"),
    (lambda tmp: toolkit.run(42, results_dir=tmp), "a path to a YAML spec or a dict"),
    (lambda tmp: toolkit.run(tmp / "missing.yaml", results_dir=tmp), "missing.yaml"),
    (lambda tmp: toolkit.bench(tmp / "sweep.yaml", workers=0), "workers must be an int from 1 to 1024"),
])
def test_mistakes_raise_the_command_lines_error_and_never_exit(tmp_path, call, fragment):
    with pytest.raises(toolkit.ToolkitError, match=None) as caught:
        call(tmp_path)
    assert fragment in str(caught.value)


def test_run_takes_a_dict_and_overrides_and_writes_the_cli_folder(tmp_path):
    raw = spec_dict(name="api", data={"synthetic": {"users": 300, "seed": 3, "positive_rate": 0.2}})
    r = toolkit.run(raw, set={"evaluation.bootstrap": 150, "seed": 4}, results_dir=tmp_path / "results",
                    use_cache=False)
    assert r.folder.parent == tmp_path / "results" / "api" and (r.folder / "spec.yaml").is_file()
    assert r.record.raw["spec_sha256"] and toolkit.load_run(r.folder).metrics.equals(r.metrics)
    spec = (r.folder / "spec.yaml").read_text()
    assert "bootstrap: 150" in spec and "seed: 4" in spec


def test_bench_runs_a_sweep_and_its_table_is_the_written_one(tmp_path):
    import yaml

    from specs import BASE

    (tmp_path / "base.yaml").write_text(yaml.safe_dump({**BASE, "evaluation": {**BASE["evaluation"], "bootstrap": 100}}))
    sweep = {"name": "mini", "base": "base.yaml", "grid": {"head": [{"type": "logreg"}, {"type": "logreg", "C": 0.1}]},
             "baseline": {"head": {"type": "logreg"}}}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    comparison = toolkit.bench(tmp_path / "sweep.yaml", results_dir=tmp_path / "results", cache_dir=str(tmp_path / "c"))
    assert comparison.folder.parent == tmp_path / "results" / "mini" and comparison.failed == []
    written = pd.read_csv(comparison.folder / "table.csv")
    table = comparison.table
    assert list(table["config_id"]) == list(written["config_id"])
    np.testing.assert_allclose(table["roc_auc"].to_numpy(dtype=float), written["roc_auc"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(table["delta_roc_auc"].to_numpy(dtype=float), written["delta_roc_auc"].to_numpy(),
                               rtol=1e-12, equal_nan=True)
    again = toolkit.compare([comparison.folder]).table  # read back from the folder: the same numbers
    np.testing.assert_allclose(again["delta_roc_auc_ci_low"].to_numpy(dtype=float),
                               table["delta_roc_auc_ci_low"].to_numpy(dtype=float), rtol=1e-12, equal_nan=True)
