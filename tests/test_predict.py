import numpy as np
import pandas as pd
import pytest

from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from posts_factory import frame, post
from toolkit.analysis.predict import predict
from toolkit.analysis.run_model import load_run_model
from toolkit.cli import main
from toolkit.data.label import parse_label
from toolkit.data.users import build_features, build_users
from toolkit.experiment.runner import prepare


def cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_build_features_matches_build_users_rows_and_skips_users_outside_the_window():
    label = parse_label({"cohort": {"first_seen": ["2025-01-01", "2025-01-02"]}, "observe_until": "2025-01-02",
                         "retained_if": {"active_between": ["2025-01-05", "2025-01-09"]}, "data_end": "2025-01-09",
                         "coverage": None})
    posts = frame([post("a", "2025-01-01 10:00", likes=5), post("a", "2025-01-02 11:00"), post("a", "2025-01-06 09:00"),
                   post("b", "2025-01-02 23:00", likes=100), post("c", "2025-01-04 08:00")])
    users, skipped = build_features(posts, label)
    # every user is observed for observe_until - cohort end + 1 = 1 day from their own first post
    # (no user's features grow with how early they arrived), so c, first seen after the cohort, is
    # scored on its own first day, and a's later posts are outside its window
    assert users["user_id"].tolist() == ["a", "b", "c"] and skipped.empty
    assert users["n_posts"].tolist() == [1, 1, 1]
    labelled, _, _ = build_users(posts, label)
    pd.testing.assert_frame_equal(users.iloc[:2].drop(columns="activity"), labelled.drop(columns="activity"))


def test_build_features_skips_users_with_no_post_in_their_window():
    old, new = "5e0be100" + "0" * 16, "67726f20" + "1" * 16  # accounts created 2019-12-31 and 2024-12-30
    label = parse_label({"cohort": {"first_seen": ["2024-12-01", "2025-01-02"]}, "observe_days": 3, "day0": "account_created",
                         "retained_if": {"returns_after_days": 3, "horizon_days": 9}, "coverage": None})
    posts = frame([post(old, "2025-01-01 10:00"), post(new, "2025-01-01 10:00")])
    users, skipped = build_features(posts, label)
    # day 0 is the account's creation: the old account's window closed years before its first post
    assert users["user_id"].tolist() == [new] and skipped["user_id"].tolist() == [old]
    assert "no post in the observation window" in skipped["reason"][0] and "2025-01-01" in skipped["reason"][0]


def test_scores_of_training_users_equal_the_final_models_predictions(finished_run, tmp_path, capsys):
    folder, posts_csv = finished_run
    out = tmp_path / "scores.csv"
    rc, stdout, err = cli(capsys, "predict", folder, posts_csv, "--out", out)
    assert rc == 0, err
    table = pd.read_csv(out, dtype={"user_id": str})
    assert list(table.columns) == ["user_id", "score", "decision", "reason"]

    model = load_run_model(folder)
    prepared = prepare(model.spec)
    expected = pd.Series(model.head.predict(model.blocks(prepared.users)), index=prepared.users["user_id"])
    got = table.set_index("user_id")["score"].reindex(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6, atol=1e-9)
    scored = table[table["score"].notna()]
    assert (scored["decision"] == (scored["score"] >= model.threshold).astype(int)).all()
    # every user of the file gets a row; the file holds users outside the labelled cohort too
    assert len(table) >= len(expected)
    assert f"scored {len(scored)} user(s)" in stdout


def test_a_csv_without_the_columns_the_model_reads_is_refused(finished_run, tmp_path, capsys):
    folder, _ = finished_run
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,create_time\nu1,1/14/2025 12:08\n", encoding="utf-8")
    rc, _, err = cli(capsys, "predict", folder, bad, "--out", tmp_path / "s.csv")
    assert rc == 2 and "Traceback" not in err
    assert "featurizer 'tfidf'" in err and "'title'" in err
    assert not (tmp_path / "s.csv").exists()
    no_id = tmp_path / "no_id.csv"
    no_id.write_text("title,create_time\nhi,1/14/2025 12:08\n", encoding="utf-8")
    rc, _, err = cli(capsys, "predict", folder, no_id, "--out", tmp_path / "s.csv")
    assert rc == 2 and "no column for 'user_id'" in err


@pytest.mark.parametrize("what", ["no model", "not a run"])
def test_a_folder_without_a_model_is_refused(finished_run, tmp_path, capsys, what):
    import shutil

    folder, posts_csv = finished_run
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    if what == "no model":
        shutil.rmtree(copy / "model")
        phrase = "has no saved model"
    else:
        (copy / "spec.yaml").unlink()
        phrase = "is not a run folder"
    rc, _, err = cli(capsys, "predict", copy, posts_csv, "--out", tmp_path / "s.csv")
    assert rc == 2 and phrase in err and "Traceback" not in err
