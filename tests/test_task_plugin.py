"""A third task from outside the toolkit: this module registers it; run, bench and compare take it unchanged.

``returned_within`` is a yes/no label built from ``label.time_to_return``: did the user post again
within ``days`` days of ``after_days``? Users censored before then are left out (their answer is
unknown). It subclasses the ``binary`` task and overrides only how users become targets.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from specs import BASE, spec_dict
from toolkit.cli import main
from toolkit.data.time_to_return_users import build_time_to_return_users
from toolkit.errors import ToolkitError
from toolkit.experiment.inputs import data_path, effective_label
from toolkit.experiment.record import RunRecord
from toolkit.experiment.runner import prepare, run
from toolkit.experiment.spec import parse_spec
from toolkit.registry import TASKS, register_task
from toolkit.tasks.binary import BinaryTask

TTR = {"cohort": BASE["label"]["cohort"], "observe_days": 7, "time_to_return": {"after_days": 7, "follow_days": 28}}


@register_task("returned_within")
class ReturnedWithin(BinaryTask):
    """Yes/no: a return seen within ``days`` days of ``after_days`` (users censored before then left out)."""

    label_form = "time_to_return"

    def __init__(self, *, days: int = 7):
        self.days = days

    def validate(self, where: str) -> None:
        if self.days < 1:
            raise ToolkitError(f"{where}.days must be at least 1 day; got {self.days}.")

    def check_spec(self, spec) -> None:
        if spec.label.time_to_return is None:
            raise ToolkitError("task 'returned_within' reads label.time_to_return.")

    def label_users(self, spec, posts):
        users, label, report, _ = build_time_to_return_users(
            posts, effective_label(spec), timezone=spec.data.timezone, local_time=spec.data.local_time,
            ip_zones=spec.data.ip_zones)
        by = label.horizon_bin(self.days)
        returned = label.event & (label.time <= by)
        known = returned | (label.time >= by)  # seen through the window, or returned within it
        y = returned[known].astype(int)
        report = dataclasses.replace(report, censored=report.in_cohort - int(known.sum()), censored_by_coverage=0,
                                     positives=int(y.sum()), positive_rate=float(y.mean()))
        return users[known].reset_index(drop=True), y, report


def task_spec(**changes):
    return spec_dict(**{"label": TTR, "task": {"type": "returned_within", "days": 7}, **changes})


def expected_target(spec, cache_dir: str):
    """The target worked out here, from the label the toolkit builds, not from the task's code."""
    from toolkit.data.posts import load_posts

    posts, _ = load_posts(data_path(spec, cache_dir), **spec.data.load_options())
    users, label, _, _ = build_time_to_return_users(posts, effective_label(spec))
    first = np.flatnonzero(label.edges == label.edges[0] + 7)[0] - 1  # the bin ending 7 days in
    t = label.time
    keep = (label.event & (t <= first)) | (t >= first)
    return pd.Series((label.event & (t <= first))[keep].astype(int), index=users["user_id"].to_numpy()[keep])


def test_the_spec_names_the_task_and_its_parameters():
    spec = parse_spec(task_spec())
    assert spec.task == ("returned_within", {"days": 7}) and isinstance(spec.build_task(), ReturnedWithin)
    assert spec.resolved()["task"] == {"type": "returned_within", "days": 7}
    assert "returned_within" in TASKS.names()
    assert parse_spec(spec_dict()).task == ("binary", {}) and "task" not in parse_spec(spec_dict()).resolved()


@pytest.mark.parametrize("changes, message", [
    ({"head": {"type": "cox"}}, "head 'cox' learns time_to_return targets, but the spec's task 'returned_within' "
                                "(label.time_to_return) needs binary"),
    ({"task": {"type": "returned_within", "days": 0}}, "task.days must be at least 1 day; got 0"),
    ({"task": {"type": "returned_within", "weeks": 1}}, "weeks"),
    ({"task": {"type": "returnd_within"}}, "Did you mean 'returned_within'?"),
    ({"label": BASE["label"]}, "task 'returned_within' reads label.time_to_return"),
])
def test_a_wrong_task_block_is_refused_before_any_work(changes, message):
    with pytest.raises(ToolkitError) as err:
        parse_spec(task_spec(**changes))
    assert message in str(err.value)


def test_run_learns_the_tasks_target_and_records_it(tmp_path):
    cache = str(tmp_path / "cache")
    spec = parse_spec(task_spec())
    outcome = run(spec, results_dir=tmp_path / "r", cache_dir=cache)
    m = outcome.metrics
    assert m["task"] == "returned_within" and 0.0 <= m["metrics"]["roc_auc"]["mean"] <= 1.0
    expected = expected_target(spec, cache)
    table = pd.read_csv(outcome.folder / "predictions.csv", dtype={"user_id": str}).set_index("user_id")
    assert len(table) == len(expected) and 0 < expected.sum() < len(expected)
    np.testing.assert_array_equal(table["label"].to_numpy(), expected.loc[table.index].to_numpy())
    assert m["data"]["positives"] == expected.sum() and m["data"]["labelled"] == len(expected)
    # a binary head sees the same users and target as `prepare` hands out
    assert prepare(spec, cache_dir=cache).y.sum() == expected.sum()
    record = RunRecord.open(outcome.folder)
    assert record.task == "returned_within" and record.task_class is ReturnedWithin
    assert record.threshold is not None and record.out_of_fold.y.shape == (len(expected),)


def test_bench_and_compare_take_the_third_task(tmp_path, capsys):
    specs = [task_spec(name="a"), task_spec(name="b", head={"type": "logreg", "C": 0.05})]
    for s in specs:
        (tmp_path / f"{s['name']}.yaml").write_text(yaml.safe_dump(s))
    rc = main(["bench", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "--quiet",
               "--results-dir", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "cache")])
    assert rc == 0, capsys.readouterr().err
    rows = json.loads(next((tmp_path / "r").rglob("table.json")).read_text())["rows"]
    assert [r["label"] for r in rows[:2]] == ["a", "b"] and rows[1]["delta_roc_auc"] is not None
    folders = sorted(p.parent for p in (tmp_path / "r").rglob("metrics.json"))
    assert all(json.loads((f / "metrics.json").read_text())["task"] == "returned_within" for f in folders)
    assert main(["compare", *map(str, folders[:2]), "--out", str(tmp_path / "cmp")]) == 0
    again = json.loads((tmp_path / "cmp" / "table.json").read_text())["rows"]
    runs = [json.loads((f / "metrics.json").read_text())["metrics"]["roc_auc"]["mean"] for f in folders[:2]]
    assert sorted(r["roc_auc"] for r in again if r["kind"] == "config") == sorted(runs)
