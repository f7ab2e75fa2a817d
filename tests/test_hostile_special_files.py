"""Special files as inputs and outputs: named pipes, character devices, descriptors, links to them.

A regular output file (or a new path) is replaced atomically; anything else the user names with
``--out`` (a FIFO, ``/dev/null``, ``/dev/stdout``) is written to in place and never replaced. A
reader never opens what is not a regular file: it says what the path is instead of hanging or
calling it missing. Devices are reached through a link in a temporary folder (or a FIFO standing
in for one), so a failing case cannot replace the machine's own ``/dev/null``.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from hostile import REPO, assert_refused, toolkit, write_yaml
from specs import spec_dict
from toolkit.errors import ToolkitError
from toolkit.safe_io import describe_path, open_regular, output_target, read_regular, write_output


class Drain(threading.Thread):
    """A reader at the other end of a FIFO, so that a writer's open does not block for ever."""

    def __init__(self, fifo: Path):
        super().__init__(daemon=True)
        self.fifo, self.data = fifo, b""
        self.start()

    def run(self):
        with open(self.fifo, "rb") as fh:
            self.data = fh.read()


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_write_output_streams_into_a_fifo_without_replacing_it(tmp_path):
    pipe = fifo(tmp_path / "out.fifo")
    reader = Drain(pipe)
    target = write_output(pipe, "a,b\n1,2\n")
    reader.join(10)
    assert target.stream and reader.data == b"a,b\n1,2\n"
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)


def test_a_link_to_dev_null_is_written_through_and_stays_a_link(tmp_path):
    link = tmp_path / "sink"
    link.symlink_to("/dev/null")
    write_output(link, b"x" * 10_000)
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_regular_file_is_still_replaced_atomically(tmp_path):
    out = tmp_path / "scores.csv"
    out.write_text("old")
    target = write_output(out, "new")
    assert not target.stream and out.read_text() == "new"


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p.mkdir(), "folder"),
    (lambda p: __import__("socket").socket(__import__("socket").AF_UNIX).bind(str(p)), "socket"),
])
def test_outputs_that_cannot_be_written_are_refused_naming_what_they_are(tmp_path, make, fragment):
    path = tmp_path / "out"
    make(path)
    with pytest.raises(ToolkitError, match=fragment):
        output_target(path)


@pytest.mark.parametrize("make, fragment", [
    (lambda p: os.mkfifo(p), "named pipe (FIFO)"),
    (lambda p: p.symlink_to("/dev/zero"), "character device"),
    (lambda p: p.mkdir(), "folder"),
])
def test_reading_a_special_file_names_what_it_is_and_never_blocks(tmp_path, make, fragment):
    path = tmp_path / "metrics.json"
    make(path)
    assert fragment in describe_path(path)
    with pytest.raises(ToolkitError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_regular(path, 1024, "metrics")
    with pytest.raises(ToolkitError):
        open_regular(path, "metrics")


def test_a_missing_path_is_still_called_missing(tmp_path):
    assert "does not exist" in describe_path(tmp_path / "nope")


# -- the command line --------------------------------------------------------------------------


def test_data_synth_into_a_fifo_streams_and_writes_no_truth_beside_it(tmp_path):
    pipe = fifo(tmp_path / "posts.fifo")
    reader = Drain(pipe)
    result = toolkit("data", "synth", "--users", "60", "--out", str(pipe), cwd=tmp_path)
    reader.join(30)
    assert result.rc == 0, result.text
    assert reader.data.startswith(b"user_id") or b"user_id" in reader.data[:200]
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posts.fifo"], "a truth sidecar was written beside it"


def test_data_synth_to_a_link_to_dev_null_keeps_the_link_and_writes_no_sidecar(tmp_path):
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    result = toolkit("data", "synth", "--users", "60", "--out", str(link), cwd=tmp_path)
    assert result.rc == 0, result.text
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["null"]
    assert not Path("/dev/null.truth.csv").exists()


def test_data_synth_to_dev_stdout_prints_the_csv(tmp_path):
    done = subprocess.run([sys.executable, "-m", "toolkit", "data", "synth", "--users", "60", "--out",
                           "/dev/stdout"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"user_id" in done.stdout and done.stdout.count(b"\n") > 60


def test_predict_into_a_fifo_streams_the_scores(finished_run, tmp_path):  # noqa: F811
    folder, posts = finished_run
    pipe = fifo(tmp_path / "scores.fifo")
    reader = Drain(pipe)
    result = toolkit("predict", str(folder), str(posts), "--out", str(pipe), cwd=tmp_path, timeout=300)
    reader.join(30)
    assert result.rc == 0, result.text
    assert reader.data.splitlines()[0].startswith(b"user_id")
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)


def test_predict_out_to_a_folder_is_refused_before_work(finished_run, tmp_path):  # noqa: F811
    folder, posts = finished_run
    (tmp_path / "here").mkdir()
    result = toolkit("predict", str(folder), str(posts), "--out", str(tmp_path / "here"), cwd=tmp_path)
    assert_refused(result, 2, "--out", "folder")


def test_a_fifo_metrics_json_in_a_received_run_does_not_hang_compare(finished_run, tmp_path):  # noqa: F811
    folder, _ = finished_run
    copy = tmp_path / "received"
    shutil.copytree(folder, copy)
    (copy / "metrics.json").unlink()
    os.mkfifo(copy / "metrics.json")
    result = toolkit("compare", str(copy), "--out", str(tmp_path / "cmp"), cwd=tmp_path, timeout=60)
    assert_refused(result, 2, "metrics.json", "named pipe")


def test_load_run_on_a_fifo_metrics_json_raises_a_toolkit_error(finished_run, tmp_path):  # noqa: F811
    import toolkit as tk

    folder, _ = finished_run
    copy = tmp_path / "received"
    shutil.copytree(folder, copy)
    (copy / "metrics.json").unlink()
    os.mkfifo(copy / "metrics.json")
    with pytest.raises(ToolkitError, match="named pipe"):
        tk.load_run(copy)


@pytest.mark.parametrize("make, fragment", [
    (lambda p: os.mkfifo(p), "named pipe"),
    (lambda p: p.symlink_to("/dev/zero"), "character device"),
])
def test_a_special_file_as_data_path_is_named_not_called_missing(tmp_path, make, fragment):
    data = tmp_path / "posts.csv"
    make(data)
    spec = tmp_path / "spec.yaml"
    write_yaml(spec, spec_dict(data={"path": str(data)}))
    result = toolkit("validate", str(spec), cwd=tmp_path, timeout=60)
    assert_refused(result, 2, "posts.csv", fragment)
    assert "not found" not in result.err and "does not exist" not in result.err


def test_a_full_disk_during_a_write_names_the_file_not_the_temporary(tmp_path, monkeypatch):
    import errno

    from toolkit.errors import describe_os_error
    from toolkit.safe_io import atomic_write

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")  # as a real fsync reports it: no file named

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "metrics.json"
    with pytest.raises(OSError) as info:
        atomic_write(target, "{}", fsync=True)
    line = describe_os_error(info.value)
    assert str(target) in line and "the disk is full [ENOSPC]" in line and ".tmp" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "the temporary file was left behind"
