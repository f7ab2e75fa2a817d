from pathlib import Path

import pytest
import yaml

from specs import spec_dict
from toolkit.errors import ToolkitError
from toolkit.experiment.spec import apply_override, load_spec, parse_spec

EXPERIMENTS = Path(__file__).parents[1] / "experiments"
SPECS = [p for p in sorted(EXPERIMENTS.glob("*.yaml")) if "grid:" not in p.read_text()]  # sweeps have a grid


def test_valid_spec_fills_defaults():
    spec = parse_spec(spec_dict())
    assert spec.featurizers[0][0] == "tfidf"
    assert spec.featurizers[0][1]["max_features"] == 300
    assert spec.featurizers[0][1]["ngram_range"] == [1, 2]  # default, as a YAML-friendly list
    assert spec.training.epochs == 3 and spec.training.learning_rate == 0.001
    assert spec.evaluation.folds == 3 and spec.evaluation.repeats == 1
    resolved = spec.resolved()
    assert resolved["head"] == {"type": "logreg", "C": 1.0, "max_iter": 1000}
    yaml.safe_dump(resolved)  # writable as YAML


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_shipped_experiment_validates(path):
    spec = load_spec(path)
    assert spec.name == path.stem


@pytest.mark.parametrize("changes, message", [
    ({"nmae": "x"}, "Unknown top-level key 'nmae'"),
    ({"featurizers": [{"type": "fasttxt"}]}, r"Unknown featurizer 'fasttxt'. Did you mean 'fasttext'\? Installed: .*tfidf"),
    ({"head": {"type": "mpl"}}, r"Did you mean 'mlp'"),
    ({"featurizers": [{"type": "tfidf", "max_df": 1.5}]},
     r"(?i)The 'max_df' parameter of TfidfFeaturizer must be a float in the range .*Got 1.5 instead"),
    ({"featurizers": [{"type": "tfidf", "max_featurs": 10}]}, "unknown parameter 'max_featurs'"),
    ({"training": {"epochs": "ten"}}, r"'epochs' parameter of TrainingConfig must be an int .*Got 'ten'"),
    ({"training": {"loss": "hinge"}}, r"must be one of 'bce', 'focal'"),
    ({"training": {"class_weight": "auto"}}, r"one of 'none', 'balanced'"),
    ({"evaluation": {"threshold": "best"}}, "evaluation.threshold"),
    ({"evaluation": {"cv": {"folds": 1}}}, r"evaluation.cv.folds must be an int >= 2"),
    ({"featurizers": [{"type": "tfidf"}], "head": {"type": "lstm"}}, r"lstm takes only sequence blocks.*tfidf \(sparse\)"),
    ({"featurizers": [{"type": "temporal"}], "head": {"type": "mlp"}}, r"mlp takes dense and sparse blocks"),
    ({"featurizers": [{"type": "temporal"}], "head": {"type": "logreg"}}, r"logreg takes dense and sparse"),
    ({"featurizers": []}, "non-empty list"),
    ({"data": {"path": "x.csv", "synthetic": {"users": 10}}}, "exactly one of"),
    ({"data": {"synthetic": {"users": 3}}}, r"'users' parameter of SyntheticConfig"),
    ({"data": {"path": "x.csv", "on_bad_rows": "ignore"}}, "on_bad_rows"),
    ({"data": {"path": "x.csv", "columns": {"likes": "liked_count"}}}, "Unknown posts column 'likes'"),
    ({"name": "has space"}, "'name' must be"),
    ({"seed": -1}, "'seed' must be"),
])
def test_spec_mistakes_say_what_was_expected(changes, message):
    with pytest.raises(ToolkitError, match=message):
        parse_spec(spec_dict(**changes))


def test_relative_data_path_resolves_against_spec_folder(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    raw = spec_dict(data={"path": "../data/posts.csv"})
    (folder / "s.yaml").write_text(yaml.safe_dump(raw))
    spec = load_spec(folder / "s.yaml")
    assert spec.data.path == str((tmp_path / "data" / "posts.csv").resolve())


def test_overrides():
    raw = spec_dict()
    apply_override(raw, "training.epochs=7")
    apply_override(raw, "featurizers.0.max_features=50")
    apply_override(raw, "evaluation.threshold=0.3")
    spec = parse_spec(raw)
    assert spec.training.epochs == 7
    assert spec.featurizers[0][1]["max_features"] == 50
    assert spec.evaluation.threshold == 0.3
    with pytest.raises(ToolkitError, match="key.path=value"):
        apply_override(raw, "training.epochs")
    with pytest.raises(ToolkitError, match="expected an index 0..1"):
        apply_override(raw, "featurizers.5.x=1")


def test_missing_or_broken_spec_file(tmp_path):
    with pytest.raises(ToolkitError, match="not found"):
        load_spec(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ToolkitError, match="not valid YAML"):
        load_spec(bad)
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ToolkitError, match="must hold a YAML mapping"):
        load_spec(tmp_path / "list.yaml")


@pytest.mark.parametrize("columns, fragment", [(["n_posts", "nope"], "unknown column(s) 'nope'"),
                                               ([], "at least one column")])
def test_behavior_columns_are_checked_with_the_spec_before_any_data(tmp_path, columns, fragment):
    raw = spec_dict(data={"path": str(tmp_path / "never-read.csv")},
                    featurizers=[{"type": "behavior", "columns": columns}])
    with pytest.raises(ToolkitError, match=r"featurizers") as caught:
        parse_spec(raw)
    assert fragment in str(caught.value)


def test_temporal_channels_outside_the_literal_are_refused_by_the_schema():
    with pytest.raises(ToolkitError, match="channels"):
        parse_spec(spec_dict(featurizers=[{"type": "temporal", "channels": "mask"}], head={"type": "lstm"}))
