"""Parallel jieba tokenization against one process, on the same users' texts.

    python benchmarks/tokenize_speed.py [--users 100000]

Two measurements, each side starting from an empty memo and jieba's dictionary
loaded in this process; the parallel side includes starting its worker
processes (each loads the dictionary once), since a run pays that too. The
tokens must be identical.

* **Unique text** (the target, at least 1.6x on 2 cores): the synthetic texts
  with the characters of every Chinese run shuffled, so that no run repeats,
  as in a real crawl; jieba's work then dominates.
* **As generated**: the generator composes posts from a small phrase book, so
  jieba's phrase cache answers almost everything and tokenizing is cheap;
  ``tokenize_texts`` should then stay in one process (it measures the rate
  first) and cost no more than the serial loop.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET = 1.6


def unique_runs(texts: list[str], seed: int = 0) -> list[str]:
    """The texts with each Chinese run's characters shuffled: same lengths, no repeated phrases."""
    import re

    import numpy as np

    rng = np.random.default_rng(seed)
    cjk = re.compile(r"[\u4e00-\u9fff]{2,}")
    return [cjk.sub(lambda m: "".join(rng.permutation(list(m.group()))), t) for t in texts]


def measure(texts: list[str], parallel) -> dict:
    """Seconds of the serial loop and of ``parallel(texts)`` on ``texts``, and whether the tokens agree."""
    from toolkit.featurizers import tokenize as tokenize_module
    from toolkit.featurizers.tokens import clear_memo
    from toolkit.featurizers.tokenize import load_jieba, tokenize

    load_jieba()
    clear_memo()
    tokenize_module._segment.cache_clear()  # neither side starts with segmented phrases cached
    start = time.perf_counter()
    serial = [tuple(tokenize(t)) for t in texts]
    serial_s = time.perf_counter() - start
    tokenize_module._segment.cache_clear()
    start = time.perf_counter()
    other = parallel(texts)
    parallel_s = time.perf_counter() - start
    clear_memo()
    return {"users": len(texts), "chars": sum(map(len, texts)), "serial_s": serial_s, "parallel_s": parallel_s,
            "speedup": serial_s / parallel_s, "identical": serial == other}


def main(argv=None) -> dict:
    from scale_data import users_table
    from toolkit.data.synth import ensure_synthetic
    from toolkit.featurizers.tokenize import user_texts

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--data-dir", default="benchmarks/.data")
    args = parser.parse_args(argv)
    path = ensure_synthetic(args.users, 0, 0.1, cache_dir=args.data_dir)
    users, _ = users_table(path)
    return run(user_texts(users))


def run(texts: list[str], workers: int = 2) -> dict:
    """Both measurements on ``texts``, printed beside their targets."""
    from toolkit.featurizers.tokens import tokenize_parallel, tokenize_texts

    unique = measure(unique_runs(texts), lambda t: tokenize_parallel(t, workers=workers))
    generated = measure(texts, tokenize_texts)
    print(f"tokenize {unique['users']:,} users, unique text ({unique['chars']:,} chars): one process "
          f"{unique['serial_s']:.1f} s, {workers} processes {unique['parallel_s']:.1f} s, {unique['speedup']:.2f}x "
          f"(target >= {TARGET}x), identical tokens: {unique['identical']}")
    print(f"tokenize {generated['users']:,} users, text as generated: one process {generated['serial_s']:.1f} s, "
          f"tokenize_texts {generated['parallel_s']:.1f} s ({generated['speedup']:.2f}x; it stays in one process "
          f"when workers would not pay), identical tokens: {generated['identical']}")
    return {"unique": unique, "generated": generated, "workers": workers}


if __name__ == "__main__":
    main()
