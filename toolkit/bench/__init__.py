"""Benchmark harness: sweeps of specs, paired comparisons, a feature cache, resumable runs.

``python -m toolkit bench SWEEP.yaml`` expands a grid over a base spec into
configurations, runs each one (locally, in N processes, or as Ray tasks) into
``results/<sweep>/<timestamp>/configs/<config_id>/``, records each finished one
in a ledger, and builds a comparison table against a baseline configuration.
"""

import importlib
import sys
import types


class _CallablePackage(types.ModuleType):
    """This package, callable as the API's ``toolkit.bench(sweep, ...)``.

    ``toolkit.bench`` names both this package and the API function: importing the package
    (as any sweep does) replaces the function on ``toolkit``, so the package itself answers
    the call the same way.
    """

    def __call__(self, sweep, **options):
        """``toolkit.bench(sweep, workers=1, ...)``: run a sweep, get its Comparison (see ``toolkit.api.bench``)."""
        return importlib.import_module("toolkit.api").bench(sweep, **options)


sys.modules[__name__].__class__ = _CallablePackage
