"""Evaluation: folds, metrics with bootstrap intervals, decision thresholds, the ``evaluation:`` block.

Everything here works on labels and scores only; it knows nothing of featurizers or heads.
"""
