import numpy as np
import pandas as pd
import pytest

from toolkit.data.synth import generate
from toolkit.data.synth.intent import INTENT_EFFECT, LEAVE_PHRASES, STAY_PHRASES, draw_intent, write_intent
from toolkit.data.synth.process import chinese_only_share

# The shares docs/getting-started.md's "The synthetic data" states, measured on 3,000 users with seed 0.
DOCUMENTED = {"of_text": 0.307, "of_signal": 0.096}


@pytest.fixture(scope="module")
def posts():
    return generate(1500, seed=4)[0]


def test_chinese_only_share_matches_the_documented_numbers():
    share = chinese_only_share(3000, seed=0)
    assert share["of_text"] == pytest.approx(DOCUMENTED["of_text"], abs=0.005)
    assert share["of_signal"] == pytest.approx(DOCUMENTED["of_signal"], abs=0.005)
    # A real but minority part on other seeds too.
    other = chinese_only_share(3000, seed=1)
    assert 0.25 < other["of_text"] < 0.35 and 0.08 < other["of_signal"] < 0.12


def test_phrases_are_written_only_inside_chinese_text(posts):
    phrases = STAY_PHRASES + LEAVE_PHRASES
    content = posts["content"]
    stated = content.map(lambda c: any(p in c for p in phrases))
    assert 0.05 < stated.mean() < 0.5
    # No English counterpart, tag or emoji: labels never carry it, and the phrase is the post's start.
    assert not posts["label"].map(lambda c: any(p in c for p in phrases)).any()
    assert content[stated].map(lambda c: c.startswith(phrases)).all()


def test_a_user_states_one_intent(posts):
    def side(c):
        return 1 if any(p in c for p in STAY_PHRASES) else -1 if any(p in c for p in LEAVE_PHRASES) else 0

    sides = posts.assign(side=posts["content"].map(side)).query("side != 0").groupby("user_id")["side"].nunique()
    assert len(sides) > 50 and (sides == 1).all()


def test_english_posts_never_state_it_and_empty_content_gets_only_the_phrase():
    rng = np.random.default_rng(0)
    content = ["hello there", "", "你好", "hi 你好"] * 200
    language = np.array(["en", "zh", "zh", "mixed"] * 200)
    intent = draw_intent(np.random.default_rng(1), 800)
    out = write_intent(rng, content, intent, language)
    assert out[0::4] == content[0::4]
    empty = [o for o in out[1::4] if o]
    assert empty and all(o in STAY_PHRASES + LEAVE_PHRASES for o in empty)
    changed = sum(o != c for o, c in zip(out, content)) / 600
    assert 0.4 < changed < 0.6  # PHRASE_CHANCE of the posts with Chinese


def test_intent_moves_retention():
    # Among users who stated an intent in week one, stayers are retained more often than leavers.
    posts, truth = generate(3000, seed=2)

    def side(c):
        return 1 if any(p in c for p in STAY_PHRASES) else -1 if any(p in c for p in LEAVE_PHRASES) else 0
    per_user = np.sign(posts.assign(side=posts["content"].map(side)).groupby("user_id")["side"].sum())
    joined = truth.set_index("user_id").join(per_user.rename("side"))
    stay, leave = joined.loc[joined["side"] == 1, "p_retained"], joined.loc[joined["side"] == -1, "p_retained"]
    assert INTENT_EFFECT > 0 and stay.mean() > 1.5 * leave.mean()
