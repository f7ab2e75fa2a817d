"""One small finished run (TF-IDF + behavior, logistic regression) shared by the analysis tests."""

from pathlib import Path

import pytest

from specs import spec_dict
from toolkit.experiment.runner import data_path, run
from toolkit.experiment.spec import parse_spec


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory) -> tuple[Path, Path]:
    """(run folder, the posts CSV it was trained on)."""
    spec = parse_spec(spec_dict(name="analysis", data={"synthetic": {"users": 300, "seed": 3, "positive_rate": 0.2}}))
    outcome = run(spec, results_dir=tmp_path_factory.mktemp("results"), use_cache=False)
    return outcome.folder, data_path(spec)
