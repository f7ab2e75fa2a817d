"""Races: runs and sweeps started in the same second each get their own folder, atomically."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from hostile import toolkit, tree
from specs import BASE
from toolkit.experiment.run_folder import ResultsFolder, reserve_folder


def test_runs_started_in_the_same_second_never_share_or_clobber_a_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("toolkit.experiment.run_folder.time.strftime", lambda fmt: "20250101-120000")
    barrier = threading.Barrier(8)

    def one_run(i: int) -> str:
        with ResultsFolder(tmp_path, "t") as out:
            barrier.wait()  # all eight hold a reservation at once
            out.write_text("who.txt", str(i))
        return out.final.name

    with ThreadPoolExecutor(8) as pool:
        finals = list(pool.map(one_run, range(8)))
    assert sorted(finals) == sorted(["20250101-120000"] + [f"20250101-120000-{k}" for k in range(2, 9)])
    assert sorted((tmp_path / "t" / f / "who.txt").read_text() for f in finals) == [str(i) for i in range(8)]
    assert not [p for p in tree(tmp_path) if "partial" in p]


def test_a_folder_published_meanwhile_is_not_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr("toolkit.experiment.run_folder.time.strftime", lambda fmt: "20250101-120000")
    with ResultsFolder(tmp_path, "t") as out:
        out.write_text("mine.txt", "late")
        (tmp_path / "t" / "20250101-120000").mkdir()  # another run published under the hoped-for name
        (tmp_path / "t" / "20250101-120000" / "metrics.json").write_text("{}")
    assert out.final.name == "20250101-120000-2"
    assert (tmp_path / "t" / "20250101-120000" / "metrics.json").read_text() == "{}"


def test_sweep_folders_are_reserved_atomically(tmp_path):
    made = [reserve_folder(tmp_path / "mini", "20250101-120000")[1] for _ in range(3)]
    assert [p.name for p in made] == ["20250101-120000", "20250101-120000-2", "20250101-120000-3"]


@pytest.mark.slow
def test_two_real_runs_of_one_spec_at_once_both_succeed(tmp_path):
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(BASE))
    args = ("run", "spec.yaml", "--quiet", "--results-dir", "r", "--cache-dir", "c")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: toolkit(*args, cwd=tmp_path, timeout=400), range(2)))
    for result in results:
        assert result.rc == 0 and "Traceback" not in result.text, result.text
    folders = sorted(p.name for p in (tmp_path / "r" / "t").iterdir())
    assert len(folders) == 2 and all((tmp_path / "r" / "t" / f / "metrics.json").is_file() for f in folders)
