"""Each text embedded once per run, in wall time too, and ``toolkit embed``: a spec's rows computed ahead of runs."""

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


# --- toolkit embed ----------------------------------------------------------------------------------


def _prepared_users(spec, cache):
    from toolkit.experiment.runner import prepare

    return prepare(spec, cache_dir=cache).users


def test_embed_fills_the_row_cache_and_a_following_run_computes_nothing(counted, tmp_path):
    from toolkit.bench.embed import embed_spec

    cache = str(tmp_path / "cache")
    spec = _use_spec()
    users = _prepared_users(spec, cache)
    lines = []
    reports = embed_spec(spec, users, tmp_path / "cache", workers=1, progress=lines.append)
    assert [r.block for r in reports] == ["use"]  # behavior is fitted per fold: nothing to compute ahead
    assert reports[0].computed == reports[0].distinct_texts == counted.texts > 0
    assert any("texts/s" in line for line in lines)
    embedded = counted.texts
    outcome = run(spec, results_dir=tmp_path / "r", cache_dir=cache, save=False)
    assert outcome.metrics["rows"]["use"]["computed"] == 0 and counted.texts == embedded


def test_embed_resumes_where_it_stopped(counted, tmp_path):
    from toolkit.bench.embed import embed_spec
    from toolkit.features.rows import embed_rows
    from toolkit.featurizers.use import UseFeaturizer

    spec = _use_spec()
    users = _prepared_users(spec, str(tmp_path / "cache"))
    half = users.iloc[: len(users) // 2]
    embed_rows(UseFeaturizer(), half, tmp_path / "cache")  # as if a first embed was stopped halfway
    before = counted.texts
    report = embed_spec(spec, users, tmp_path / "cache")[0]
    assert report.already_cached == before and report.computed == report.distinct_texts - before
    assert counted.texts - before == report.computed
    assert embed_spec(spec, users, tmp_path / "cache")[0].computed == 0


def test_embedded_rows_are_the_rows_a_run_computes(fake_engines, tmp_path):
    from toolkit.bench.embed import embed_spec
    from toolkit.features.rows import embed_rows
    from toolkit.featurizers.use import UseFeaturizer

    spec = _use_spec()
    users = _prepared_users(spec, str(tmp_path / "cache"))
    embed_spec(spec, users, tmp_path / "ahead")
    ahead, stats = embed_rows(UseFeaturizer(), users, tmp_path / "ahead")
    fresh, _ = embed_rows(UseFeaturizer(), users, None)
    assert stats.computed == 0
    np.testing.assert_array_equal(ahead, fresh)


def test_embed_refuses_a_spec_without_a_frozen_encoder(tmp_path, capsys):
    import yaml

    from toolkit.cli import main

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec_dict()))  # tfidf + behavior
    assert main(["embed", str(path), "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "computed ahead" in err and "Traceback" not in err
    assert main(["embed", str(path), "--workers", "0", "--cache-dir", str(tmp_path / "cache")]) == 2


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from tiny_distilbert import build_tiny_distilbert

    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.mark.slow
@pytest.mark.parametrize("executor, workers", [("local", 2), ("ray", 2)])
def test_rows_are_identical_whichever_executor_ran_them(executor, workers, tiny_bert, tmp_path):
    from toolkit.bench.embed import embed_spec
    from toolkit.features.rows import embed_rows
    from toolkit.featurizers.distilbert import DistilBertFeaturizer

    if executor == "ray":
        pytest.importorskip("ray")
    encoder = {"type": "distilbert", "model": str(tiny_bert), "batch_size": 8, "max_length": 32}
    spec = parse_spec(spec_dict(featurizers=[encoder, {"type": "behavior"}]))
    users = _prepared_users(spec, str(tmp_path / "cache"))
    report = embed_spec(spec, users, tmp_path / "cache", executor=executor, workers=workers, threads=1)[0]
    assert report.computed == report.distinct_texts
    params = {k: v for k, v in encoder.items() if k != "type"}
    ahead, stats = embed_rows(DistilBertFeaturizer(**params), users, tmp_path / "cache")
    here, _ = embed_rows(DistilBertFeaturizer(**params), users, None)
    assert stats.computed == 0
    np.testing.assert_allclose(ahead, here, atol=1e-5)  # batches differ; padding is masked
