"""The e5 and use featurizers' own code, on a stand-in engine (fast; the real engines: test_e5.py, test_use.py)."""

import sys

import numpy as np
import pytest
from factories import make_users
from fake_encoders import fake_engines  # noqa: F401  (fixture)

from toolkit.errors import ToolkitError
from toolkit.features.rows import embed_rows
from toolkit.featurizers import e5, use
from toolkit.featurizers.listing import model_listing
from toolkit.registry import FEATURIZERS

KINDS = {"e5": (e5, e5.E5Featurizer), "use": (use, use.UseFeaturizer)}


@pytest.fixture(scope="module")
def users():
    return make_users(30, seed=5)


@pytest.mark.parametrize("name", KINDS)
def test_registered_stateless_under_its_name(name):
    assert FEATURIZERS.get(name) is KINDS[name][1] and KINDS[name][1].stateless


@pytest.mark.parametrize("name", KINDS)
def test_a_missing_package_names_the_models_extra(name, monkeypatch):
    module, cls = KINDS[name]
    monkeypatch.setattr(module, "_LOADED", {})
    monkeypatch.setitem(sys.modules, module.PACKAGE.module, None)  # import now raises ImportError
    with pytest.raises(ToolkitError, match=r"not installed.*'models' extra: pip install -e \"\.\[models\]\""):
        cls().check_available()


def test_e5_adds_the_passage_prefix_and_replaces_nul(fake_engines, users, monkeypatch):
    seen = []
    real = fake_engines["e5"].embed
    monkeypatch.setattr(fake_engines["e5"], "embed", lambda texts, **kw: (seen.append((texts, kw)), real(texts))[1])
    one = users.iloc[:1].copy()
    one["text"] = ["a\0b"]
    e5.E5Featurizer().fit(one).transform(one)
    e5.E5Featurizer(prefix="query").fit(one).transform(one)
    assert seen[0][0] == ["a b"] and seen[0][1]["is_query"] is False and seen[1][1]["is_query"] is True


@pytest.mark.parametrize("name", KINDS)
def test_threads_come_from_the_process_budget(name, fake_engines, users, monkeypatch):
    threads = []
    real = fake_engines[name].embed
    monkeypatch.setattr(fake_engines[name], "embed",
                        lambda texts, **kw: (threads.append(kw["threads"]), real(texts))[1])
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what the executors set in each worker
    cls = KINDS[name][1]
    cls().fit(users).transform(users)
    cls(threads=3).fit(users).transform(users)
    assert threads[0] == 1 and threads[-1] == 3


@pytest.mark.parametrize("name", KINDS)
def test_rows_are_cached_and_a_second_run_embeds_nothing(name, fake_engines, users, tmp_path):
    cls = KINDS[name][1]
    first, stats = embed_rows(cls(), users, tmp_path)
    calls = fake_engines[name].calls
    again, stats2 = embed_rows(cls(threads=2), users, tmp_path)  # threads change no vector: same rows
    assert stats.computed == len(users) and stats2.computed == 0 and fake_engines[name].calls == calls
    np.testing.assert_array_equal(first, again)


def test_the_prefix_is_part_of_a_rows_identity(fake_engines):
    assert e5.E5Featurizer().row_identity() != e5.E5Featurizer(prefix="query").row_identity()
    assert e5.E5Featurizer(batch_size=3).row_identity() == e5.E5Featurizer(threads=1).row_identity()


@pytest.mark.parametrize("name", KINDS)
def test_frozen_params_and_weights_bytes_are_counted(name, fake_engines, users):
    feat = KINDS[name][1]().fit(users)
    feat.transform(users)
    assert feat.frozen_params() == 1000 and feat.weights_bytes() == len(b"fake weights")
    assert feat.flops_per_user() > 0


def test_models_lists_nothing_for_a_package_not_installed(monkeypatch):
    monkeypatch.setattr(e5, "installed_version", lambda package: None)
    monkeypatch.setattr(use, "installed_version", lambda package: None)
    assert not [m for m in model_listing() if m["spec"].startswith("type:")]


def test_e5_parameter_count_matches_a_bert_shape():
    header = {"hidden": 4, "ffn": 8, "vocab": 10, "positions": 6, "types": 1, "layers": 2}
    total, body = e5.encoder_params(header)
    per_layer = 4 * (16 + 4) + 8 + (32 + 8) + (32 + 4) + 8
    assert body == 2 * per_layer and total == body + 17 * 4 + 8
