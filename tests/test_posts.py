import pandas as pd
import pytest

from toolkit.data.posts import LoadReport, load_posts
from toolkit.data.schema import COUNT_COLUMNS, LOWER_BOUND_COLUMNS
from toolkit.errors import ToolkitError

HEADER = ("title,content,address,label,user_name,user_id,like_count,collect_count,comment_count,"
          "share_count,create_time,post_id,ip_localtion,post_image,post_type")
U1, U2, U3 = "a1" * 12, "b2" * 12, "c3" * 12


def row(title, content, user, counts, time, post, kind="normal", name="otter_fan", label="tiktok#tiktokrefugee"):
    return ",".join([title, content, f"https://www.xiaohongshu.com/user/profile/{user}?xsec_source=pc_note",
                     label, name, user, *counts, time, post, "U.S.", f"https://img.example.com/{post}.jpg", kind])


# Invented posts with the crawl's quirks. Physical lines: 1 header, 2-4 the
# first record (three lines of quoted content), 5 the second, 6-7 the third.
RECORDS = [
    row("Hello from Ohio", '"hi everyone 👋\nfirst post here\n#tiktok[话题]# #tiktokrefugee[话题]#"', U1,
        ["3829", "7.6万", "1万+", "0"], "1/14/2025 12:08", "p" * 24, kind="Video"),
    row("", "学中文第一天，请多指教 🀄", U2, ["1.4万", "1千+", "10+", "99+"], "1/15/2025 9:05", "q" * 24,
        name="小红薯1A2B3C4D", label="learnchinese#学中文"),
    row('"Dumplings, finally"', '"made them myself 🥟\n好吃！"', U1, ["12", "", "3", "0"], "2/1/2025 23:59",
        "r" * 24),
]
GOOD = "\n".join([HEADER, *RECORDS]) + "\n"


def write(tmp_path, text, name="posts.csv", bom=True):
    path = tmp_path / name
    path.write_bytes((("\ufeff" if bom else "") + text).encode("utf-8"))
    return path


def test_loads_public_format(tmp_path):
    posts, report = load_posts(write(tmp_path, GOOD))
    assert list(posts.columns) == ["post_id", "user_id", "user_name", "title", "content", "hashtags",
                                   *COUNT_COLUMNS, *LOWER_BOUND_COLUMNS.values(), "create_time", "post_type",
                                   "ip_location"]
    assert posts["post_id"].tolist() == ["p" * 24, "q" * 24, "r" * 24]
    assert posts["like_count"].tolist() == [3829.0, 14000.0, 12.0]
    assert posts["collect_count"].tolist() == [76000.0, 1000.0, 0.0]
    assert posts["comment_count"].tolist() == [10000.0, 10.0, 3.0]
    assert posts["share_count"].tolist() == [0.0, 99.0, 0.0]
    assert posts["like_lb"].tolist() == [False, False, False]
    assert posts["collect_lb"].tolist() == [False, True, False]
    assert posts["comment_lb"].tolist() == [True, True, False]
    assert posts["share_lb"].tolist() == [False, True, False]
    assert posts["like_count"].dtype == float and posts["like_lb"].dtype == bool
    assert posts["title"].tolist() == ["Hello from Ohio", "", "Dumplings, finally"]
    assert posts["content"][0] == "hi everyone 👋\nfirst post here\n#tiktok[话题]# #tiktokrefugee[话题]#"
    assert posts["content"][1] == "学中文第一天，请多指教 🀄"
    assert posts["hashtags"][1] == "learnchinese#学中文"
    assert posts["user_name"][1] == "小红薯1A2B3C4D"
    assert posts["post_type"].tolist() == ["video", "normal", "normal"]
    assert posts["ip_location"].tolist() == ["U.S."] * 3
    assert posts["create_time"].tolist() == [pd.Timestamp("2025-01-14 12:08"), pd.Timestamp("2025-01-15 09:05"),
                                             pd.Timestamp("2025-02-01 23:59")]
    assert (report.rows_read, report.rows_kept, report.rows_skipped, report.duplicates_dropped) == (3, 3, 0, 0)
    assert "kept 3" in report.summary()


def test_bom_is_optional_and_crlf_is_fine(tmp_path):
    with_bom, _ = load_posts(write(tmp_path, GOOD, "a.csv"))
    without, _ = load_posts(write(tmp_path, GOOD, "b.csv", bom=False))
    crlf, _ = load_posts(write(tmp_path, GOOD.replace("\n", "\r\n"), "c.csv"))
    pd.testing.assert_frame_equal(with_bom, without)
    assert crlf["title"].tolist() == with_bom["title"].tolist()
    assert crlf["like_count"].tolist() == with_bom["like_count"].tolist()


def test_mapped_crawl_variant_with_epoch_ms_and_missing_optional_columns(tmp_path):
    text = ("note_id,user_id,nickname,desc,liked_count,time,type\n"
            'n1,u1,Kit,"cat tax 🐱\npaid",1.2w,1736856480000,video\n'
            "n2,u2,Bo,,5,1736942880000,normal\n")
    mapping = {"post_id": "note_id", "user_name": "nickname", "content": "desc", "like_count": "liked_count",
               "create_time": "time", "post_type": "type"}
    posts, report = load_posts(write(tmp_path, text), columns=mapping)
    assert posts["post_id"].tolist() == ["n1", "n2"]
    assert posts["content"].tolist() == ["cat tax 🐱\npaid", ""]
    assert posts["like_count"].tolist() == [12000.0, 5.0]
    assert posts["create_time"].tolist() == [pd.Timestamp("2025-01-14 12:08"), pd.Timestamp("2025-01-15 12:08")]
    # Columns the file lacks get their defaults.
    assert posts["title"].tolist() == ["", ""] and posts["hashtags"].tolist() == ["", ""]
    assert posts["ip_location"].tolist() == ["", ""]
    assert posts["collect_count"].tolist() == [0.0, 0.0] and not posts["collect_lb"].any()
    assert report.rows_kept == 2


def test_missing_post_id_column_generates_ids(tmp_path):
    text = "user_id,create_time,post_type\nu1,1/14/2025 12:08,\nu1,1/14/2025 13:08,\n"
    posts, _ = load_posts(write(tmp_path, text))
    assert posts["post_id"].is_unique and posts["post_id"].tolist() == ["row-1", "row-2"]
    assert posts["post_type"].tolist() == ["", ""]


def test_bad_value_error_names_file_line_column_value(tmp_path):
    bad = row("oops", "fine", U3, ["lots", "1", "1", "1"], "1/16/2025 8:00", "s" * 24)
    path = write(tmp_path, GOOD + bad + "\n")
    with pytest.raises(ToolkitError) as info:
        load_posts(path)
    message = str(info.value)
    # Header is line 1; the three records take lines 2-4, 5 and 6-7.
    assert str(path) in message and "line 8" in message
    assert "'like_count'" in message and "'lots'" in message
    assert "data.on_bad_rows: skip" in message


def test_bad_time_in_mapped_column_names_file_column(tmp_path):
    text = 'user_id,time,desc\nu1,1736856480000,"two\nlines"\nu2,next tuesday,x\n'
    with pytest.raises(ToolkitError) as info:
        load_posts(write(tmp_path, text), columns={"create_time": "time", "content": "desc"})
    message = str(info.value)
    assert "line 4" in message and "'time'" in message and "'next tuesday'" in message
    assert "M/D/YYYY H:MM" in message


def test_earliest_bad_row_is_reported(tmp_path):
    text = "user_id,create_time,like_count\nu1,1/14/2025 12:08,1\nu2,1/14/2025 12:08,1,extra\nu3,never,x\n"
    with pytest.raises(ToolkitError, match=r"line 3.*expected 3 fields.*found 4"):
        load_posts(write(tmp_path, text))


def test_skip_mode_counts_reasons(tmp_path):
    rows = [
        row("a", "ok", U1, ["1", "1", "1", "1"], "1/14/2025 12:08", "1" * 24),
        row("b", "bad like", U1, ["many", "1", "1", "1"], "1/14/2025 12:08", "2" * 24),
        row("c", "bad time", U2, ["1", "1", "1", "1"], "14.01.2025", "3" * 24),
        row("d", "no user", "", ["1", "1", "1", "1"], "1/14/2025 12:08", "4" * 24),
        row("e", "both bad", U2, ["1", "1", "?", "1"], "never", "5" * 24),
        "too,few,fields",
        row("f", "dupe", U3, ["2", "1", "1", "1"], "1/14/2025 12:08", "1" * 24),
        "",
        row("g", "ok", U3, ["3", "1", "1", "1"], "1/14/2025 12:08", "6" * 24),
    ]
    posts, report = load_posts(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"), on_bad_rows="skip")
    assert posts["post_id"].tolist() == ["1" * 24, "6" * 24]
    assert posts["like_count"].tolist() == [1.0, 3.0]  # the first of the duplicate ids is kept
    assert isinstance(report, LoadReport)
    assert report.rows_read == 8 and report.rows_skipped == 5 and report.duplicates_dropped == 1
    assert report.rows_kept == 2
    assert report.skip_reasons == {
        "unparseable like_count": 1, "unparseable create_time": 1, "empty user_id": 1,
        "unparseable comment_count": 1, "wrong number of fields": 1,
    }
    summary = report.summary()
    assert "skipped 5" in summary and "1 duplicate" in summary


def test_all_rows_bad_is_an_error_even_when_skipping(tmp_path):
    text = "user_id,create_time\nu1,soon\n,1/14/2025 12:08\n"
    with pytest.raises(ToolkitError, match="all 2 rows are bad"):
        load_posts(write(tmp_path, text), on_bad_rows="skip")


def test_missing_required_column_message(tmp_path):
    path = write(tmp_path, "user_id,posted_at\nu1,1/14/2025 12:08\n")
    with pytest.raises(ToolkitError) as info:
        load_posts(path)
    message = str(info.value)
    assert str(path) in message and "'create_time'" in message
    assert "'posted_at'" in message and "data.columns" in message
    with pytest.raises(ToolkitError, match="'when'"):
        load_posts(path, columns={"create_time": "when"})


def test_not_utf8_says_where(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("user_id,create_time\nu1,1/14/2025 12:08\n".encode() + "u2,学中文".encode("gbk") + b"\n")
    with pytest.raises(ToolkitError) as info:
        load_posts(path)
    message = str(info.value)
    assert "UTF-8" in message and "line 3" in message and str(path) in message


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_missing_file(tmp_path, make):
    path = tmp_path / "nope.csv"
    if make == "directory":
        path.mkdir()
    expected = "is a folder, not a regular file" if make == "directory" else "not found"
    with pytest.raises(ToolkitError, match=f"Data file .*nope.csv.* {expected}"):
        load_posts(path)


@pytest.mark.parametrize("text, match", [("", "empty"), ("\ufeff\n\n", "empty"), (HEADER + "\n", "no data rows")])
def test_empty_files(tmp_path, text, match):
    with pytest.raises(ToolkitError, match=match):
        load_posts(write(tmp_path, text, bom=False))


def test_bad_arguments(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ToolkitError, match="on_bad_rows"):
        load_posts(path, on_bad_rows="ignore")
    with pytest.raises(ToolkitError, match="Unknown posts column 'likes'"):
        load_posts(path, columns={"likes": "like_count"})


def test_unclosed_quote_is_a_toolkit_error(tmp_path):
    text = 'user_id,create_time,content\nu1,1/14/2025 12:08,ok\nu2,1/14/2025 12:08,"never closed\n' + "x" * 200_000
    with pytest.raises(ToolkitError, match=r"line 3: not a valid CSV"):
        load_posts(write(tmp_path, text))


def test_explicitly_mapped_column_must_exist(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ToolkitError, match=r"'like_count'.*'likse'.*data.columns"):
        load_posts(path, columns={"like_count": "likse"})


def test_generated_ids_count_malformed_records(tmp_path):
    text = "user_id,create_time\nu1,1/14/2025 12:08\nu2,1/14/2025 12:08,x\nu3,1/14/2025 12:09\n"
    posts, report = load_posts(write(tmp_path, text), on_bad_rows="skip")
    assert posts["post_id"].tolist() == ["row-1", "row-3"]
    assert report.skip_reasons == {"wrong number of fields": 1}
