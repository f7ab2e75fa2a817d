"""Every shipped experiment runs end to end (shrunk: fewer users, epochs and folds)."""

import json
from pathlib import Path

import pytest

from toolkit.data.synth import write_synthetic
from toolkit.experiment.runner import run
from toolkit.experiment.spec import load_spec

EXPERIMENTS = [p for p in sorted((Path(__file__).parents[1] / "experiments").glob("*.yaml"))
               if "grid:" not in p.read_text()]  # sweeps are tested in test_bench.py


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from tiny_distilbert import build_tiny_distilbert

    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def posts_csv(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("data") / "posts.csv", users=500, seed=4, positive_rate=0.3)


def shrink(path: Path, tiny_bert: str, posts_csv: Path) -> list[str]:
    raw = load_spec(path).raw
    sets = ["training.epochs=2", "evaluation.cv={folds: 2, repeats: 1}", "evaluation.bootstrap=200",
            "evaluation.min_positives_per_fold=2"]
    if "synthetic" in raw["data"]:
        sets.append("data.synthetic.users=400")
        sets.append("data.synthetic.positive_rate=0.25")
    else:
        sets.append(f"data.path={posts_csv}")
        # The synthetic file's daily volume decays by design (a sign-up burst, then a tail), which
        # the crawl-coverage rule for CSV data reads as crawler gaps and censors; the generator
        # records every post it makes, so there are no gaps to guard against here.
        sets.append("label.coverage=null")
    for i, block in enumerate(raw["featurizers"]):
        if block["type"] == "distilbert":
            sets.append(f"featurizers.{i}.model={tiny_bert}")
        if block["type"] == "tfidf":
            sets.append(f"featurizers.{i}.max_features=500")
            if block.get("svd_components"):
                sets.append(f"featurizers.{i}.svd_components=20")
        if block["type"] == "fasttext":
            sets.append(f"featurizers.{i}.dim=8")
    return sets


@pytest.mark.slow
@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_experiment_runs(path, tiny_bert, posts_csv, tmp_path):
    spec = load_spec(path, shrink(path, tiny_bert, posts_csv))
    outcome = run(spec, results_dir=tmp_path / "results", cache_dir=str(tmp_path / "cache"))
    metrics = json.loads((outcome.folder / "metrics.json").read_text())
    headline = "c_index" if metrics["task"] == "time_to_return" else "roc_auc"
    assert 0.0 <= metrics["metrics"][headline]["mean"] <= 1.0
    assert metrics["cost"]["params"] > 0
    assert set(metrics["cost"]["featurize_s"]) == set(spec.block_names())
    assert any((outcome.folder / "model").glob("head.*"))
