"""Hostile arguments to the Python API: each is a ToolkitError that names it, before any work starts.

Python can pass what a command line never could (a spec nested 5,000 deep, ``10**5000``
users, a NUL byte in a path, ``workers=2**64``); each used to end as a RecursionError,
OverflowError, ValueError, IndexError or TypeError from deep inside, and
``Run.explain(repeats=10**9)`` ran without end.
"""

from __future__ import annotations

import datetime
import inspect
from pathlib import Path

import pytest
import yaml

import toolkit
from analysis_fixtures import finished_run  # noqa: F401  (fixture)
from specs import BASE, spec_dict
from toolkit import api, arguments
from toolkit.cli import main

REPO = Path(__file__).resolve().parents[1]


def nested(depth: int) -> dict:
    """A dict ``depth`` levels deep, built without recursion (``spec_dict`` deep-copies, which recurses)."""
    top = node = {}
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    return top


def laughs(levels: int) -> list:
    """A list that holds one list twice at every level: 2**levels values when walked, a few bytes in memory."""
    node: list = []
    for _ in range(levels):
        node = [node, node]
    return node


def sweep_file(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    sweep = {"name": "mini", "base": "base.yaml", "grid": {"head": [{"type": "logreg"}, {"type": "logreg", "C": 0.1}]},
             "baseline": {"head": {"type": "logreg"}}}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    return tmp_path / "sweep.yaml"


def users(n) -> dict:
    return spec_dict(data={"synthetic": {"users": n, "seed": 1, "positive_rate": 0.2}})


CASES = [
    pytest.param(lambda tmp: toolkit.run(nested(5000), results_dir=tmp / "r"), ("nested deeper than 64 levels",),
                 id="spec-5000-deep"),
    pytest.param(lambda tmp: toolkit.run({**BASE, "featurizers": [{"type": "tfidf", "x": nested(5000)}]},
                                         results_dir=tmp / "r"), ("spec.featurizers.0.x.a", "deeper than 64"),
                 id="deep-inside-a-featurizer"),
    pytest.param(lambda tmp: toolkit.run(users(10**5000), results_dir=tmp / "r"),
                 ("spec.data.synthetic.users", "5,001 digits"), id="users-10**5000"),
    pytest.param(lambda tmp: toolkit.run(BASE, set={"data.synthetic.users": 10**5000}, results_dir=tmp / "r"),
                 ("set.data.synthetic.users", "digits"), id="set-users-10**5000"),
    pytest.param(lambda tmp: toolkit.run(BASE, set={"description": nested(5000)}, results_dir=tmp / "r"),
                 ("set.description.a", "deeper than 64"), id="set-5000-deep"),
    pytest.param(lambda tmp: toolkit.run({**BASE, "description": laughs(21)}, results_dir=tmp / "r"),
                 ("more than 1,000,000 values",), id="shared-list-laughs"),
    pytest.param(lambda tmp: toolkit.run({**BASE, "seed": {1, 2}}, results_dir=tmp / "r"),
                 ("spec.seed is a builtins.set", "plain data"), id="a-set-in-the-spec"),
    pytest.param(lambda tmp: toolkit.run(BASE, set={"seed": object()}, results_dir=tmp / "r"),
                 ("set.seed is a builtins.object",), id="an-object-in-set"),
    pytest.param(lambda tmp: toolkit.run(BASE, set=[5], results_dir=tmp / "r"),
                 ("'key.path=value' texts", "int 5"), id="set-list-of-int"),
    pytest.param(lambda tmp: toolkit.run(BASE, results_dir=str(tmp / "res\0ults")), ("results_dir", "NUL byte"),
                 id="nul-in-results-dir"),
    pytest.param(lambda tmp: toolkit.run(BASE, results_dir=tmp / "r", cache_dir=str(tmp / "c\0")),
                 ("cache_dir", "NUL byte"), id="nul-in-cache-dir"),
    pytest.param(lambda tmp: toolkit.run(str(tmp / "spec\0.yaml")), ("spec", "NUL byte"), id="nul-in-spec-path"),
    pytest.param(lambda tmp: toolkit.run(BASE, results_dir=tmp / ("x" * 5000)), ("results_dir", "at most 4,095"),
                 id="path-too-long"),
    pytest.param(lambda tmp: toolkit.run(42, results_dir=tmp / "r", quiet="no"), ("quiet must be True or False",),
                 id="quiet-not-a-bool"),
    pytest.param(lambda tmp: toolkit.run(42, results_dir=tmp / "r", use_cache=1), ("use_cache must be True or False",),
                 id="use-cache-not-a-bool"),
    pytest.param(lambda tmp: toolkit.bench(sweep_file(tmp), workers=2**64, results_dir=tmp / "r"),
                 ("workers must be an int from 1 to 1024", "about 20 digits"), id="workers-2**64"),
    pytest.param(lambda tmp: toolkit.bench(sweep_file(tmp), workers=True, results_dir=tmp / "r"),
                 ("workers must be an int",), id="workers-a-bool"),
    pytest.param(lambda tmp: toolkit.bench([], results_dir=tmp / "r"), ("sweep must name at least one file",),
                 id="bench-empty-list"),
    pytest.param(lambda tmp: toolkit.bench(5, results_dir=tmp / "r"), ("sweep must be a path or a list of paths",),
                 id="bench-an-int"),
    pytest.param(lambda tmp: toolkit.bench(sweep_file(tmp), executor=["ray"], results_dir=tmp / "r"),
                 ("executor must be one of 'local', 'ray'",), id="executor-a-list"),
    pytest.param(lambda tmp: toolkit.bench(sweep_file(tmp), resume=5, results_dir=tmp / "r"),
                 ("resume must be True, False or a sweep folder",), id="resume-an-int"),
    pytest.param(lambda tmp: toolkit.bench(sweep_file(tmp), per_seed="yes", results_dir=tmp / "r"),
                 ("per_seed must be True or False",), id="per-seed-a-str"),
    pytest.param(lambda tmp: toolkit.load_run(5), ("path must be a path (str or pathlib.Path)", "int 5"),
                 id="load-run-an-int"),
    pytest.param(lambda tmp: toolkit.load_run(b"results/x"), ("path must be a path",), id="load-run-bytes"),
    pytest.param(lambda tmp: toolkit.compare(5), ("paths must be a path or a list of paths",), id="compare-an-int"),
    pytest.param(lambda tmp: toolkit.compare([tmp, None]), ("paths[1] must be a path",), id="compare-a-none"),
    pytest.param(lambda tmp: toolkit.compare([str(tmp) + "\0"]), ("paths[0] holds a NUL byte",), id="compare-nul"),
]


@pytest.mark.parametrize("call, fragments", CASES)
def test_a_hostile_argument_is_a_toolkit_error_naming_it(tmp_path, call, fragments):
    with pytest.raises(toolkit.ToolkitError) as caught:
        call(tmp_path)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert len(str(caught.value)) < 600  # a huge value is described, never printed
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_what_a_yaml_spec_holds_passes_and_the_specs_own_checks_follow(tmp_path):
    from toolkit.yaml_io import read_yaml_mapping

    raw = read_yaml_mapping(REPO / "experiments" / "quickstart.yaml", "a spec", "name:, ...")
    raw["label"]["cohort"]["first_seen"] = (datetime.date(2025, 1, 1), datetime.date(2025, 2, 14))  # as YAML reads dates
    arguments.check_plain_data("spec", raw)
    with pytest.raises(toolkit.ToolkitError, match="Unknown head 'nope'"):
        toolkit.run(raw, set={"head": {"type": "nope"}}, results_dir=tmp_path / "r")


@pytest.fixture
def explained(monkeypatch):
    """Replace the explain analysis: a call that gets past the argument checks returns its repeats."""
    import toolkit.analysis.explain as module

    monkeypatch.setattr(module, "explain", lambda folder, out, *, repeats, cache_dir: {"repeats": repeats})


@pytest.mark.parametrize("repeats", [10**9, 1001, 1, 2.5, True, 10**5000],
                         ids=["1e9", "1001", "1", "2.5", "True", "10**5000"])
def test_explain_repeats_are_capped_as_the_command_line_caps_them(finished_run, explained, repeats):  # noqa: F811
    folder, _ = finished_run
    with pytest.raises(toolkit.ToolkitError, match="repeats must be an int from 2 to 1000"):
        toolkit.load_run(folder).explain(repeats=repeats)


def test_the_repeats_cap_is_one_number_shared_with_the_command_line(finished_run, explained, capsys):  # noqa: F811
    import toolkit.cli

    folder, _ = finished_run
    assert toolkit.cli.MAX_REPEATS is arguments.MAX_REPEATS == 1000
    assert toolkit.load_run(folder).explain(repeats=arguments.MAX_REPEATS) == {"repeats": 1000}
    assert main(["explain", str(folder), "--repeats", str(arguments.MAX_REPEATS + 1)]) == 2
    assert "--repeats must be an int from 2 to 1000" in capsys.readouterr().err


def test_the_workers_cap_is_shared_with_the_command_line(tmp_path, capsys):
    assert main(["bench", str(sweep_file(tmp_path)), "--workers", str(2**64), "--results-dir", str(tmp_path / "r")]) == 2
    assert "--workers must be an int from 1 to 1024" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("posts, fragment", [(5, "posts must be a path to a posts CSV or a DataFrame"),
                                             ("po\0sts.csv", "posts holds a NUL byte")])
def test_predict_refuses_what_is_neither_a_path_nor_a_frame(finished_run, posts, fragment):  # noqa: F811
    folder, _ = finished_run
    with pytest.raises(toolkit.ToolkitError, match=fragment):
        toolkit.load_run(folder).predict(posts)


def test_explain_refuses_a_nul_in_its_output_folder(finished_run, explained):  # noqa: F811
    folder, _ = finished_run
    with pytest.raises(toolkit.ToolkitError, match="out holds a NUL byte"):
        toolkit.load_run(folder).explain(out="x\0")


# toolkit.bench is left out: once the bench subpackage is imported, that name is the package
@pytest.mark.parametrize("function", [toolkit.run, toolkit.load_run, toolkit.compare, api.run,
                                      api.load_run, api.compare, api.bench, api.Run.predict, api.Run.explain])
def test_every_public_function_documents_what_it_raises(function):
    doc = inspect.getdoc(function)
    assert "Raises:" in doc and "ToolkitError" in doc.split("Raises:")[1]
