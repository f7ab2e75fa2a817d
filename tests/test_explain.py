import json

import numpy as np
import pandas as pd

from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from toolkit.analysis.importance import Group, block_permutation_importance, make_groups, permuted_blocks
from toolkit.analysis.terms import linear_terms
from toolkit.cli import main
from toolkit.data.schema import BEHAVIOR_COLUMNS
from toolkit.features.blocks import Block


class FirstColumnHead:
    """Scores = column 0 of the first block: only that column can matter."""

    def predict(self, blocks):
        return np.asarray(blocks[0].data)[:, 0]


def test_permuted_blocks_moves_only_the_group_it_is_told_to():
    dense = Block("behavior", "dense", np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]))
    other = Block("tfidf", "dense", np.array([[7.0], [8.0], [9.0]]))
    groups = make_groups([dense, other], {"behavior": ["a", "b"]})
    assert [g.name for g in groups] == ["block:behavior", "block:tfidf", "behavior:a", "behavior:b"]
    index = np.tile(np.arange(3)[:, None], (1, 4))
    index[:, 3] = [2, 0, 1]  # permute column b only
    out = permuted_blocks([dense, other], groups, index)
    assert out[0].data.tolist() == [[1.0, 30.0], [2.0, 10.0], [3.0, 20.0]]
    assert out[1].data.tolist() == [[7.0], [8.0], [9.0]]
    assert dense.data[0, 1] == 10.0  # the input block is not changed in place
    index[:, 3] = np.arange(3)
    index[:, 1] = [1, 2, 0]  # the whole tfidf block
    assert permuted_blocks([dense, other], groups, index)[1].data.ravel().tolist() == [8.0, 9.0, 7.0]


def test_importance_is_the_auc_drop_of_the_one_column_that_matters():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(50), np.ones(50)].astype(int)
    signal = y + rng.normal(0, 0.01, 100)  # separates the classes perfectly: AUC 1
    blocks = [Block("behavior", "dense", np.c_[signal, rng.normal(size=100)]), Block("tfidf", "dense", rng.normal(size=(100, 3)))]
    groups = make_groups(blocks, {"behavior": ["signal", "noise"]})
    rows = {r["name"]: r for r in block_permutation_importance(FirstColumnHead(), blocks, y, groups, n_repeats=4, seed=0)}
    for name in ("behavior:noise", "block:tfidf"):
        assert rows[name]["mean"] == rows[name]["ci_low"] == rows[name]["ci_high"] == 0.0
    # shuffling the signal leaves an AUC near 0.5: a drop near 0.5, the same for the column and its block
    assert 0.3 < rows["behavior:signal"]["mean"] < 0.7
    assert rows["block:behavior"]["repeats"] == 4
    assert rows["behavior:signal"]["ci_low"] <= rows["behavior:signal"]["mean"] <= rows["behavior:signal"]["ci_high"]


def test_linear_terms_pick_the_words_that_separate_the_classes():
    texts = ["garden 喜欢 day", "garden 喜欢 hello", "garden 喜欢 today", "garden 喜欢 cat",
             "rocket 离开 day", "rocket 离开 hello", "rocket 离开 today", "rocket 离开 cat"]
    users = pd.DataFrame({"user_id": [f"u{i}" for i in range(8)], "text": texts})
    terms = linear_terms(users, np.array([1, 1, 1, 1, 0, 0, 0, 0]), min_df=1)
    assert terms["retention"]["english"][0]["term"] == "garden"
    assert terms["retention"]["chinese"][0]["term"] == "喜欢"
    assert terms["churn"]["english"][0]["term"] == "rocket"
    assert terms["churn"]["chinese"][0]["term"] == "离开"
    assert terms["retention"]["english"][0]["users"] == 4
    assert all(t["coef"] < 0 for t in terms["churn"]["english"])


def test_explain_writes_the_report_with_numbers_from_the_runs_own_predictions(finished_run, tmp_path, capsys):
    folder, _ = finished_run
    out = tmp_path / "explain"
    rc = main(["explain", str(folder), "--out", str(out), "--repeats", "2"])
    assert rc == 0, capsys.readouterr().err
    closing = capsys.readouterr().out.splitlines()[-1]  # "report: FOLDER (every file written)"
    listed = closing[closing.index("(") + 1:-1].split(", ")
    assert "report.html" in listed and sorted(listed) == sorted(p.name for p in out.iterdir())
    result = json.loads((out / "explain.json").read_text(encoding="utf-8"))
    oof = pd.read_csv(folder / "predictions.csv")
    y, s, p = oof["label"].to_numpy(), oof["score"].to_numpy(), oof["predicted"].to_numpy()
    assert np.isclose(result["calibration"]["brier"], np.mean((s - y) ** 2))
    assert np.isclose(result["operating_point"]["recall"], ((y == 1) & (p == 1)).sum() / (y == 1).sum())
    assert result["operating_point"]["flagged"] == int(p.sum())
    names = [r["name"] for r in result["importance"]["blocks"]]
    assert sorted(names) == ["block:behavior", "block:tfidf"]
    assert len(result["importance"]["behavior"]) == len(BEHAVIOR_COLUMNS)
    assert result["design"]["held_out_users"] + result["design"]["train_users"] == len(oof)
    topics = result["topics"]["topics"]
    assert sum(t["users"] for t in topics) <= len(oof)
    assert [t["rate"] for t in topics] == sorted((t["rate"] for t in topics), reverse=True)
    text = (out / "explain.md").read_text(encoding="utf-8")
    assert "n_posts" in text and f"Brier score {result['calibration']['brier']:.4f}" in text
    for png in ("importance.png", "reliability.png", "roc_pr.png"):
        assert (out / png).stat().st_size > 1000
