"""Long work reports counts to the active progress sink, and to nothing when none is active."""

import numpy as np

from factories import make_users
from toolkit.data.posts import load_posts
from toolkit.data.synth import write_synthetic
from toolkit.text.tokenize import user_texts
from toolkit.text.tokens import clear_memo, tokenize_texts
from toolkit.progress import Progress, counter_for


class Recorder(Progress):
    def __init__(self):
        super().__init__()
        self.totals, self.counts = {}, {}

    def start(self, task, total):
        self.totals[task] = total
        self.counts[task] = 0

    def advance(self, task, steps=1):
        self.counts[task] += steps


def test_no_active_sink_means_no_counter():
    assert counter_for("tokenize", 10**6) is None


def test_tokenizing_generating_and_writing_report_counts(tmp_path):
    texts = user_texts(make_users(40, seed=5)) * 200  # 8,000 texts: above the bar threshold
    rec = Recorder()
    clear_memo()
    with rec.activated():
        tokenize_texts(texts)
        write_synthetic(tmp_path / "s.csv", 6000, 0)
    clear_memo()
    assert rec.totals["tokenize"] == rec.counts["tokenize"] == len(texts)
    assert rec.counts["generate"] == 6000
    posts, _ = load_posts(tmp_path / "s.csv")
    assert rec.counts["write rows"] >= 6000 and rec.totals["write rows"] == rec.counts["write rows"]
    assert counter_for("tokenize", 10**6) is None  # the sink is gone after the block
    assert np.isfinite(posts["like_count"]).all()
