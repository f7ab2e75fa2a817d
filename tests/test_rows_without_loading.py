"""A run whose frozen-encoder rows are all in the row cache does not load the encoder.

The encoder's width, parameter counts and token count (what its ``fit`` sets and the cost table
reads) are kept beside the rows, signed like them; a rerun restores them, and a missing or forged
record sends it back to loading the model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from specs import spec_dict
from toolkit.featurizers import distilbert


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from tiny_distilbert import build_tiny_distilbert

    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny-bert"))


def spec(tiny_bert: str) -> dict:
    return spec_dict(featurizers=[{"type": "distilbert", "model": tiny_bert, "batch_size": 16}, {"type": "behavior"}],
                     data={"synthetic": {"users": 200, "seed": 3, "positive_rate": 0.3}})


def forbid_loading(monkeypatch):
    calls = []

    def refuse(model):
        calls.append(model)
        raise AssertionError("the encoder was loaded although every row was cached")

    monkeypatch.setattr(distilbert, "_from_pretrained", refuse)
    monkeypatch.setattr(distilbert, "_LOADED", {})
    return calls


def test_a_rerun_on_cached_rows_never_loads_the_encoder_and_reports_the_same_cost(tmp_path, tiny_bert, monkeypatch):
    import toolkit

    first = toolkit.run(spec(tiny_bert), results_dir=tmp_path / "r", cache_dir=tmp_path / "c")
    forbid_loading(monkeypatch)
    second = toolkit.run(spec(tiny_bert), results_dir=tmp_path / "r", cache_dir=tmp_path / "c")
    assert second.record.metrics["roc_auc"].mean == pytest.approx(first.record.metrics["roc_auc"].mean)
    for key in ("frozen_params", "flops_per_user"):
        assert second.record.cost[key] == first.record.cost[key] and first.record.cost[key] > 0, key


def test_forged_facts_are_not_trusted_and_the_encoder_is_loaded(tmp_path, tiny_bert, monkeypatch):
    import toolkit

    toolkit.run(spec(tiny_bert), results_dir=tmp_path / "r", cache_dir=tmp_path / "c")
    (facts,) = (tmp_path / "c" / "rows").glob("*/facts.json")
    stored = json.loads(facts.read_text())
    stored["facts"]["params_"] = 1
    facts.write_text(json.dumps(stored))
    calls = forbid_loading(monkeypatch)
    with pytest.raises(AssertionError, match="the encoder was loaded"):
        toolkit.run(spec(tiny_bert), results_dir=tmp_path / "r", cache_dir=tmp_path / "c")
    assert calls


def test_restore_fitted_needs_every_required_attribute():
    feat = distilbert.DistilBertFeaturizer(model="x")
    assert not feat.restore_fitted(None) and not feat.restore_fitted({"dim_": 8})
    assert feat.restore_fitted({"dim_": 8, "params_": 10, "non_embedding_params_": 4})
    assert feat.frozen_params() == 10 and feat.flops_per_user() == 2.0 * 4 * feat.max_length
    assert not hasattr(feat, "_encoder") or feat._encoder is None


def test_validate_still_loads_the_model(tmp_path, tiny_bert, monkeypatch):
    from toolkit.cli import main

    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec(tiny_bert)))
    calls = forbid_loading(monkeypatch)
    with pytest.raises(AssertionError):
        main(["validate", str(tmp_path / "spec.yaml"), "--cache-dir", str(tmp_path / "c")])
    assert calls == [tiny_bert]
    np.testing.assert_equal(len(calls), 1)
