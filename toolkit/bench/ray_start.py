"""Joining Ray: the cluster at ``$RAY_ADDRESS``, or a local instance sized for the workers asked."""

from __future__ import annotations

import os

from toolkit.errors import ToolkitError


def ensure_ray(cpus: int):
    """The ``ray`` module, initialised once per process (the same start-up as ``bench --executor ray``)."""
    try:
        import ray
    except ImportError:
        raise ToolkitError("--executor ray needs Ray: pip install -e '.[ray]' (or pip install 'ray[default]').") from None
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        kwargs = {"address": address} if address else {"num_cpus": max(1, cpus), "include_dashboard": False}
        ray.init(log_to_driver=False, **kwargs)
    return ray
