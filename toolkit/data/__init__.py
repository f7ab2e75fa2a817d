"""Data: the posts loader, the label and the users table, synthetic data, and the crawl's own facts.

``posts.load_posts`` reads the public crawl's CSV; ``users.build_users`` turns posts into one
row per user from the observation window, with the label of ``label.LabelSpec``;
``synth`` writes data with a known retention process; ``config.DataConfig`` is the spec's
``data:`` block. Nothing here imports features, heads or the experiment layer.
"""
