"""Hostile data files: dates pandas cannot hold, giant fields, files posing as fastText models."""

from __future__ import annotations

import random

import pytest

from hostile import assert_refused, toolkit, tree, write_yaml
from specs import spec_dict
from test_cli_errors import csv_spec, good_rows, post_row, write_csv
from toolkit.data.posts import MAX_FIELD_BYTES, load_posts
from toolkit.errors import ToolkitError
from toolkit.featurizers.fasttext import FastTextFeaturizer, _train_with_retries


@pytest.mark.parametrize("when", ["1/15/9999 7:02", "3000-01-01T00:00:00", "1/1/1500 0:00"])
def test_dates_outside_pandas_range_are_bad_values_not_crashes(tmp_path, when):
    write_csv(tmp_path, good_rows() + [post_row(3, when, 3)])
    write_yaml(tmp_path / "spec.yaml", csv_spec())
    result = toolkit("validate", "spec.yaml", cwd=tmp_path, timeout=120)
    assert_refused(result, 2, "line 6", "create_time", "outside the supported dates 1677-09-22 to 2262-04-11")
    assert tree(tmp_path) == ["posts.csv", "spec.yaml"]
    posts, report = load_posts(tmp_path / "posts.csv", on_bad_rows="skip")  # skip: dropped and counted
    assert len(posts) == 3 and report.rows_skipped == 1


def test_a_long_field_is_read_and_a_giant_one_is_not_blamed_on_a_quote(tmp_path):
    long_post = "长" * (100 * 1024)  # 300 KiB of UTF-8, over the csv module's default 128 KiB limit
    write_csv(tmp_path, good_rows() + [post_row(3, "1/15/2025 7:02", 3, content=long_post)])
    posts, _ = load_posts(tmp_path / "posts.csv")
    assert len(posts) == 4 and long_post in set(posts["content"])

    write_csv(tmp_path, good_rows() + [post_row(3, "1/15/2025 7:02", 3, content="x" * (MAX_FIELD_BYTES + 10))],
              name="giant.csv")
    write_yaml(tmp_path / "spec.yaml", csv_spec("giant.csv"))
    result = toolkit("validate", "spec.yaml", cwd=tmp_path, timeout=120)
    assert_refused(result, 2, "giant.csv, line 6", "a field is longer than 16 MiB")
    assert "closed by a matching quote" not in result.err


@pytest.fixture(scope="module")
def small_bin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fasttext")
    corpus = folder / "corpus.txt"
    rng = random.Random(0)  # enough text that fastText's loss monitor never divides by zero
    corpus.write_text("\n".join(" ".join(f"w{rng.randrange(500)}" for _ in range(40)) for _ in range(3000)))
    path = folder / "small.bin"
    # bucket 100,000: with a much smaller subword table fastText 0.9.3 often aborts with "Encountered NaN"
    _train_with_retries({"input": str(corpus), "dim": 8, "minCount": 1, "bucket": 100_000, "thread": 1,
                         "epoch": 2, "lr": 0.05, "seed": 0}, attempts=10).save_model(str(path))
    return path


@pytest.mark.parametrize("damage, message", [
    ("text", "does not start with fastText's file signature"),
    ("half", "ends too early: truncated"),
    ("tail", "is truncated or damaged"),
])
def test_validate_refuses_files_that_are_not_whole_fasttext_models(tmp_path, small_bin, damage, message):
    FastTextFeaturizer(path=str(small_bin)).check_available()  # the real thing passes
    data = small_bin.read_bytes()
    bad = tmp_path / "vectors.bin"
    bad.write_bytes({"text": b"w1 0.1 0.2\n", "half": data[:len(data) // 2], "tail": data[:-8]}[damage])
    with pytest.raises(ToolkitError, match=message):
        FastTextFeaturizer(path=str(bad)).check_available()
    if damage == "half":
        spec = spec_dict(featurizers=[{"type": "fasttext", "path": str(bad)}], head={"type": "logreg"})
        write_yaml(tmp_path / "spec.yaml", spec)
        result = toolkit("validate", "spec.yaml", "--cache-dir", "c", cwd=tmp_path, timeout=180)
        assert_refused(result, 2, "vectors.bin", message)
