"""Column names shared by the loader, the users table and the featurizers.

Posts (one row per post, after :func:`toolkit.data.posts.load_posts`):

==================  =========================================================
column              meaning
==================  =========================================================
post_id             str, unique
user_id             str
user_name           str ("" when absent)
title, content      str ("" when empty)
hashtags            str, the ``label`` column of the crawl (``a#b#c``)
like_count ...      float, parsed display counts (``7.6万`` -> 76000.0)
like_lb ...         bool, the display count was a lower bound (``1万+``)
create_time         pandas Timestamp (naive, as written in the file)
post_type           str, ``video`` or ``normal``
ip_location         str
==================  =========================================================

Users (one row per user in the cohort, after :func:`toolkit.data.users.build_users`):
see ``USER_COLUMNS`` and the README section "The users table".
"""

COUNT_COLUMNS = ("like_count", "collect_count", "comment_count", "share_count")
#: the lower-bound flag that goes with each count column
LOWER_BOUND_COLUMNS = {c: c.replace("_count", "_lb") for c in COUNT_COLUMNS}

#: canonical post columns -> the column name in the public crawl
DEFAULT_COLUMNS = {
    "title": "title",
    "content": "content",
    "hashtags": "label",
    "user_name": "user_name",
    "user_id": "user_id",
    "like_count": "like_count",
    "collect_count": "collect_count",
    "comment_count": "comment_count",
    "share_count": "share_count",
    "create_time": "create_time",
    "post_id": "post_id",
    "ip_location": "ip_localtion",
    "post_type": "post_type",
}
#: columns a posts file must have (after mapping); the rest default to empty
REQUIRED_COLUMNS = ("user_id", "create_time")

#: numeric per-user columns that the ``behavior`` featurizer standardizes
BEHAVIOR_COLUMNS = (
    "n_posts",
    "active_days",
    *(f"log_{c.replace('_count', '')}_{stat}" for c in COUNT_COLUMNS for stat in ("sum", "mean", "max")),
    *(f"{c.replace('_count', '')}_lb_share" for c in COUNT_COLUMNS),
    "video_share",
    "hour_sin",  # mean posting direction on the 24-hour circle (toolkit.data.users._circular_hours)
    "hour_cos",
    "hour_spread",  # circular variance of the posting hours, 0..1
    "night_share",
    "zh_share",
    "text_chars",
    "n_hashtags",
    "account_age_days",  # account age at day 0: creation (object-id user ids) -> first post; 0 under day0: account_created
)

#: per-user exposure: days from day 0 to the end of the spec's observation window, and posts in them.
#: Not features: the confound baseline reads them (toolkit.evaluation.baselines).
EXPOSURE_COLUMNS = ("exposure_days", "exposure_posts")

#: every column of the users table handed to featurizers
#: ``first_seen`` (first observed post) and ``day0`` (the user's day 0, a date): not features, the timing
#: baseline reads them (toolkit.evaluation.baselines).
USER_COLUMNS = ("user_id", "first_seen", "day0", "text", *BEHAVIOR_COLUMNS, *EXPOSURE_COLUMNS, "activity")
