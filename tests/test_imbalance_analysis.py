import numpy as np
import pytest

from factories import minimal_metrics
from toolkit.analysis.imbalance import paired_deltas, recall_at_precision

# descending scores .9 .8 .7 .6 .5 .4 .3 .2 with labels 1 0 1 1 0 0 1 0 (4 positives):
# precision at >= each: 1, 1/2, 2/3, 3/4, 3/5, 1/2, 4/7, 1/2; recall: 1/4, 1/4, 2/4, 3/4, 3/4, 3/4, 1, 1
Y = np.array([1, 0, 1, 1, 0, 0, 1, 0]).astype(bool)
S = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])


@pytest.mark.parametrize("precision, recall", [(1.0, 0.25), (0.75, 0.75), (0.6, 0.75), (0.55, 1.0), (0.5, 1.0)])
def test_recall_at_precision_by_hand(precision, recall):
    assert recall_at_precision(Y, S, precision) == recall


def test_recall_at_precision_is_zero_when_no_threshold_reaches_it():
    assert recall_at_precision(np.array([False, True]), np.array([0.9, 0.1]), 0.9) == 0.0


def test_paired_deltas_of_a_model_with_itself_are_exactly_zero():
    pred = S >= 0.6
    d = paired_deltas((Y, S[None], pred[None]), (Y, S[None], pred[None]), 0.75, n_boot=50)
    for name in ("recall_at_precision", "recall", "precision"):
        assert d[name]["mean"] == d[name]["ci_low"] == d[name]["ci_high"] == 0.0
        assert not d[name]["excludes_zero"]


def test_paired_deltas_point_estimate_by_hand():
    better = np.where(Y, S + 1.0, S)  # every positive above every negative: recall 1 at precision 1
    pred_a, pred_b = better >= 1.0, S >= 0.9
    d = paired_deltas((Y, better[None], pred_a[None]), (Y, S[None], pred_b[None]), 0.75, n_boot=50)
    assert d["recall_at_precision"]["mean"] == pytest.approx(1.0 - 0.75)
    assert d["recall"]["mean"] == pytest.approx(1.0 - 0.25)  # 4/4 flagged vs 1/4
    assert d["precision"]["mean"] == pytest.approx(0.0)  # both flag positives only
    assert d["recall"]["excludes_zero"]


def _fake_sweep(tmp_path, configs):
    """A sweep folder the bench reader accepts: ``configs`` maps id -> (axes, baseline id, scores)."""
    import json

    import pandas as pd

    from toolkit.bench.records import ConfigResult

    lines, order = [], {}
    for cid, (axes, base, scores, y) in configs.items():
        folder = tmp_path / cid
        folder.mkdir()
        (folder / "metrics.json").write_text(json.dumps(minimal_metrics(cid, y)))
        pd.DataFrame({"user_id": [f"u{i:03d}" for i in range(len(y))], "repeat": 0, "fold": np.arange(len(y)) % 3,
                      "label": y.astype(int), "score": scores, "predicted": (scores >= 0.5).astype(int)}
                     ).to_csv(folder / "predictions.csv", index=False)
        label = " | ".join(f"{k} {v}" for k, v in axes.items())
        lines.append(json.dumps(ConfigResult(cid, label, "done", "", folder, cid == base, axes).to_dict(tmp_path)))
        order[cid] = base
    (tmp_path / "ledger.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "baselines.json").write_text(json.dumps(order))
    return tmp_path


def test_seeds_are_aggregated_and_stars_are_holm_corrected_like_the_bench_table(tmp_path):
    from toolkit.analysis.imbalance import imbalance_table
    from toolkit.evaluation.metrics import holm

    rng = np.random.default_rng(0)
    y = np.zeros(90, dtype=bool)
    y[:20] = True
    configs = {}
    for seed in (0, 1):
        base = f"b{seed}"
        configs[base] = ({"head": "logreg", "seed": seed}, base, rng.random(90), y)
        # one strategy helps at seed 0 and does nothing at seed 1: a per-seed table stars it once
        good = np.where(y, 0.45 + 0.5 * rng.random(90), 0.5 * rng.random(90)) if seed == 0 else rng.random(90)
        configs[f"m{seed}"] = ({"head": "mlp", "seed": seed}, base, good, y)
        for k in range(3):  # strategies that change nothing: many tests, no findings
            configs[f"n{k}{seed}"] = ({"head": f"null{k}", "seed": seed}, base, rng.random(90), y)
    sweep = _fake_sweep(tmp_path, configs)

    per_seed = imbalance_table(sweep, precision=0.3, n_boot=300, per_seed=True)
    rows = imbalance_table(sweep, precision=0.3, n_boot=300)
    assert len(per_seed) == 10 and len(rows) == 5
    mlp = next(r for r in rows if r["label"].startswith("head mlp"))
    assert mlp["seeds"] == 2 and mlp["label"].endswith("| 2 seeds")
    by_id = {r["config_id"]: r for r in per_seed}
    assert mlp["recall"] == pytest.approx((by_id["m0"]["recall"] + by_id["m1"]["recall"]) / 2)
    assert mlp["delta"]["recall"]["mean"] == pytest.approx(
        (by_id["m0"]["delta"]["recall"]["mean"] + by_id["m1"]["delta"]["recall"]["mean"]) / 2)
    # one good seed alone is far stronger evidence than the configuration over its seeds ...
    assert by_id["m0"]["delta"]["recall"]["mean"] > 0.3
    assert by_id["m0"]["delta"]["recall"]["p"] < mlp["delta"]["recall"]["p"]
    # ... which, corrected for every row and column tested, is no finding
    assert not mlp["delta"]["recall"]["significant"]
    names = ("recall_at_precision", "recall", "precision")
    for table in (rows, per_seed):
        with_delta = [r for r in table if r.get("delta")]
        # Holm over the whole table, rows and columns together (it ran per column before)
        expected = iter(holm([r["delta"][name]["p"] for r in with_delta for name in names]))
        for r in with_delta:
            for name in names:
                p = next(expected)
                d = r["delta"][name]
                assert d["p_holm"] == pytest.approx(p) and d["p_holm"] >= d["p"]
                assert d["significant"] == (d["p_holm"] < 0.05)
