"""Every bad input ends with a clear ``error: ...`` on stderr, exit status 2, no traceback,
and no results folder (an earlier results folder in the same place is left untouched).

Most cases call :func:`toolkit.cli.main` in-process (fast); one test runs
``python -m toolkit`` in a subprocess to prove the real exit status and stderr.
Every posts CSV here is invented for the test, in the public crawl's format.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from specs import spec_dict
from toolkit.cli import main

REPO = Path(__file__).resolve().parents[1]

HEADER = ("title", "content", "address", "label", "user_name", "user_id", "like_count", "collect_count",
          "comment_count", "share_count", "create_time", "post_id", "ip_localtion", "post_image", "post_type")

# The reference study's label: January cohort, features up to Jan 31, retained if active in February.
REFERENCE_LABEL = {
    "cohort": {"first_seen": ["2025-01-01", "2025-01-31"]},
    "observe_until": "2025-01-31",
    "retained_if": {"active_between": ["2025-02-01", "2025-02-28"]},
    "coverage": None,  # a handful of hand-made posts has no crawl volume to judge coverage by
}
EARLIER = "20250101-000000"  # an earlier run of spec "t" already in every results dir


# --------------------------------------------------------------------------- helpers


def hex_id(kind: str, i: int) -> str:
    """A 24-hex-digit id, as the crawl's user_id and post_id are."""
    return f"{'a' if kind == 'user' else 'b'}{i:023x}"


def post_row(user: int, when: str, post: int, *, likes="12", collects="1千+", comments="10+", shares="0",
             title="", content="Hello from Ohio 👋 #tiktokrefugee[话题]#", kind="normal") -> dict:
    uid = hex_id("user", user)
    pid = hex_id("post", post)
    return {
        "title": title, "content": content,
        "address": f"https://www.xiaohongshu.com/user/profile/{uid}?xsec_source=pc_note",
        "label": "tiktok#tiktokrefugee", "user_name": f"otter_{user}", "user_id": uid,
        "like_count": likes, "collect_count": collects, "comment_count": comments, "share_count": shares,
        "create_time": when, "post_id": pid, "ip_localtion": "U.S.",
        "post_image": f"https://sns-img.example.com/notes/{pid}/cover.jpg", "post_type": kind,
    }


def csv_text(rows: list[dict], header=HEADER) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(c, "") for c in header])
    return buf.getvalue()


def write_csv(folder: Path, rows: list[dict], *, name="posts.csv", header=HEADER) -> Path:
    path = folder / name
    path.write_bytes(csv_text(rows, header).encode("utf-8-sig"))  # UTF-8 with a BOM, as published
    return path


def good_rows() -> list[dict]:
    """Three January users, one with multi-line quoted content (a record over two physical lines)."""
    return [
        post_row(0, "1/14/2025 12:08", 0, likes="3829", content="First post!\nSecond line of it"),  # lines 2-3
        post_row(1, "1/14/2025 21:45", 1, likes="1.2万"),  # line 4
        post_row(2, "1/15/2025 7:02", 2, likes="1千+"),  # line 5
    ]


def few_positive_rows() -> list[dict]:
    """Twelve users first seen in January; exactly one of them posts again in February.

    Also a user first seen in December who comes back in February (outside the cohort,
    so not a positive) and a February newcomer whose post on Feb 28 makes the data reach
    the end of the label window (nobody is censored).
    """
    rows, post = [], 0
    for u in range(12):
        day = 3 + 2 * u
        rows.append(post_row(u, f"1/{day}/2025 {8 + u % 12}:{(7 * u) % 60:02d}", post, likes=str(5 * u)))
        post += 1
        if u % 3 == 0:  # a second January post for some
            rows.append(post_row(u, f"1/{day + 1}/2025 20:15", post, likes="1.2万", kind="video"))
            post += 1
    rows.append(post_row(0, "2/10/2025 19:30", post, content="I'm back!"))  # the one retained user
    post += 1
    rows.append(post_row(20, "12/28/2024 10:00", post))  # first seen in December
    rows.append(post_row(20, "2/15/2025 10:00", post + 1))
    rows.append(post_row(21, "2/28/2025 23:10", post + 2, content="新人报到"))  # February newcomer
    return rows


def write_spec(folder: Path, spec: dict | str, name: str = "spec.yaml") -> Path:
    path = folder / name
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def csv_spec(data_path: str = "posts.csv", **changes) -> dict:
    """A spec on a posts CSV beside it, with the reference label and light featurizers."""
    base = {"data": {"path": data_path}, "label": REFERENCE_LABEL,
            "featurizers": [{"type": "behavior"}], "head": {"type": "logreg"}}
    base.update(changes)
    return spec_dict(**base)


@pytest.fixture
def results_dir(tmp_path) -> Path:
    """A results dir that already holds an earlier, complete run of spec ``t``."""
    root = tmp_path / "results"
    earlier = root / "t" / EARLIER
    (earlier / "model").mkdir(parents=True)
    (earlier / "metrics.json").write_text('{"earlier": true}\n')
    (earlier / "model" / "model.json").write_text('{"head": "logreg"}\n')
    return root


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (hidden ones included) with its bytes (None for folders)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def assert_user_error(rc: int, out: str, err: str, *phrases: str) -> None:
    assert rc == 2, f"exit status {rc}, stderr:\n{err}"
    assert "Traceback" not in out + err
    assert err.lstrip().startswith("error:"), err
    for phrase in phrases:
        assert phrase in err, f"{phrase!r} not in stderr:\n{err}"


def assert_no_new_results(results_dir: Path, before: dict) -> None:
    assert snapshot(results_dir) == before, "the failed run changed the results dir"
    runs = [p.name for p in (results_dir / "t").iterdir()]
    assert runs == [EARLIER]  # no new <name>/<timestamp> folder and no .<timestamp>.partial
    assert not [p for p in results_dir.rglob("*") if p.name.endswith(".partial")]
    assert (results_dir / "t" / EARLIER / "metrics.json").read_text() == '{"earlier": true}\n'


# --------------------------------------------------------------------------- spec mistakes

SPEC_MISTAKES = [
    pytest.param({"nmae": "x"}, ["Unknown top-level key 'nmae'", "Allowed: name"], id="unknown-top-key"),
    pytest.param({"featurizers": [{"type": "fasttxt"}]},
                 ["Unknown featurizer 'fasttxt'", "Did you mean 'fasttext'?", "Installed:", "tfidf"],
                 id="unknown-featurizer-suggests"),
    pytest.param({"head": {"type": "mpl"}}, ["Unknown head 'mpl'", "Did you mean 'mlp'?"], id="unknown-head-suggests"),
    pytest.param({"featurizers": [{"type": "tfidf", "max_featurs": 10}]},
                 ["featurizers[0]: unknown parameter 'max_featurs'", "Accepted:", "max_features"],
                 id="unknown-plugin-param"),
    pytest.param({"training": {"epochs": "ten"}},
                 ["'epochs' parameter of TrainingConfig must be an int", "Got 'ten' instead"], id="wrong-type"),
    pytest.param({"featurizers": [{"type": "tfidf", "max_df": 1.5}]},
                 ["'max_df' parameter of TfidfFeaturizer", "range", "Got 1.5 instead"], id="out-of-range"),
    pytest.param({"training": {"loss": "hinge"}}, ["one of 'bce', 'focal'", "Got 'hinge'"], id="not-a-choice"),
    pytest.param({"evaluation": {"cv": {"folds": 1}}}, ["evaluation.cv.folds must be an int >= 2", "Got 1"],
                 id="folds-too-few"),
    pytest.param({"featurizers": [{"type": "temporal"}], "head": {"type": "logreg"}},
                 ["head 'logreg' cannot take these featurizers", "logreg takes dense and sparse blocks"],
                 id="head-cannot-take-sequence"),
    pytest.param({"featurizers": [{"type": "tfidf"}], "head": {"type": "lstm"}},
                 ["head 'lstm' cannot take these featurizers", "lstm takes only sequence blocks", "tfidf (sparse)"],
                 id="lstm-cannot-take-sparse"),
    pytest.param({"data": {"synthetic": {"users": 3}}}, ["data.synthetic", "'users' parameter of SyntheticConfig"],
                 id="synthetic-users-too-few"),
    pytest.param({"label": {**REFERENCE_LABEL, "retained_if": {"active_between": ["2025-01-20", "2025-02-28"]}}},
                 ["label.retained_if.active_between starts on 2025-01-20", "inside the observation window",
                  "Start it after 2025-01-31"], id="label-overlaps-observation"),
    pytest.param({"label": {**REFERENCE_LABEL, "observe_until": "2025-01-15"}},
                 ["label.observe_until (2025-01-15) is before the end of the cohort (2025-01-31)"],
                 id="observe-until-too-early"),
    pytest.param({"label": {"cohort": {"first_seen": ["2025-01-01", "2025-02-14"]}, "observe_days": "seven",
                            "retained_if": {"returns_after_days": 7, "horizon_days": 28}}},
                 ["label.observe_days must be an int >= 1", "Got 'seven' instead"], id="label-wrong-type"),
    pytest.param({"name": "my run"}, ["'name' must be letters, digits", "Got 'my run'"], id="bad-name"),
]


@pytest.mark.parametrize("changes, phrases", SPEC_MISTAKES)
def test_run_rejects_bad_spec_without_results(capsys, tmp_path, results_dir, cache_dir, changes, phrases):
    spec = write_spec(tmp_path, spec_dict(**changes))
    before = snapshot(results_dir)
    rc, out, err = cli(capsys, "run", spec, "--results-dir", results_dir, "--cache-dir", cache_dir, "--quiet")
    assert_user_error(rc, out, err, *phrases)
    assert out == ""
    assert_no_new_results(results_dir, before)


@pytest.mark.parametrize("changes, phrases", [SPEC_MISTAKES[1], SPEC_MISTAKES[4], SPEC_MISTAKES[8]])
@pytest.mark.parametrize("spec_only", [False, True], ids=["validate", "validate-spec-only"])
def test_validate_rejects_bad_spec(capsys, tmp_path, cache_dir, changes, phrases, spec_only):
    spec = write_spec(tmp_path, spec_dict(**changes))
    args = ["validate", spec, "--cache-dir", cache_dir] + (["--spec-only"] if spec_only else [])
    rc, out, err = cli(capsys, *args)
    assert_user_error(rc, out, err, *phrases)
    assert "ok" not in out


@pytest.mark.parametrize("text, phrases", [
    pytest.param("name: t\ndata: {synthetic: {users: 200}\nlabel: [unclosed\n", ["is not valid YAML", "spec.yaml"],
                 id="bad-yaml"),
    pytest.param("- name\n- data\n", ["must hold a YAML mapping", "Got list instead"], id="yaml-list"),
    pytest.param("", ["must hold a YAML mapping", "Got NoneType"], id="empty-file"),
])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_unreadable_spec_file(capsys, tmp_path, results_dir, command, text, phrases):
    spec = write_spec(tmp_path, text)
    before = snapshot(results_dir)
    args = [command, spec] + (["--results-dir", results_dir, "--quiet"] if command == "run" else [])
    rc, out, err = cli(capsys, *args)
    assert_user_error(rc, out, err, *phrases)
    assert_no_new_results(results_dir, before)


def test_spec_file_not_utf8(capsys, tmp_path, results_dir):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(yaml.safe_dump(spec_dict(description="x")).encode() + "description: 学中文\n".encode("gbk"))
    before = snapshot(results_dir)
    rc, out, err = cli(capsys, "run", spec, "--results-dir", results_dir, "--quiet")
    assert_user_error(rc, out, err, "is not UTF-8 text")
    assert_no_new_results(results_dir, before)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_spec_file(capsys, tmp_path, results_dir, command):
    missing = tmp_path / "nope" / "exp.yaml"
    before = snapshot(results_dir)
    args = [command, missing] + (["--results-dir", results_dir] if command == "run" else [])
    rc, out, err = cli(capsys, *args)
    assert_user_error(rc, out, err, f"File {str(missing)!r} not found", "Expected a YAML spec")
    assert_no_new_results(results_dir, before)


@pytest.mark.parametrize("override, phrases", [
    pytest.param("training.epochs", ["--set expects key.path=value", "Got 'training.epochs' instead"], id="no-equals"),
    pytest.param("featurizers.5.max_features=10", ["--set featurizers.5.max_features", "is a list of 2",
                                                   "expected an index 0..1, got '5'"], id="index-out-of-range"),
    pytest.param("featurizers.first.max_features=10", ["is a list of 2", "got 'first'"], id="index-not-a-number"),
    pytest.param("seed.value=1", ["--set seed.value", "seed is not a mapping"], id="into-a-scalar"),
    pytest.param("training.epochs=ten", ["'epochs' parameter of TrainingConfig", "Got 'ten' instead"],
                 id="value-wrong-type"),
    pytest.param("featurizers.0.type=tfidff", ["Unknown featurizer 'tfidff'", "Did you mean 'tfidf'?"],
                 id="value-unknown-plugin"),
    pytest.param("evalution.bootstrap=10", ["Unknown top-level key 'evalution'"], id="unknown-key"),
])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_set_override(capsys, tmp_path, results_dir, cache_dir, command, override, phrases):
    spec = write_spec(tmp_path, spec_dict())
    before = snapshot(results_dir)
    extra = ["--results-dir", results_dir, "--quiet"] if command == "run" else ["--spec-only"]
    rc, out, err = cli(capsys, command, spec, "--set", override, "--cache-dir", cache_dir, *extra)
    assert_user_error(rc, out, err, *phrases)
    assert_no_new_results(results_dir, before)


def test_subprocess_bad_spec_real_exit_status(tmp_path, results_dir):
    spec = write_spec(tmp_path, spec_dict(featurizers=[{"type": "behaviour"}]))
    before = snapshot(results_dir)
    proc = subprocess.run([sys.executable, "-m", "toolkit", "run", str(spec), "--results-dir", str(results_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ")
    assert "Unknown featurizer 'behaviour'. Did you mean 'behavior'?" in proc.stderr
    assert proc.stdout == ""
    assert_no_new_results(results_dir, before)


# --------------------------------------------------------------------------- malformed CSV


def _bad_count(rows):
    rows.append(post_row(3, "1/16/2025 8:00", 3, likes="lots"))  # line 6
    return ["line 6", "column 'like_count'", "cannot use the value 'lots'", "Expected a count like",
            "data.on_bad_rows: skip"]


def _bad_time(rows):
    rows.insert(2, post_row(3, "Jan 14 2025", 3))  # the third record, after the two-line one: line 5
    return ["line 5", "column 'create_time'", "cannot use the value 'Jan 14 2025'", "M/D/YYYY H:MM",
            "data.on_bad_rows: skip"]


def _bad_count_in_later_column(rows):
    rows.append(post_row(3, "1/16/2025 8:00", 3, shares="1.2.3万"))
    return ["line 6", "column 'share_count'", "'1.2.3万'"]


@pytest.mark.parametrize("make_bad", [_bad_count, _bad_time, _bad_count_in_later_column],
                         ids=["count", "time", "share-count"])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_unparseable_value_names_file_line_column_value(capsys, tmp_path, results_dir, command, make_bad):
    rows = good_rows()
    phrases = make_bad(rows)
    data = write_csv(tmp_path, rows)
    spec = write_spec(tmp_path, csv_spec())
    before = snapshot(results_dir)
    extra = ["--results-dir", results_dir, "--quiet"] if command == "run" else []
    rc, out, err = cli(capsys, command, spec, *extra)
    assert_user_error(rc, out, err, f"Data file {data}", *phrases)
    assert_no_new_results(results_dir, before)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_required_column(capsys, tmp_path, results_dir, command):
    header = tuple(c for c in HEADER if c != "create_time")
    data = write_csv(tmp_path, good_rows(), header=header)
    spec = write_spec(tmp_path, csv_spec())
    before = snapshot(results_dir)
    extra = ["--results-dir", results_dir, "--quiet"] if command == "run" else []
    rc, out, err = cli(capsys, command, spec, *extra)
    assert_user_error(rc, out, err, f"Data file {data} has no column for 'create_time'", "'ip_localtion'",
                      "data.columns: {create_time: <file column>}")
    assert_no_new_results(results_dir, before)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_data_file(capsys, tmp_path, results_dir, command):
    spec = write_spec(tmp_path, csv_spec("data/posts_2025.csv"))
    before = snapshot(results_dir)
    extra = ["--results-dir", results_dir, "--quiet"] if command == "run" else []
    rc, out, err = cli(capsys, command, spec, *extra)
    assert_user_error(rc, out, err, f"Data file {tmp_path / 'data' / 'posts_2025.csv'} not found",
                      "does not exist")
    assert_no_new_results(results_dir, before)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_data_file_not_utf8(capsys, tmp_path, results_dir, command):
    rows = [post_row(u, f"1/{14 + u}/2025 12:08", u, likes="3829", collects="10+", content="plain ASCII text")
            for u in range(3)]
    rows[0]["content"] = "First post!\nSecond line of it"  # lines 2-3; the next records are lines 4, 5, 6
    rows.append(post_row(3, "1/16/2025 8:00", 3, content="学中文第三天"))  # the first non-ASCII text: line 6
    data = tmp_path / "posts.csv"
    data.write_bytes(csv_text(rows).encode("gbk"))  # what a spreadsheet on a Chinese-locale PC might save
    spec = write_spec(tmp_path, csv_spec())
    before = snapshot(results_dir)
    extra = ["--results-dir", results_dir, "--quiet"] if command == "run" else []
    rc, out, err = cli(capsys, command, spec, *extra)
    assert_user_error(rc, out, err, f"Data file {data} is not valid UTF-8", "line 6", "Re-save the file as UTF-8")
    assert_no_new_results(results_dir, before)


# --------------------------------------------------------------------------- label with too few positives


@pytest.mark.parametrize("command", ["run", "validate"])
def test_reference_label_with_one_positive(capsys, tmp_path, results_dir, command):
    write_csv(tmp_path, few_positive_rows())
    spec = write_spec(tmp_path, csv_spec(evaluation={}))  # default: 5 folds, 5 positives per fold
    before = snapshot(results_dir)
    extra = ["--results-dir", results_dir, "--quiet"] if command == "run" else []
    rc, out, err = cli(capsys, command, spec, *extra)
    assert_user_error(
        rc, out, err,
        "Too few positives to evaluate",
        "the label gives 1 retained users among 12 labelled users",  # the December user does not count
        "(positive rate 8.33%)",
        "with 5 folds a test fold would hold as few as 0 positives",
        "fewer than evaluation.min_positives_per_fold = 5",
        "To change this:",
        "fewer folds (evaluation.cv.folds, now 5)",
        "a wider label window (label.retained_if)",
        "a larger cohort (label.cohort)",
        "more data",
    )
    assert_no_new_results(results_dir, before)


def test_reference_label_with_one_positive_and_a_split(capsys, tmp_path, results_dir):
    write_csv(tmp_path, few_positive_rows())
    spec = write_spec(tmp_path, csv_spec(evaluation={"split": {"test_fraction": 0.25}}))
    rc, out, err = cli(capsys, "validate", spec)
    assert_user_error(rc, out, err, "1 retained users among 12", "a test split of 0.25",
                      "a larger evaluation.split.test_fraction")


def test_too_few_positives_message_follows_the_evaluation_settings(capsys, tmp_path):
    write_csv(tmp_path, few_positive_rows())
    spec = write_spec(tmp_path, csv_spec(evaluation={"cv": {"folds": 2}, "min_positives_per_fold": 1}))
    rc, out, err = cli(capsys, "validate", spec)
    assert_user_error(rc, out, err, "1 retained users among 12 labelled users", "with 2 folds",
                      "as few as 0 positives", "min_positives_per_fold = 1", "now 2")
    assert "spec " in out and ": ok" in out  # the spec itself was fine; the data step failed


# --------------------------------------------------------------------------- missing DistilBERT model


def test_missing_distilbert_model(capsys, tmp_path, results_dir, cache_dir):
    spec = write_spec(tmp_path, spec_dict(
        data={"synthetic": {"users": 200, "seed": 0, "positive_rate": 0.2}},
        featurizers=[{"type": "distilbert", "model": "/nonexistent/folder"}],
        head={"type": "logreg"},
        evaluation={"cv": {"folds": 2}},
    ))
    phrases = ("The model '/nonexistent/folder' for the distilbert featurizer was not found locally",
               "never downloads at run time", "To get it", "AutoModel.from_pretrained('/nonexistent/folder')",
               "huggingface-cli download", "set `model:` to a local folder holding config.json")
    # validate loads the data (it is fine) and then checks that the model is there
    rc, out, err = cli(capsys, "validate", spec, "--cache-dir", cache_dir)
    assert_user_error(rc, out, err, *phrases)
    before = snapshot(results_dir)
    # Without --quiet: the progress display must not hide the message or leave a traceback.
    rc, out, err = cli(capsys, "run", spec, "--results-dir", results_dir, "--cache-dir", cache_dir)
    assert "error: " in err, err
    message = err[err.index("error: "):]  # progress output comes first on stderr
    assert_user_error(rc, out, message, *phrases)
    assert "Traceback" not in out + err
    assert out == ""
    assert_no_new_results(results_dir, before)
    assert list((cache_dir / "synthetic").glob("synthetic-*-u200-s0-r0.2.csv"))


# --------------------------------------------------------------------------- data synth


@pytest.mark.parametrize("args, phrases", [
    pytest.param(["--users", "3"], ["'users' argument of the synthetic generator must be an int from 10 to 1,500,000", "Got 3"],
                 id="too-few-users"),
    pytest.param(["--users", "50", "--positive-rate", "1.5"], ["'positive_rate' argument", "range (0, 1)",
                                                               "Got 1.5"], id="rate-out-of-range"),
    pytest.param(["--users", "50", "--positive-rate", "0"], ["'positive_rate' argument", "Got 0.0"], id="rate-zero"),
    pytest.param(["--users", "50", "--seed", "-1"], ["'seed' argument", ">= 0", "Got -1"], id="negative-seed"),
])
def test_data_synth_bad_values(capsys, tmp_path, args, phrases):
    out_path = tmp_path / "synth.csv"
    rc, out, err = cli(capsys, "data", "synth", *args, "--out", out_path)
    assert_user_error(rc, out, err, *phrases)
    assert list(tmp_path.iterdir()) == []  # neither the posts CSV nor its truth file


def test_data_synth_out_folder_missing(capsys, tmp_path):
    rc, out, err = cli(capsys, "data", "synth", "--users", "50", "--out", tmp_path / "missing" / "synth.csv")
    assert_user_error(rc, out, err, "--out: folder", "missing", "does not exist")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["--users", "many", "--out", "x.csv"], ["--users", "50"],
                                  ["--users", "50", "--out", "x.csv", "--positive-rate", "high"]],
                         ids=["users-not-int", "no-out", "rate-not-float"])
def test_data_synth_bad_args_are_argparse_errors(capsys, tmp_path, args):
    with pytest.raises(SystemExit) as info:
        main(["data", "synth", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "error:" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- argparse and --help


@pytest.mark.parametrize("argv, phrase", [
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["data"], "the following arguments are required: COMMAND"),
    (["data", "shuffle"], "invalid choice: 'shuffle'"),
    (["run"], "the following arguments are required: spec"),
    (["run", "spec.yaml", "--epochs", "3"], "unrecognized arguments: --epochs 3"),
])
def test_bad_command_line_exits_2(capsys, argv, phrase):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert "usage: python -m toolkit" in captured.err and phrase in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_no_command_in_a_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "toolkit"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "usage:" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv, phrases", [
    ([], ["usage: python -m toolkit", "run", "validate", "plugins", "data"]),
    (["run"], ["usage: python -m toolkit run", "--set KEY.PATH=VALUE", "--results-dir", "--cache-dir", "--quiet"]),
    (["validate"], ["usage: python -m toolkit validate", "--spec-only", "--set"]),
    (["plugins"], ["usage: python -m toolkit plugins", "List every installed featurizer and head"]),
    (["data"], ["usage: python -m toolkit data", "synth"]),
    (["data", "synth"], ["usage: python -m toolkit data synth", "--users", "--seed", "--positive-rate", "--out"]),
], ids=["top", "run", "validate", "plugins", "data", "data-synth"])
def test_help(capsys, argv, phrases):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for phrase in phrases:
        assert phrase in out


# --------------------------------------------------------------------------- known bugs (see the report)


def test_message_with_markup_like_text_is_printed_verbatim(capsys, tmp_path, results_dir):
    raw = spec_dict()
    raw["[/b]"] = 1
    spec = write_spec(tmp_path, raw)
    rc, out, err = cli(capsys, "run", spec, "--results-dir", results_dir, "--quiet")
    assert_user_error(rc, out, err, "Unknown top-level key '[/b]'")


def test_bad_value_in_brackets_is_shown(capsys, tmp_path):
    rows = good_rows() + [post_row(3, "1/16/2025 8:00", 3, likes="[deleted]")]
    write_csv(tmp_path, rows)
    rc, out, err = cli(capsys, "validate", write_spec(tmp_path, csv_spec()))
    assert_user_error(rc, out, err, "cannot use the value '[deleted]'")


def test_data_synth_out_is_a_directory(capsys, tmp_path):
    (tmp_path / "out").mkdir()
    rc, out, err = cli(capsys, "data", "synth", "--users", "20", "--out", tmp_path / "out")
    assert_user_error(rc, out, err, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_results_dir_is_a_file(capsys, tmp_path, cache_dir):
    target = tmp_path / "results"
    target.write_text("not a folder\n")
    spec = write_spec(tmp_path, spec_dict(data={"synthetic": {"users": 200, "seed": 0, "positive_rate": 0.2}},
                                          featurizers=[{"type": "behavior"}], evaluation={"cv": {"folds": 2}}))
    rc, out, err = cli(capsys, "run", spec, "--results-dir", target, "--cache-dir", cache_dir, "--quiet")
    assert_user_error(rc, out, err, "--results-dir")
    assert target.read_text() == "not a folder\n"
