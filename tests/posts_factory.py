"""Hand-made canonical posts frames for label and users tests."""

import pandas as pd


def post(user, when, *, title="", content="hello", likes=0.0, video=False, tags="tiktok", lb=False):
    return {
        "post_id": f"{user}-{when}",
        "user_id": user,
        "user_name": user,
        "title": title,
        "content": content,
        "hashtags": tags,
        "like_count": likes,
        "collect_count": 0.0,
        "comment_count": 0.0,
        "share_count": 0.0,
        "like_lb": lb,
        "collect_lb": False,
        "comment_lb": False,
        "share_lb": False,
        "create_time": pd.Timestamp(when),
        "post_type": "video" if video else "normal",
        "ip_location": "U.S.",
    }


def frame(rows):
    return pd.DataFrame(rows)
