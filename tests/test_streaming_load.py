"""The loader streams the file in chunks and the users table builds its text one user at a time:
neither may change what comes out. Each case is compared with a chunk larger than the file (the
whole file at once) or with the column-wise pandas expressions the per-user loop replaces."""

import numpy as np
import pandas as pd
import pytest

from toolkit.data import posts as posts_module
from toolkit.data.posts import load_posts
from toolkit.data.user_text import text_columns
from toolkit.errors import ToolkitError

HEADER = "post_id,user_id,user_name,title,content,hashtags,like_count,collect_count,comment_count,share_count,create_time"


def _row(i, *, post_id=None, likes="3", user=None, content="plain words", time="1/14/2025 12:08"):
    post_id = f"p{i}" if post_id is None else post_id
    return f'{post_id},{user or "u%d" % (i % 4)},name{i},t{i},"{content}",#a#b,{likes},1万+,0,99+,{time}'


def _messy_rows():
    """Quoted multi-line content, an empty post_id, a repeated post_id far apart, a row with too
    few fields and an unparseable count: spread so that chunks of three split them up."""
    rows = [_row(i) for i in range(14)]
    rows[1] = _row(1, content="line one\nline two\n#tag[话题]#")
    rows[4] = _row(4, post_id="")
    rows[11] = _row(11, post_id="p2")  # repeats row 2's id in a later chunk
    rows[6] = "p6,u2,only,four"
    rows[9] = _row(9, likes="lots")
    return rows


def _write(tmp_path, rows, name="posts.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_chunked_load_equals_whole_file_load(tmp_path, monkeypatch, chunk):
    path = _write(tmp_path, _messy_rows())
    whole, whole_report = load_posts(path, on_bad_rows="skip")
    monkeypatch.setattr(posts_module, "CHUNK_ROWS", chunk)
    chunked, chunked_report = load_posts(path, on_bad_rows="skip")
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    assert vars(chunked_report) == vars(whole_report)
    assert whole_report.rows_read == 14 and whole_report.rows_skipped == 2 and whole_report.duplicates_dropped == 1
    assert "row-5" in set(whole["post_id"])  # the fifth record's generated id, counted across chunks


def test_chunked_load_reports_the_earliest_bad_row(tmp_path, monkeypatch):
    rows = [_row(i) for i in range(10)]
    rows[7] = _row(7, likes="many")
    rows[2] = _row(2, time="yesterday")
    monkeypatch.setattr(posts_module, "CHUNK_ROWS", 2)
    with pytest.raises(ToolkitError, match=r"line 4, column 'create_time'"):
        load_posts(_write(tmp_path, rows))


def test_not_utf8_far_into_the_file_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(posts_module, "CHUNK_ROWS", 2)
    path = _write(tmp_path, [_row(i) for i in range(6)])
    data = path.read_bytes().replace(b"t4", b"t\xff", 1)
    path.write_bytes(data)
    with pytest.raises(ToolkitError, match=r"byte 0xff .*\(line 6\)"):
        load_posts(path)


def _column_wise(window: pd.DataFrame, user_ids: list[str]) -> pd.DataFrame:
    """The pandas expressions the per-user loop replaces (the users table's former definition)."""
    text = (window["title"].fillna("") + "\n" + window["content"].fillna("")).str.strip()
    joined = text.groupby(window["user_id"]).agg("\n".join).reindex(user_ids)
    prose = joined.str.replace(r"#[^#\n]*?\[话题\]#?", " ", regex=True)
    n_cjk = prose.str.count(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
    n_latin = prose.str.count(r"[A-Za-z]")
    tags = window["hashtags"].fillna("").str.split("#").map(lambda parts: sum(1 for p in parts if p.strip()))
    return pd.DataFrame({
        "text": joined.fillna("").to_numpy(),
        "zh_share": (n_cjk / (n_cjk + n_latin).where(lambda s: s > 0)).fillna(0.0).to_numpy(),
        "text_chars": np.log1p(joined.str.len()).fillna(0.0).to_numpy(),
        "n_hashtags": tags.groupby(window["user_id"]).sum().reindex(user_ids, fill_value=0).to_numpy(),
    })


def test_text_columns_equal_the_column_wise_definition():
    window = pd.DataFrame({
        "user_id": ["b", "a", "b", "c", "a", "b"],
        "title": ["  Hi there ", None, "第二篇", "", "#tiktok[话题]# only tags", "\t"],
        "content": ["学中文 day 1\n", "  ", np.nan, "12345 !!!", "混合 mix", "\u3000全角空格\u3000"],
        "hashtags": ["#a#b", "", None, "# #c#", "tiktok#tiktokrefugee[话题]", "#x"],
    }, dtype=object)
    user_ids = ["a", "b", "c", "d"]  # d has no posts in the window
    key = pd.Index(user_ids).get_indexer(window["user_id"])
    got = text_columns(window, key, len(user_ids))
    want = _column_wise(window, user_ids)
    assert got["text"].tolist() == want["text"].tolist()
    np.testing.assert_array_equal(got["zh_share"].to_numpy(), want["zh_share"])
    np.testing.assert_array_equal(got["text_chars"].to_numpy(), want["text_chars"])
    np.testing.assert_array_equal(got["n_hashtags"].to_numpy(), want["n_hashtags"])
    assert got["text"].tolist()[3] == "" and got["zh_share"][3] == 0.0  # no posts: empty, zeros
    assert 0.0 < got["zh_share"][1] < 1.0  # mixed Chinese and English
