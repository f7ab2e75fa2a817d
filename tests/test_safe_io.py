"""The one atomic writer and the sanitizers for terminal, CSV and Markdown."""

import os

import pytest

from toolkit.errors import ToolkitError
from toolkit.safe_io import (append_line, atomic_write, check_inside, open_atomic, remove_path, save_figure,
                             write_frame_csv)
from toolkit.sanitize import for_csv, for_csv_many, for_markdown_cell, for_terminal


def test_atomic_write_replaces_a_planted_link_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "explain.md"
    link.symlink_to(victim)
    atomic_write(link, "new")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "new"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["explain.md"]  # no temporary file left


def test_atomic_write_refuses_a_folder_link_leading_outside_the_root(tmp_path):
    outside = tmp_path / "home"
    outside.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    (run / "explain").symlink_to(outside)
    with pytest.raises(ToolkitError, match="outside"):
        atomic_write(run / "explain" / "explain.md", "x", within=run)
    assert list(outside.iterdir()) == []
    assert check_inside(run / "sub", run) == run.resolve() / "sub"


def test_atomic_write_sets_the_mode_and_removes_the_temporary_file_on_failure(tmp_path):
    atomic_write(tmp_path / "key", b"k", mode=0o600)
    assert (os.stat(tmp_path / "key").st_mode & 0o777) == 0o600
    with pytest.raises(RuntimeError):
        with open_atomic(tmp_path / "big.csv") as fh:
            fh.write(b"half")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]


def test_append_line_refuses_a_link(tmp_path):
    victim = tmp_path / "authorized_keys"
    victim.write_text("")
    (tmp_path / "ledger.jsonl").symlink_to(victim)
    with pytest.raises(ToolkitError, match="symbolic link"):
        append_line(tmp_path / "ledger.jsonl", "{}")
    assert victim.read_text() == ""
    append_line(tmp_path / "real.jsonl", "{}\n")
    append_line(tmp_path / "real.jsonl", "{}")
    assert (tmp_path / "real.jsonl").read_text() == "{}\n{}\n"


@pytest.mark.parametrize("cell, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("user\x1b]0;owned\x07", "user ]0;owned "), ("-0.011", "-0.011"), ("+0.5", "+0.5"), ("1e-3", "1e-3"),
    ("plain", "plain"), (3, 3), (-1.5, -1.5), (None, None),
])
def test_csv_cells_are_neutralised(cell, expected):
    assert for_csv(cell) == expected


def test_terminal_and_markdown_text_carry_no_control_or_syntax():
    assert "\x1b" not in for_terminal("a\x1b]0;title\x07b") and "\x9b" not in for_terminal("\x9b31m")
    cell = for_markdown_cell("normal\n![k](/home/me/.config/toolkit/cache.key)\nx | y")
    assert "\n" not in cell and "![" not in cell and " | " not in cell.replace("\\|", "")


def test_remove_path_removes_a_link_and_never_what_it_points_to(tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "file").write_text("precious")
    (tmp_path / ".c00.partial").symlink_to(kept)
    remove_path(tmp_path / ".c00.partial")
    assert not os.path.lexists(tmp_path / ".c00.partial") and (kept / "file").read_text() == "precious"
    remove_path(kept)
    assert not kept.exists()
    remove_path(kept)  # already gone: nothing to do


def test_frames_and_figures_are_written_through_the_atomic_writer(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    victim = tmp_path / "victim"
    victim.write_text("precious")
    for name in ("t.csv", "f.png"):
        (tmp_path / name).symlink_to(victim)
    write_frame_csv(pd.DataFrame({"a": [1, 2], "b": ["x", "é"]}), tmp_path / "t.csv", index=False)
    fig = plt.figure()
    save_figure(fig, tmp_path / "f.png", dpi=50)
    plt.close(fig)
    assert victim.read_text() == "precious"
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == "a,b\n1,x\n2,é\n"
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "t.csv", "victim"]


def test_for_csv_many_is_for_csv_of_each_cell():
    cells = ["=a", "+1", "-1", "-1+2", "@x", "\tx", "\rx", "a\x1bb", "a\u2028b", "a\u202eb", "12", "-0.5", "",
             None, 3, 2.5, "x y", "中文", "a\xa0b", "'=a", ".5", "-inf"]
    assert for_csv_many(cells) == [for_csv(c) for c in cells]
