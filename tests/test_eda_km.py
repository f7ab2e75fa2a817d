"""eda on the shipped time-to-return spec: the Kaplan-Meier section against an independent computation."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from toolkit.analysis.eda import run_eda
from toolkit.analysis.eda.km import MIN_RETURNS, TOO_FEW_RETURNS
from toolkit.experiment.spec import apply_override

SPEC = Path(__file__).parent.parent / "experiments" / "time_to_return.yaml"


@pytest.fixture(scope="module")
def eda_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eda-km")
    raw = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    apply_override(raw, "data.synthetic.users=400")
    spec = folder / "time_to_return.yaml"
    spec.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out, result = run_eda(spec, results_dir=folder / "r", n_topics=3)
    return out, result, spec


def independent_curve(time, event):
    """scikit-survival's Kaplan-Meier with its log-log Greenwood interval, S at every bin."""
    from sksurv.nonparametric import kaplan_meier_estimator

    times, s, (low, high) = kaplan_meier_estimator(event.astype(bool), time.astype(float), conf_type="log-log")
    def at(values, k):
        idx = np.searchsorted(times, k, side="right") - 1
        return 1.0 if idx < 0 else float(values[idx])
    return lambda k: (at(s, k), at(low, k), at(high, k))


def table_rows(markdown: str, heading: str) -> dict:
    """The rows of the table under ``heading``, as {group: cells}."""
    part = markdown.split(heading, 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split("|") for line in part.splitlines()[2:]]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows}


def test_eda_writes_the_time_to_return_section_with_its_figures(eda_run):
    out, result, _ = eda_run
    markdown = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "## Time to return" in markdown
    for key, name in [("km_all", "km_all.png"), ("km_by_week", "km_by_week.png"), ("km_by_topic", "km_by_topic.png")]:
        assert result["figures"][key] == name and (out / name).stat().st_size > 1000
        assert f"]({name})" in markdown
    # Every figure of the report is embedded in the HTML page, the three curves included.
    assert html.count("data:image/png;base64,") == len(result["figures"])
    saved = json.loads((out / "eda.json").read_text(encoding="utf-8"))
    assert saved["time_to_return"]["horizons"] == [7, 14, 21]


def test_the_table_equals_an_independent_kaplan_meier(eda_run):
    pytest.importorskip("sksurv")
    from toolkit.data.time_to_return_users import build_time_to_return_users
    from toolkit.analysis.eda import load_input

    out, result, spec = eda_run
    data = load_input(spec)
    users, label, _, counts = build_time_to_return_users(data.posts, data.label, timezone=data.timezone)
    section = result["time_to_return"]
    assert section["counts"]["returned"] == counts.returned == int(label.event.sum()) > MIN_RETURNS
    weeks = pd.to_datetime(users["first_seen"]).dt.to_period("W").dt.start_time.dt.strftime("%Y-%m-%d").to_numpy()
    markdown = (out / "report.md").read_text(encoding="utf-8")
    checked = 0
    for grouping, heading, group in [("all", "### Time to return: all users", np.full(len(users), "all users")),
                                     ("first-seen week", "### Time to return: first-seen week", weeks)]:
        cells = table_rows(markdown, heading)
        for row in section["groupings"][grouping]["rows"]:
            mine = group == row["group"]
            assert row["users"] == mine.sum() and row["returns"] == label.event[mine].sum()
            assert row["censored"] == (~label.event[mine]).sum()
            curve = independent_curve(label.time[mine], label.event[mine])
            shown = cells[row["group"]]
            assert shown[:4] == [str(row["users"]), str(row["returns"]), "0", str(row["censored"])]
            for i, h in enumerate(section["horizons"]):
                s, low, high = curve(label.horizon_bin(h))
                assert row["at"][str(h)]["s"] == pytest.approx(s, abs=1e-9)
                assert float(shown[4 + 2 * i]) == pytest.approx(s, abs=5e-4)
                if row["readable"] and s < 1:
                    assert (row["at"][str(h)]["ci_low"], row["at"][str(h)]["ci_high"]) == pytest.approx((low, high),
                                                                                                       abs=1e-9)
                    assert re.fullmatch(rf"{low:.3f} \.\. {high:.3f}", shown[5 + 2 * i])
                    checked += 1
                elif not row["readable"]:
                    assert shown[5 + 2 * i] == TOO_FEW_RETURNS
    assert checked >= 3


def test_the_log_rank_line_names_the_groups_left_out(eda_run):
    out, result, _ = eda_run
    markdown = (out / "report.md").read_text(encoding="utf-8")
    for grouping in ("first-seen week", "topic"):
        g = result["time_to_return"]["groupings"][grouping]
        test, few = g["logrank"], [r["group"] for r in g["rows"] if r["returns"] < MIN_RETURNS]
        assert test["left_out"] == few
        assert test["tested"] == (len(g["rows"]) - len(few) >= 2)
        if test["tested"]:
            assert f"chi-square {test['statistic']:.3f} on {test['df']} df" in markdown
            assert test["df"] == len(g["rows"]) - len(few) - 1 and 0 <= test["p_value"] <= 1


def test_the_section_on_a_crawl_with_a_gap_matches_the_hand_count(tmp_path):
    # test_time_to_return_run's crawl: days 2..8 in daily bins 0..6. A: seen through bins 0, 1, returns first
    # seen in bin 4 right after the gap; B: seen through 0, 1, 4, 5, 6; C: returns in bin 0; D: seen
    # through 2, 3, 4. At risk: bin 0 A B C (C returns): S 2/3; bin 4 A B D (A returns): S 4/9.
    from test_time_to_return_run import _gap_crawl, _gap_label

    from toolkit.analysis.eda.km import km_section
    from toolkit.data.time_to_return_users import build_time_to_return_users

    users, label, _, _ = build_time_to_return_users(
        _gap_crawl(), _gap_label(time_to_return={"after_days": 2, "follow_days": 8}), timezone="UTC")
    section, files = km_section(users, label, np.zeros(len(users), dtype=int), [3, 5], tmp_path)
    (row,) = section["groupings"]["all"]["rows"]
    assert (row["users"], row["returns"], row["interval_censored"], row["censored"]) == (4, 2, 1, 2)
    assert (row["at"]["3"]["s"], row["at"]["5"]["s"]) == pytest.approx((2 / 3, 4 / 9))
    assert not row["readable"] and section["groupings"]["topic"]["logrank"]["tested"] is False
    assert all(path.exists() for path in files.values())
