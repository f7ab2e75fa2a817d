"""Word tokens for posts in English and Chinese, for the text featurizers and the analyses.

Kept out of :mod:`toolkit.featurizers` on purpose: importing that package imports
pandas and registers every featurizer, which a tokenizing worker process does
not need (it would add about 0.4 s to each worker's start-up). Nothing here
imports pandas at module level.
"""
