"""A featurizer in its own package, installed with pip, joins through the entry point."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from specs import spec_dict

EXAMPLE = Path(__file__).parents[1] / "examples" / "plugin_package"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """pip-install the example package into a private folder; put it on PYTHONPATH of child processes."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(EXAMPLE)],
        check=True, cwd=build,
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(target), str(Path(__file__).parents[1])])
    return env


def toolkit(env, *args, cwd):
    return subprocess.run([sys.executable, "-m", "toolkit", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_installed_plugin_is_listed_and_runs_from_yaml(installed, tmp_path):
    listed = toolkit(installed, "plugins", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "textstats" in listed.stdout
    assert "toolkit-textstats 0.1.0" in " ".join(listed.stdout.split())
    assert "max_count" in listed.stdout

    spec = spec_dict(featurizers=[{"type": "textstats", "max_count": 500}, {"type": "behavior"}])
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    ran = toolkit(installed, "run", "spec.yaml", "--quiet", "--results-dir", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    metrics = json.loads(next((tmp_path / "out" / "t").glob("*/metrics.json")).read_text())
    assert set(metrics["cost"]["featurize_s"]) == {"textstats", "behavior"}

    bad = spec_dict(featurizers=[{"type": "textstats", "max_count": 0}])
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    refused = toolkit(installed, "validate", "bad.yaml", "--spec-only", cwd=tmp_path)
    assert refused.returncode == 2
    assert "'max_count' parameter of TextStatsFeaturizer" in refused.stderr


def test_plugin_absent_without_the_package():
    from toolkit.registry import FEATURIZERS

    assert "textstats" not in FEATURIZERS.names()
