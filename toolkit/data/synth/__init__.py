"""Synthetic posts in the public crawl's exact format, with a known retention process.

:mod:`~toolkit.data.synth.process` draws users and posts and writes the CSV and its truth file,
:mod:`~toolkit.data.synth.text` composes the posts' text and :mod:`~toolkit.data.synth.cache`
signs the generated files kept in the cache.
"""

from toolkit.data.synth.process import (
    CHINESE_EFFECT, CSV_COLUMNS, FAMILY_WEIGHT, GAP_DAYS, GEN_HORIZON_DAYS, GEN_OBSERVE_DAYS, GENERATOR_VERSION,
    NOISE_SD, THEME_EFFECT, THEME_SHARE, clear_synthetic, ensure_synthetic, generate, read_gaps, read_truth,
    truth_path, write_synthetic,
)

__all__ = ["CHINESE_EFFECT", "CSV_COLUMNS", "FAMILY_WEIGHT", "GAP_DAYS", "GEN_HORIZON_DAYS", "GEN_OBSERVE_DAYS",
           "GENERATOR_VERSION", "NOISE_SD", "THEME_EFFECT", "THEME_SHARE", "clear_synthetic", "ensure_synthetic",
           "generate", "read_gaps", "read_truth", "truth_path", "write_synthetic"]
