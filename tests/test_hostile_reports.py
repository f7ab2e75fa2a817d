"""Hostile battery: what the toolkit reads and shows (reports, cached data, sweep sizes, limits)."""

from __future__ import annotations

import base64
import csv
import os
import re
import warnings
from html.parser import HTMLParser

import pytest

from hostile import assert_refused, toolkit
from toolkit.analysis.report_html import markdown_to_html
from toolkit.sanitize import for_markdown_cell

SECRET = b"SECRET-BYTES-5f1c0a9e-never-in-a-report"
HEADER = ["post_id", "user_id", "title", "content", "label", "like_count", "collect_count", "comment_count",
          "share_count", "create_time", "post_type", "ip_localtion"]


class _Tags(HTMLParser):
    """Every tag and attribute a browser would see in a page."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def _active_markup(page: str) -> list:
    """Tags or attributes a browser would act on beyond what the report writes itself."""
    parser = _Tags()
    parser.feed(page)
    bad = []
    for tag, attrs in parser.found:
        if tag in ("script", "iframe", "object", "embed", "a", "link", "form", "svg"):
            bad.append((tag, attrs))
        bad += [(tag, k) for k in attrs if k.startswith("on") or k in ("href", "srcset")]
        if tag == "img" and (set(attrs) != {"alt", "src"} or not attrs["src"].startswith("data:image/png;base64,")):
            bad.append((tag, attrs))
    return bad


def _planted(tmp_path):
    """A secret file and the hostile values that point at it, absolute, relative and by ``../``."""
    secret = tmp_path / "secret.key"
    secret.write_bytes(SECRET)
    return [
        f"normal\n![k]({secret})\nx",
        "video\n![k](../secret.key)\nx",
        "normal\n![a\" onerror=\"alert(1)](secret.key)\n",
        f"\n![volume.png]({secret})\n<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        f"x\n\n![k](../../secret.key)\n\n# heading\n| a | b |",
        "normal\n![k](../../../../secret.key)\n",  # from r/eda/hostile/<timestamp>/ to the secret
        "normal\r![k](../../../../secret.key)\u2028x",
    ]


def _hostile_csv(tmp_path, values):
    path = tmp_path / "data" / "hostile.csv"
    path.parent.mkdir()
    users = ["u_a", "u_b", "u_c", "u_d", "u_e", "u_f"]
    # a post on every day from January 1 to February 10, so the default crawl-coverage rule keeps every day
    days = [f"{1 + (d >= 31)}/{d + 1 - 31 * (d >= 31)}/2025 10:00" for d in range(41)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(82):
            bad = values[i % len(values)]
            out.writerow([f"p{i}", users[i % len(users)], bad, f"garden {bad} rocket", bad, "3", "0", "0", "0",
                          days[i % len(days)], bad if i % 3 else "video", "U.S."])
    return path


def test_eda_report_never_embeds_or_shows_a_file_named_in_the_data(tmp_path):
    values = _planted(tmp_path)
    path = _hostile_csv(tmp_path, values)
    done = toolkit("eda", str(path), "--results-dir", str(tmp_path / "r"), "--topics", "2", cwd=tmp_path / "data")
    assert done.rc == 0, done.text
    folder = next((tmp_path / "r" / "eda" / "hostile").iterdir())
    page = (folder / "report.html").read_bytes()
    assert SECRET not in page and base64.b64encode(SECRET)[:24] not in page
    assert _active_markup(page.decode("utf-8")) == []
    figures = sorted(p.name for p in folder.glob("*.png"))
    assert page.count(b"data:image/png;base64,") == len(figures) >= 6
    md = (folder / "report.md").read_text(encoding="utf-8")
    own = {f"({name})" for name in figures}
    for line in md.splitlines():
        assert not line.startswith("![") or any(line.endswith(o) for o in own), line
        assert not line.startswith(("<", ">")), line
    # the data was shown, escaped: the post type's text is in the page, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.decode()


def test_renderer_embeds_only_its_own_figures_by_name(tmp_path):
    secret = tmp_path / "secret.key"
    secret.write_bytes(SECRET)
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "volume.png").write_bytes(b"\x89PNG-volume")
    (folder / "other.png").symlink_to(secret)
    (folder / "copied.png").write_bytes(SECRET)
    md = "\n".join([f"![k]({secret})", "![k](../secret.key)", "![x\" onerror=\"alert(1)](volume.png)",
                    "![k](other.png)", "![k](copied.png)", "![k](./volume.png)"])
    page = markdown_to_html(md, folder, "t <script>", figures=["volume.png", "other.png"])
    assert SECRET not in page.encode() and base64.b64encode(SECRET)[:24].decode() not in page
    assert page.count("data:image/png;base64,") == 1  # volume.png, once, by its exact name
    assert 'alt="x&quot; onerror=&quot;alert(1)"' in page and _active_markup(page) == []
    assert base64.b64encode(b"\x89PNG-volume").decode() in page


def test_renderer_shows_escaped_markdown_as_the_original_text(tmp_path):
    value = "a|b **c** `d` ![e](f) <g> \\ _h_ #i"
    page = markdown_to_html(f"| x | y |\n|---|---|\n| {for_markdown_cell(value)} | 1 |", tmp_path, "t")
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert cells == ["a|b **c** `d` ![e](f) &lt;g&gt; \\ _h_ #i", "1"]


def test_markdown_cell_is_one_line_without_syntax():
    cell = for_markdown_cell("normal\n![k](/etc/passwd)\r\n|x\x1b]0;t\x07")
    assert "\n" not in cell and "\x1b" not in cell and "![" not in cell and "|" not in cell.replace("\\|", "")


@pytest.mark.parametrize("size", [21 * 1024 * 1024])
def test_renderer_never_reads_a_huge_figure(tmp_path, size):
    folder = tmp_path / "report"
    folder.mkdir()
    with (folder / "volume.png").open("wb") as fh:
        fh.truncate(size)  # sparse: no disk used
    page = markdown_to_html("![volume](volume.png)", folder, "t", figures=["volume.png"])
    assert "data:image" not in page and len(page) < 10_000


def _oracle_auc(path):
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from toolkit.data.synth import truth_path

    truth = pd.read_csv(truth_path(path), dtype={"user_id": str}, encoding="utf-8-sig")
    return roc_auc_score(truth["retained"], truth["p_retained"])


def test_tampered_synthetic_truth_in_the_cache_is_regenerated(tmp_path):
    import pandas as pd

    from toolkit.data.synth import ensure_synthetic, truth_path

    path = ensure_synthetic(400, seed=3, cache_dir=tmp_path)
    truth = truth_path(path)
    original, auc = truth.read_bytes(), _oracle_auc(path)
    assert auc > 0.7
    frame = pd.read_csv(truth, dtype={"user_id": str}, encoding="utf-8-sig")
    frame["p_retained"] = 1 - frame["p_retained"]  # flipped: the oracle would look worse than chance
    frame.to_csv(truth, index=False)
    assert _oracle_auc(path) < 0.3
    with pytest.warns(UserWarning, match="not trusted"):
        assert ensure_synthetic(400, seed=3, cache_dir=tmp_path) == path
    assert truth.read_bytes() == original and _oracle_auc(path) == pytest.approx(auc)


@pytest.mark.parametrize("tamper", ["posts", "signature", "forged"])
def test_synthetic_posts_or_signature_altered_is_regenerated(tmp_path, tamper):
    import json

    from toolkit.data.synth import ensure_synthetic
    from toolkit.data.synth.cache import signature_path

    path = ensure_synthetic(60, seed=4, cache_dir=tmp_path)
    original = path.read_bytes()
    if tamper == "posts":
        path.write_bytes(original.replace(b"video", b"VIDEO", 1))
    elif tamper == "signature":
        signature_path(path).unlink()
    else:  # the attacker rewrites the file and a matching checksum, but cannot sign it
        path.write_bytes(original + b"p,x,,,,0,0,0,0,1/1/2025 10:00,normal,U.S.\n")
        doc = json.loads(signature_path(path).read_text())
        from toolkit.data.synth.cache import _digest

        doc["files"][0] = _digest(path)
        signature_path(path).write_text(json.dumps(doc))
    with pytest.warns(UserWarning, match="not trusted"):
        ensure_synthetic(60, seed=4, cache_dir=tmp_path)
    assert path.read_bytes() == original


def test_empty_home_keeps_cache_and_key_in_a_private_temporary_folder(tmp_path, monkeypatch):
    for name in ("TOOLKIT_CACHE_DIR", "TOOLKIT_CACHE_KEY_FILE", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    done = toolkit("cache", "clear", cwd=tmp_path, env={"HOME": "", "TMPDIR": str(tmp_path)})
    assert done.rc == 0, done.text
    private = tmp_path / f"toolkit-{os.getuid()}"
    assert "HOME is ''" in done.err and str(private) in done.err
    assert f"from {private}/.cache/toolkit/features" in done.out and " /.cache" not in done.out
    assert private.is_dir() and private.stat().st_mode & 0o077 == 0


def test_empty_home_key_and_cache_paths(tmp_path, monkeypatch):
    from toolkit.signing import key_file
    from toolkit.user_dirs import cache_root

    for name in ("TOOLKIT_CACHE_DIR", "TOOLKIT_CACHE_KEY_FILE", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with pytest.warns(UserWarning, match="HOME is ''"):
        assert key_file().parent.parent.parent == tmp_path / f"toolkit-{os.getuid()}"
    with pytest.warns(UserWarning, match="HOME"):
        assert str(cache_root()).startswith(str(tmp_path))
    monkeypatch.setenv("HOME", "relative/home")
    with pytest.warns(UserWarning, match="relative/home"):
        assert cache_root().is_absolute()


def test_a_temporary_folder_made_by_someone_else_is_refused(tmp_path, monkeypatch):
    from toolkit.errors import ToolkitError
    from toolkit.user_dirs import cache_root

    monkeypatch.delenv("TOOLKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", "")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    planted = tmp_path / f"toolkit-{os.getuid()}"
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)  # open to everyone: someone else may have made it
    with pytest.raises(ToolkitError, match="not a private folder"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cache_root()


def _big_sweep(folder, seeds=100, trainings=100):
    import yaml

    from specs import BASE

    (folder / "base.yaml").write_text(yaml.safe_dump(BASE))
    grid = {"seed": list(range(seeds)), "training": [{"epochs": e} for e in range(1, trainings + 1)]}
    (folder / "sweep.yaml").write_text(yaml.safe_dump({"name": "huge", "base": "base.yaml", "grid": grid}))
    return folder / "sweep.yaml"


@pytest.mark.parametrize("command", ["validate", "bench"])
def test_a_sweep_of_ten_thousand_configurations_is_refused_before_expanding(tmp_path, command):
    import time

    sweep = _big_sweep(tmp_path)
    assert sweep.stat().st_size < 4000
    start = time.perf_counter()
    done = toolkit(command, str(sweep), *(["--results-dir", str(tmp_path / "r")] if command == "bench" else []),
                   cwd=tmp_path)
    assert_refused(done, 2, "10,000 configurations", "1,000", "--max-configs")
    assert time.perf_counter() - start < 30  # expanding them took 48 s; the refusal needs no expansion
    assert not (tmp_path / "r").exists()


def test_the_cap_counts_every_grid_of_a_list_and_can_be_raised(tmp_path):
    import yaml

    from toolkit.bench.sweep import load_sweep
    from toolkit.errors import ToolkitError

    sweep = _big_sweep(tmp_path, seeds=3, trainings=2)
    raw = yaml.safe_load(sweep.read_text())
    raw["grid"] = [raw["grid"], {"seed": [0, 1], "head": [{"type": "logreg"}]}]  # 6 + 2 configurations
    sweep.write_text(yaml.safe_dump(raw))
    with pytest.raises(ToolkitError, match="asks for 8 configurations, more than the limit of 7"):
        load_sweep(sweep, max_configs=7)
    assert len([c for c in load_sweep(sweep, max_configs=8).configs if not c.is_baseline]) == 8


def test_max_configs_must_be_positive(tmp_path):
    sweep = _big_sweep(tmp_path, seeds=2, trainings=2)
    assert_refused(toolkit("validate", str(sweep), "--spec-only", "--max-configs", "0", cwd=tmp_path), 2,
                   "--max-configs must be an int >= 1")
    done = toolkit("validate", str(sweep), "--spec-only", "--max-configs", "4", cwd=tmp_path)
    assert done.rc == 0 and "4 configurations" in done.out, done.text


def test_a_sweep_in_which_every_configuration_is_skipped_exits_non_zero(tmp_path):
    import yaml

    from specs import BASE

    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    grid = {"head": [{"type": "lstm"}], "seed": [0, 1]}  # lstm takes only sequence blocks: both skipped
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({"name": "none", "base": "base.yaml", "grid": grid}))
    done = toolkit("bench", "sweep.yaml", "--quiet", "--results-dir", "r", "--cache-dir", "c", cwd=tmp_path)
    assert_refused(done, 1, "no configuration ran", "all 2 were skipped")
    assert "lstm takes only sequence blocks" in done.out


@pytest.mark.parametrize("index", ["³", "٣", "1²", "²"])
def test_a_set_index_of_non_ascii_digits_is_one_error_line(tmp_path, index):
    import yaml

    from specs import BASE

    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(BASE))
    done = toolkit("validate", "spec.yaml", "--spec-only", "--set", f"featurizers.{index}.max_features=5", cwd=tmp_path)
    assert_refused(done, 2, "--set featurizers.", "expected an index 0..1")


@pytest.mark.parametrize("repeats", ["1", "1001", "100000000"])
def test_explain_repeats_is_bounded(tmp_path, repeats):
    done = toolkit("explain", str(tmp_path / "no-such-run"), "--repeats", repeats, cwd=tmp_path)
    assert_refused(done, 2, "--repeats must be an int from 2", "to 1000", repeats)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    import yaml

    from specs import BASE
    from toolkit.cli import main

    folder = tmp_path_factory.mktemp("done")
    (folder / "spec.yaml").write_text(yaml.safe_dump(BASE))
    assert main(["run", str(folder / "spec.yaml"), "--quiet", "--results-dir", str(folder / "r"),
                 "--cache-dir", str(folder / "c")]) == 0
    return next((folder / "r" / "t").iterdir())


@pytest.mark.parametrize("value", [float("inf"), float("nan"), float("-inf")])
def test_compare_marks_and_warns_about_metrics_that_are_not_finite(tmp_path, finished_run, value):
    import json
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["metrics"]["roc_auc"]["mean"] = value
    (run / "metrics.json").write_text(json.dumps(metrics))
    done = toolkit("compare", str(run), "--out", "cmp", cwd=tmp_path)
    assert done.rc == 0, done.text
    warning = [line for line in done.text.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "roc_auc" in warning[0] and "t (" in warning[0], done.text
    table = (tmp_path / "cmp" / "table.md").read_text()
    assert f"{'nan' if value != value else value}!" in table


@pytest.mark.parametrize("users", ["5000000", "1500001"])
def test_data_synth_refuses_more_users_than_fit_the_machine(tmp_path, users):
    done = toolkit("data", "synth", "--users", users, "--out", "s.csv", "--quiet", cwd=tmp_path)
    assert_refused(done, 2, "from 10 to 1,500,000", users)
    assert not list(tmp_path.iterdir())


def test_a_synthetic_spec_over_the_maximum_is_refused(tmp_path):
    import yaml

    from specs import BASE

    spec = {**BASE, "data": {"synthetic": {"users": 5_000_000, "seed": 1}}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    assert_refused(toolkit("validate", "spec.yaml", "--spec-only", cwd=tmp_path), 2, "users", "1500000")


def test_one_user_with_megabytes_of_text_is_capped_before_featurizing():
    import numpy as np
    import pandas as pd

    from toolkit.data.user_text import MAX_USER_TEXT_CHARS, text_columns

    post = "garden " * 100  # 700 characters
    n = 3 * MAX_USER_TEXT_CHARS // len(post)
    window = pd.DataFrame({"title": ["t"] * (n + 2), "content": [post] * n + ["short", None],
                           "hashtags": ["a#b"] * (n + 2)})
    key = np.array([0] * n + [1, 1])
    out = text_columns(window, key, 3)
    full = n * len(("t\n" + post).strip()) + (n - 1)
    assert len(out.loc[0, "text"]) == MAX_USER_TEXT_CHARS
    assert out.loc[0, "text"] == "\n".join([("t\n" + post).strip()] * n)[:MAX_USER_TEXT_CHARS]
    assert out.loc[0, "text_chars"] == pytest.approx(np.log1p(full))  # the length of the whole text
    assert out.loc[1, "text"] == "t\nshort\nt" and out.loc[1, "text_chars"] == pytest.approx(np.log1p(9))
    assert out.loc[2, "text"] == "" and out.loc[2, "text_chars"] == 0


def test_eda_survives_mathtext_and_thousands_of_post_types(tmp_path):
    values = ["$\\notacommand{x}$", "a$b", "$$", "\\$\\frac{1}{0}$"] + [f"type{i}" for i in range(2000)]
    path = _hostile_csv(tmp_path, values)
    done = toolkit("eda", str(path), "--results-dir", str(tmp_path / "r"), "--topics", "2", cwd=tmp_path / "data")
    assert done.rc == 0, done.text
    folder = next((tmp_path / "r" / "eda" / "hostile").iterdir())
    md = (folder / "report.md").read_text(encoding="utf-8")
    types_line = next(line for line in md.splitlines() if "Post types:" in line)
    assert types_line.count("%") <= 11 + 1 and "other (" in types_line  # ten types, "other", the Chinese share
    assert (folder / "posts_mix.png").stat().st_size < 2_000_000


def test_explain_markdown_keeps_words_from_data_on_their_line():
    from toolkit.analysis.explain import _topic_lines
    from toolkit.analysis.terms import terms_lines as _terms_lines

    bad = "x\n![k](/etc/passwd)\n# h |"
    term = {"term": bad, "coef": 1.0, "users": 3}
    terms = {"model": "m", "retention": {"english": [term], "chinese": []}, "churn": {"english": [], "chinese": []}}
    topics = {"n_topics": 1, "rule": "r", "topics": [{"id": 0, "english": [bad], "chinese": [], "users": 3,
                                                        "rate": 0.5, "ci_low": 0.1, "ci_high": 0.9}]}
    lines = _terms_lines(terms) + _topic_lines(topics)
    assert not any(line.startswith(("![", "#")) for line in lines)
    assert all("\n" not in line for line in lines)
    row = next(line for line in lines if line.startswith("| 0 |"))
    assert row.count(" | ") == 4  # the escaped "|" did not add a cell


def test_comparing_more_specs_than_the_cap_is_refused_before_reading_them(tmp_path):
    names = [f"missing{i}.yaml" for i in range(3)]  # never read: the count alone is refused
    assert_refused(toolkit("bench", *names, "--max-configs", "2", cwd=tmp_path), 2, "3 specs to compare", "limit of 2")


def test_escape_sequences_in_sweep_labels_never_reach_report_html(tmp_path):
    # labels, ids and reasons come from a received sweep file; `cat report.html` must not run them
    from toolkit.bench.html import write_report
    from toolkit.bench.records import ConfigResult
    from toolkit.bench.table import build_rows, header_lines

    results = [ConfigResult("c00-\x1b[2J", "lab \x1b]0;pwned\x07 \x9b31m", "skipped", "why \x1b[31mred\u202e", None,
                            True, {}, "0" * 64)]
    page = write_report(build_rows(results), header_lines(results) + ["sweep \x1b]0;title\x07"], {}, tmp_path)
    text = page.read_text(encoding="utf-8")
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text), \
        sorted({hex(ord(c)) for c in text if not c.isprintable() and c != "\n"})
    assert "lab ?]0;pwned? ?31m" in text  # shown as the console shows it, '?' for each control
