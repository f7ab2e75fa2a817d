"""Small, realistic inputs for tests: a users table like the one ``build_users`` makes.

``make_users`` is deterministic for a seed and uses no network and no files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.data.schema import BEHAVIOR_COLUMNS, COUNT_COLUMNS, USER_COLUMNS

ENGLISH_POSTS = (
    "Hello from Texas! Just moved here from TikTok, what should I post first?",
    "My cat says hi 🐱 she is very fluffy and very lazy",
    "Learning Chinese day 3: 你好 means hello, 谢谢 means thank you",
    "Making dumplings for the first time, wish me luck 🥟",
    "Is this app always this friendly? I love the comments here",
    "Sunset at the beach tonight 🌅 #travel[话题]#",
    "I don't understand anything but I'm having fun lol 😂",
    "Outfit of the day: thrifted jacket and old boots",
    "Anyone else here because of the ban? #tiktokrefugee[话题]#",
    "Homemade ramen recipe in the comments, it's easy I promise",
    "Check my other page https://example.com/me for more art",
    "Drawing practice, 30 days challenge, day 12 ✏️",
)
CHINESE_POSTS = (
    "今天的晚饭是番茄炒蛋，简单又好吃",
    "欢迎美国朋友来到小红书！有问题可以问我 #TikTok难民[话题]#",
    "周末去爬山了，风景太美了 #旅行日记[话题]#",
    "我的猫咪今天又把杯子打翻了😭",
    "分享一个很好用的学习方法，每天坚持半小时",
    "第一次做蛋糕，失败了哈哈哈",
    "上海的秋天真的很好看 🍂",
    "教外国朋友说中文：你吃饭了吗",
)
MIXED_POSTS = (
    "TikTok refugee here 👋 我在学中文 #tiktok[话题]# #小红书[话题]#",
    "Cat tax 🐈 我的猫叫 Mochi",
    "英语角 English corner: how are you 你好吗",
    "Hello 小红书! Greetings from Canada 🇨🇦",
    "Thank you 谢谢大家的欢迎 ❤️ #中美友谊[话题]#",
    "今天学会了一个新词：好吃 = delicious 😋",
)
EMOJI_POSTS = ("😂😂😂", "❤️🔥✨", "🐱🐶", "👋")
POOLS = (ENGLISH_POSTS, CHINESE_POSTS, MIXED_POSTS, EMOJI_POSTS)
POOL_WEIGHTS = (0.4, 0.3, 0.25, 0.05)


def make_users(n: int = 40, seed: int = 0, steps: int = 7) -> pd.DataFrame:
    """A users table with every column of ``USER_COLUMNS``, one row per user.

    About one user in eight has no text (posts without a title or content).
    Activity, post counts and active days agree with one another; the other
    behavior numbers are plausible draws.

    Args:
        n: Number of users.
        seed: Seed of the random generator; the same seed gives the same table.
        steps: Days in each user's ``activity`` array.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-13")
    rows = []
    for i in range(n):
        window = int(rng.integers(max(1, steps // 2), steps + 1))
        mask = np.zeros(steps, dtype=np.float32)
        mask[:window] = 1.0
        daily = np.where(mask > 0, rng.poisson(rng.uniform(0.3, 2.5), size=steps), 0)
        if daily.sum() == 0:
            daily[int(rng.integers(window))] = 1
        activity = np.stack([np.log1p(daily).astype(np.float32), mask], axis=1)
        n_posts = int(daily.sum())
        text = "" if rng.random() < 0.125 else "\n".join(_post(rng) for _ in range(n_posts))
        hours = rng.integers(0, 24, size=n_posts)
        row = {
            "user_id": f"u{seed:02d}{i:04d}",
            "first_seen": start + pd.Timedelta(days=int(rng.integers(0, 7)), hours=int(rng.integers(0, 24))),
            "text": text,
            "n_posts": float(n_posts),
            "active_days": float((daily > 0).sum()),
        }
        for column in COUNT_COLUMNS:
            name = column.replace("_count", "")
            counts = rng.negative_binomial(1, 0.02 if name == "like" else 0.1, size=n_posts).astype(float)
            logs = np.log1p(counts)
            row[f"log_{name}_sum"] = float(np.log1p(counts.sum()))
            row[f"log_{name}_mean"] = float(logs.mean())
            row[f"log_{name}_max"] = float(logs.max())
            row[f"{name}_lb_share"] = float(rng.binomial(n_posts, 0.05) / n_posts)
        row.update(
            video_share=float(rng.binomial(n_posts, 0.4) / n_posts),
            hour_sin=float(np.sin(hours * np.pi / 12).mean()),
            hour_cos=float(np.cos(hours * np.pi / 12).mean()),
            hour_spread=float(1 - np.hypot(np.sin(hours * np.pi / 12).mean(), np.cos(hours * np.pi / 12).mean())),
            night_share=float(np.mean((hours < 6) | (hours >= 22))),
            zh_share=_chinese_share(text),
            text_chars=float(len(text)),
            n_hashtags=float(text.count("[话题]")),
            activity=activity,
        )
        rows.append(row)
    users = pd.DataFrame(rows, columns=list(USER_COLUMNS))
    users["day0"] = pd.to_datetime(users["first_seen"]).dt.normalize()
    users[list(BEHAVIOR_COLUMNS)] = users[list(BEHAVIOR_COLUMNS)].astype(float)
    return users


def _post(rng: np.random.Generator) -> str:
    pool = POOLS[int(rng.choice(len(POOLS), p=POOL_WEIGHTS))]
    return pool[int(rng.integers(len(pool)))]


def _chinese_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return float(sum("\u4e00" <= c <= "\u9fff" for c in letters) / len(letters))


def minimal_metrics(name: str, y: np.ndarray) -> dict:
    """The smallest metrics.json the results contract reads (the statistics come from predictions.csv)."""
    interval = {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    cost = {"featurize_s": {}, "train_s": 0.0, "infer_ms_per_1k": 0.0, "params": 0, "model_bytes": 0,
            "peak_rss_mb": 0.0, "flops_per_user": 0}
    return {"name": name, "format_version": 1, "evaluation": "3-fold",
            "data": {"users": len(y), "labelled": len(y), "positives": int(y.sum())},
            "metrics": {m: interval for m in ("roc_auc", "pr_auc", "recall", "precision")},
            "threshold": {"rule": "max_f1", "mean": 0.5, "final_model": 0.5}, "cost": cost}
