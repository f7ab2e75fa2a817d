"""Hostile dates and headers: day-first dates, skipped rows said first, ids merged by spaces, headers
that are not CSV headers, other delimiters, CR-only files, and the limits that must agree."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

from hostile import REPO, assert_refused, toolkit, tree, write_yaml
from specs import spec_dict
from test_cli_errors import csv_spec, csv_text, few_positive_rows, good_rows, post_row, write_csv
from toolkit.analysis.eda.run import MAX_TOPICS, run_eda
from toolkit.data.posts import DataWarning, load_posts
from toolkit.errors import ToolkitError
from toolkit.experiment.run_folder import MAX_NAME, check_folder_name
from toolkit.experiment.spec import NAME, parse_spec


def day_first(rows: list[dict]) -> list[dict]:
    """The same posts with every ``M/D/YYYY`` written ``D/M/YYYY``."""
    out = []
    for row in rows:
        month, day, rest = re.fullmatch(r"(\d+)/(\d+)/(.*)", row["create_time"]).groups()
        out.append({**row, "create_time": f"{day}/{month}/{rest}"})
    return out


@pytest.fixture
def day_first_csv(tmp_path) -> Path:
    """Twelve January users and their February returns, dated day-first (``13/1/2025`` from line 9 on)."""
    return write_csv(tmp_path, day_first(few_positive_rows()))


@pytest.mark.parametrize("on_bad_rows", ["error", "skip"])
def test_day_first_dates_are_refused_naming_the_rows_and_the_fix(tmp_path, day_first_csv, on_bad_rows):
    write_yaml(tmp_path / "spec.yaml", csv_spec(data={"path": "posts.csv", "on_bad_rows": on_bad_rows}))
    result = toolkit("validate", "spec.yaml", cwd=tmp_path)
    # under skip the old loader dropped days 13-31 and read the rest with day and month swapped
    assert_refused(result, 2, "not all month-first", "line 9 '13/1/2025 13:35'", "line 10 '15/1/2025 14:42'",
                   "and 9 more rows can only be day/month/year", "data.date_format: day_first", "month_first")
    assert tree(tmp_path) == ["posts.csv", "spec.yaml"]


def test_rows_that_disagree_both_ways_are_quoted_both_ways(tmp_path):
    rows = good_rows() + [post_row(3, "14/1/2025 9:46", 3)]  # good_rows' 1/14 and 1/15 can only be month-first
    with pytest.raises(ToolkitError) as info:
        load_posts(write_csv(tmp_path, rows), on_bad_rows="skip")
    message = str(info.value)
    assert "line 6 '14/1/2025 9:46'" in message and "line 2 '1/14/2025 12:08'" in message
    assert "can only be month/day/year" in message


@pytest.mark.parametrize("date_format", ["day_first", "%d/%m/%Y %H:%M"])
def test_a_declared_order_reads_day_first_dates_right(tmp_path, day_first_csv, date_format):
    month_first, _ = load_posts(write_csv(tmp_path, few_positive_rows(), name="mdy.csv"))
    posts, report = load_posts(day_first_csv, date_format=date_format)
    assert report.rows_skipped == 0
    assert posts["create_time"].tolist() == month_first["create_time"].tolist()
    assert posts["create_time"].min() == pd.Timestamp("2024-12-28 10:00")
    spec = parse_spec(csv_spec(data={"path": str(day_first_csv), "date_format": date_format}))
    assert spec.data.load_options()["date_format"] == date_format


def test_month_first_declared_makes_day_first_rows_bad_rows(tmp_path):
    path = write_csv(tmp_path, good_rows() + [post_row(3, "14/1/2025 9:46", 3)])
    with pytest.raises(ToolkitError, match=r"line 6, column 'create_time'.*month must be in 1\.\.12"):
        load_posts(path, date_format="month_first")
    with pytest.warns(DataWarning, match="skipped 1 of 4 rows"):
        posts, _ = load_posts(path, date_format="month_first", on_bad_rows="skip")
    assert len(posts) == 3


def test_a_pattern_reads_its_form_and_still_takes_epoch_and_iso(tmp_path):
    rows = [post_row(0, "14.01.2025 12:08", 0), post_row(1, "1736856480", 1), post_row(2, "2025-01-14T12:08:00", 2)]
    posts, _ = load_posts(write_csv(tmp_path, rows), date_format="%d.%m.%Y %H:%M")
    assert set(posts["create_time"]) == {pd.Timestamp("2025-01-14 12:08")}


@pytest.mark.parametrize("value, fragment", [
    ("%d/%m", "no directive for a year"),
    ("%m/%Y %H:%M", "no directive for a day"),
    ("daily", "no directive for a day or a month or a year"),
    ("%d/%m/%Y %z", "a zone (%z, %Z) is not read"),
    ("%d/%m/%Y %Q", "'Q' is a bad directive"),
    (5, "Got 5 instead"),
])
def test_a_bad_date_format_is_refused_before_any_work(tmp_path, value, fragment):
    write_yaml(tmp_path / "spec.yaml", csv_spec("missing.csv", data={"path": "missing.csv", "date_format": value}))
    result = toolkit("validate", "spec.yaml", "--spec-only", cwd=tmp_path)
    assert_refused(result, 2, "data.date_format", fragment)


def test_dates_that_read_both_ways_are_read_month_first_with_one_warning(tmp_path):
    rows = [post_row(0, "1/2/2025 12:08", 0), post_row(1, "1/3/2025 9:00", 1), post_row(2, "2/2/2025 9:00", 2)]
    path = write_csv(tmp_path, rows)
    with pytest.warns(DataWarning, match=r"line 2 '1/2/2025 12:08'.*read month-first.*data.date_format: day_first"):
        posts, report = load_posts(path)
    assert posts["create_time"].min() == pd.Timestamp("2025-01-02 12:08")
    assert "date_format" in report.summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a declared order is not doubted
        load_posts(path, date_format="month_first")


def test_skipped_rows_are_said_first_even_when_the_command_then_fails(tmp_path):
    rows = few_positive_rows()
    rows[1]["like_count"] = "lots"
    write_csv(tmp_path, rows)
    write_yaml(tmp_path / "spec.yaml", csv_spec(data={"path": "posts.csv", "on_bad_rows": "skip"}))
    result = toolkit("validate", "spec.yaml", cwd=tmp_path)
    assert_refused(result, 2, "Too few positives")  # the old command said nothing of the skipped row
    lines = result.err.splitlines()
    skipped = next(i for i, line in enumerate(lines) if "skipped 1 of 20 rows" in line)
    assert "first: line 3: like_count 'lots' (unparseable like_count)" in lines[skipped]
    assert skipped < next(i for i, line in enumerate(lines) if line.startswith("error:"))


def test_the_skip_report_quotes_the_first_rows_in_file_order(tmp_path):
    rows = good_rows() + [post_row(3, "1/15/2025 7:02", 3, likes="x"), post_row(4, "someday", 4),
                          post_row(5, "1/15/2025 7:02", 5, likes="y"), post_row(6, "1/15/2025 7:02", 6, likes="z")]
    with pytest.warns(DataWarning) as caught:
        _, report = load_posts(write_csv(tmp_path, rows), on_bad_rows="skip")
    assert report.skipped_first == ["line 6: like_count 'x' (unparseable like_count)",
                                    "line 7: create_time 'someday' (unparseable create_time)",
                                    "line 8: like_count 'y' (unparseable like_count)"]
    assert "skipped 4 of 7 rows" in str(caught[0].message) and "line 9" not in str(caught[0].message)


def test_ids_that_differ_only_in_spaces_are_reported_when_they_merge(tmp_path):
    rows = good_rows() + [post_row(3, "1/15/2025 7:02", 3), post_row(4, "1/15/2025 7:02", 4)]
    rows[3]["user_id"] = rows[0]["user_id"] + " "
    rows[4]["user_id"] = "  " + rows[1]["user_id"]
    with pytest.warns(DataWarning, match=r"user_id: 2 id\(s\) are written in forms that differ only in surrounding "
                                         rf"spaces \(e\.g\. '{rows[0]['user_id']}' and '{rows[0]['user_id']} '\)"):
        posts, report = load_posts(write_csv(tmp_path, rows))
    assert posts["user_id"].nunique() == 3 and "surrounding spaces" in report.summary()
    alone = good_rows()
    alone[0]["user_id"] += " "  # padded but never merged with another form: nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_posts(write_csv(tmp_path, alone, name="alone.csv"))


def test_a_missing_column_shows_a_bounded_header(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"column_{i}" for i in range(200_000)) + "\n" + ",".join("x" * 200_000) + "\n")
    with pytest.raises(ToolkitError) as info:
        load_posts(path)
    message = str(info.value)
    assert len(message) < 800, len(message)
    assert "found 200,000 column(s): 'column_0'" in message and "'column_19' and 199,980 more" in message
    long_name = tmp_path / "long.csv"
    long_name.write_text("n" * 5000 + ",b\n1,2\n")
    with pytest.raises(ToolkitError) as info:
        load_posts(long_name)
    assert len(str(info.value)) < 400 and "n" * 39 + "…'" in str(info.value)


def test_a_file_that_is_not_text_never_has_its_contents_echoed(tmp_path):
    secret = "hunter2-" + "s3cr3t" * 4
    write_yaml(tmp_path / "spec.yaml", csv_spec())
    result = toolkit("validate", "spec.yaml", "--set", "data.path=/proc/self/environ", cwd=tmp_path,
                     env={"TOOLKIT_TEST_SECRET": secret})
    assert_refused(result, 2, "/environ has no column", "holding control characters (not shown)")
    assert secret not in result.text and "TOOLKIT_TEST_SECRET" not in result.text
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00IHDR,user_id_like\n1,2\n")
    with pytest.raises(ToolkitError, match=r"not shown\), which is not a CSV header") as info:
        load_posts(binary)
    assert "IHDR" not in str(info.value) and "map it in the spec" not in str(info.value)


def test_a_cr_only_file_is_read_like_the_same_file_with_newlines(tmp_path):
    text = csv_text(good_rows())  # a post's content spans two lines
    (tmp_path / "lf.csv").write_bytes(text.encode("utf-8-sig"))
    (tmp_path / "cr.csv").write_bytes(text.replace("\n", "\r").encode("utf-8-sig"))
    lf, _ = load_posts(tmp_path / "lf.csv")
    cr, report = load_posts(tmp_path / "cr.csv")
    assert report.rows_read == 3
    pd.testing.assert_frame_equal(cr.assign(content=cr["content"].str.replace("\r", "\n")), lf)


@pytest.mark.parametrize("delimiter, shown", [(";", "';'"), ("\t", '"\\t"'), ("|", "'|'")])
def test_another_delimiter_is_named_and_can_be_set(tmp_path, delimiter, shown):
    text = csv_text(good_rows()).replace(",", delimiter)  # no field of good_rows holds a comma
    (tmp_path / "posts.csv").write_text(text, encoding="utf-8")
    write_yaml(tmp_path / "spec.yaml", csv_spec())
    result = toolkit("validate", "spec.yaml", cwd=tmp_path)
    assert_refused(result, 2, "has no column for 'user_id'", f"seems to be separated by {shown}",
                   f"set data.delimiter: {shown}")
    posts, _ = load_posts(tmp_path / "posts.csv", delimiter=delimiter)
    comma, _ = load_posts(write_csv(tmp_path, good_rows(), name="comma.csv"))
    pd.testing.assert_frame_equal(posts, comma)
    assert parse_spec(csv_spec(data={"path": "p.csv", "delimiter": delimiter})).data.delimiter == delimiter


@pytest.mark.parametrize("value", ["ab", "", "x", '"', "\n"])
def test_a_bad_delimiter_is_refused(value):
    with pytest.raises(ToolkitError, match=r"data.delimiter must be one character .* Got .* instead"):
        parse_spec(csv_spec(data={"path": "p.csv", "delimiter": value}))


@pytest.mark.parametrize("topics", ["0", "101", "100000000000000000000"])
def test_eda_topics_out_of_range_is_refused(tmp_path, topics):
    # the old command clamped 10**20 to the 257 topics the data allowed, and said nothing
    result = toolkit("eda", "missing.csv", "--topics", topics, "--results-dir", "r", cwd=tmp_path)
    assert_refused(result, 2, f"--topics must be an int from 1 to {MAX_TOPICS}")
    assert tree(tmp_path) == []
    with pytest.raises(ToolkitError, match=r"--topics must be an int from 1 to 100 .*Got 1e\+20 instead"):
        run_eda(tmp_path / "missing.csv", results_dir=tmp_path / "r", n_topics=1e20)


def test_the_name_limit_is_one_number_in_the_code_and_the_readme():
    readme = (REPO / "docs" / "trust-and-safety.md").read_text(encoding="utf-8")  # moved there from README.md
    stated = re.search(r"\*\*Folder names\*\*.*?be at most (\d+)\s+characters", readme, re.S)
    assert stated and int(stated.group(1)) == MAX_NAME == NAME.max_length
    ok = "n" * MAX_NAME
    assert parse_spec(spec_dict(name=ok)).name == ok and check_folder_name(ok) == ok
    with pytest.raises(ToolkitError, match=f"at most {MAX_NAME} characters"):
        parse_spec(spec_dict(name=ok + "n"))
    with pytest.raises(ToolkitError, match=f"expected at most {MAX_NAME}"):
        check_folder_name(ok + "n")
