"""Benchmark harness: sweeps of specs, paired comparisons, a feature cache, resumable runs.

``python -m toolkit bench SWEEP.yaml`` expands a grid over a base spec into
configurations, runs each one (locally, in N processes, or as Ray tasks) into
``results/<sweep>/<timestamp>/configs/<config_id>/``, records each finished one
in a ledger, and builds a comparison table against a baseline configuration.
"""
