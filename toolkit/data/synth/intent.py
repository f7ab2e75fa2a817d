"""A part of the synthetic signal written only in Chinese: each user's intent to stay or to leave.

Every theme shows in English too (tags, hashtags, emoji), so a model that reads no Chinese
would lose little of the text signal without this part. Here each user intends to stay or to
leave, and says so only in Chinese sentences ("打算一直用下去", "过几天就卸载了"), inside the
Chinese text of their posts: no English counterpart, no tag, no emoji. Users who write no
Chinese never show it.

Its draws come from their own generator, so the rest of the data draws what it drew before.
"""

from __future__ import annotations

import re

import numpy as np

#: text-score effect of a stated intent (+1 stay, -1 leave) written in a first-week post
INTENT_EFFECT = 1.25
#: chance that a post with Chinese in it (language ``zh`` or ``mixed``) states the intent
PHRASE_CHANCE = 0.5
STAY_PHRASES = ("以后就在小红书安家了", "打算一直用下去", "每天都要来打卡", "这里比想象的好太多了，不走了",
                "已经离不开这里了", "决定长期在这里分享生活")
LEAVE_PHRASES = ("等TikTok回来我就回去", "只是来凑个热闹", "过几天就卸载了", "看看而已，不会久留",
                 "玩两天就走", "还是更习惯原来的软件")
_ANY_PHRASE = re.compile("|".join(re.escape(p) for p in STAY_PHRASES + LEAVE_PHRASES))


def draw_intent(rng: np.random.Generator, n: int) -> np.ndarray:
    """Each user's intent: +1 (stay) or -1 (leave), equally likely."""
    return np.where(rng.random(n) < 0.5, 1, -1)


def write_intent(rng: np.random.Generator, content: list[str], intent: np.ndarray, language: np.ndarray) -> list[str]:
    """``content`` with, in some posts that hold Chinese, the author's intent phrase at the start.

    Args:
        content: each post's content.
        intent: each post's author's intent (+1 or -1).
        language: each post's language (``en``, ``zh`` or ``mixed``); English posts never state it.
    """
    u = rng.random((len(content), 2))
    out = []
    for text, sign, lang, (write, pick) in zip(content, intent.tolist(), language.tolist(), u):
        if lang == "en" or write >= PHRASE_CHANCE:
            out.append(text)
            continue
        pool = STAY_PHRASES if sign > 0 else LEAVE_PHRASES
        phrase = pool[int(pick * len(pool))]
        out.append(f"{phrase}。{text}" if text else phrase)
    return out


def states_intent(title: str, content: str) -> bool:
    """Whether a post's text, as a reader sees it, holds an intent phrase."""
    return _ANY_PHRASE.search(f"{title} {content}") is not None
