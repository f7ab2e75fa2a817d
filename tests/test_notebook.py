"""The example notebook runs top to bottom on a small synthetic spec, through the Python API."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def test_the_notebook_is_shipped_small_and_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert NOTEBOOK.stat().st_size < 20_000


def test_the_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # the kernel is a new process: it imports this checkout and uses the tests' private cache
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(NOTEBOOK.parents[1]), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs if o.output_type == "execute_result")
    assert "roc_auc" in text and "delta_roc_auc" in text
    assert [len(list((tmp_path / "results" / name).iterdir())) for name in ("notebook", "notebook-regularized")] == [1, 1]


def _cell_text(output) -> str:
    """Everything an output shows, as text (streams, displays, results, tracebacks)."""
    parts = [output.get("text", ""), *output.get("data", {}).values(), *output.get("traceback", [])]
    return "\n".join(p if isinstance(p, str) else json.dumps(p) for p in parts)


def test_a_run_in_a_kernel_shows_progress_in_place_and_its_warnings_once(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from specs import spec_dict

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(NOTEBOOK.parents[1]), os.environ.get("PYTHONPATH", "")]))
    # no validation part holds 10,000 positives: every fold's threshold falls back, a warning every time
    spec = spec_dict(name="kernel", data={"synthetic": {"users": 300, "seed": 3, "positive_rate": 0.2}},
                     featurizers=[{"type": "behavior"}],
                     evaluation={"cv": {"folds": 3}, "bootstrap": 100, "permutations": 0,
                                 "min_validation_positives": 10_000})
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import json, toolkit\n"
                                  f"spec = json.loads({json.dumps(spec)!r})\n"
                                  f"run = toolkit.run(spec, quiet=False, results_dir={str(tmp_path / 'results')!r})"),
        nbformat.v4.new_code_cell("print(json.dumps(run.warnings))"),
    ]
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    run_cell, listed = nb.cells[0].outputs, nb.cells[1].outputs
    everything = [o for c in nb.cells for o in c.outputs]
    assert not [o for o in everything if o.output_type == "error"], [_cell_text(o) for o in everything]
    texts = [_cell_text(o) for o in everything]
    assert not [t for t in texts if "\x1b" in t or "ipywidgets" in t.lower()]
    assert len(run_cell) <= 30
    (shown,) = [o for o in run_cell if o.output_type == "display_data"]  # one output, updated in place
    progress = shown["data"]["text/plain"]
    assert "folds" in progress and "3/3" in progress and "fold 0.2: roc_auc" in progress
    warned = json.loads(listed[0]["text"])
    assert any("fell back" in w for w in warned)
    stderr = "".join(o.get("text", "") for o in run_cell if o.output_type == "stream" and o.name == "stderr")
    for warning in warned:
        assert stderr.count(f"ToolkitWarning: {warning.removeprefix('warning: ')}") == 1
