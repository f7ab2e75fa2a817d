"""Each text embedded once per run, in wall time too."""

import numpy as np
import pytest
from fake_encoders import fake_engines  # noqa: F401  (fixture)
from specs import spec_dict

from toolkit.experiment.runner import run
from toolkit.experiment.spec import parse_spec


def _use_spec(**changes):
    return parse_spec(spec_dict(featurizers=[{"type": "use"}, {"type": "behavior"}], **changes))


@pytest.fixture
def counted(fake_engines, monkeypatch):
    """The use featurizer's stand-in engine, counting the texts it embeds."""
    engine = fake_engines["use"]
    engine.texts = 0
    real = engine.embed

    def embed(texts, **options):
        engine.texts += len(texts)
        return real(texts)

    monkeypatch.setattr(engine, "embed", embed)
    return engine


def test_a_run_embeds_each_text_once_and_serving_cost_comes_from_the_rows(counted, tmp_path):
    outcome = run(_use_spec(), results_dir=tmp_path / "results", cache_dir=str(tmp_path / "cache"), save=False)
    rows = outcome.metrics["rows"]["use"]
    # folds, final model and the serving-cost timing together embed every distinct text exactly once
    assert counted.texts == rows["texts_embedded"] == rows["distinct_texts"]
    per_text = rows["compute_seconds"] / rows["distinct_texts"]
    assert outcome.metrics["cost"]["infer_ms_per_1k"] >= per_text * 1e6 * 0.999


def test_a_rerun_with_another_label_embeds_nothing_and_keeps_the_serving_cost(counted, tmp_path):
    first = run(_use_spec(), results_dir=tmp_path / "r", cache_dir=str(tmp_path / "cache"), save=False)
    embedded = counted.texts
    spec = spec_dict(featurizers=[{"type": "use"}, {"type": "behavior"}])
    spec["label"]["retained_if"]["returns_after_days"] = 10
    again = run(parse_spec(spec), results_dir=tmp_path / "r", cache_dir=str(tmp_path / "cache"), save=False)
    assert counted.texts == embedded and again.metrics["rows"]["use"]["computed"] == 0
    per_text = again.metrics["rows"]["use"]["compute_seconds"] / again.metrics["rows"]["use"]["distinct_texts"]
    assert per_text == pytest.approx(first.metrics["rows"]["use"]["compute_seconds"]
                                     / first.metrics["rows"]["use"]["distinct_texts"], rel=0.01)  # + a no-op's µs
    assert np.isfinite(again.metrics["cost"]["infer_ms_per_1k"])

