"""The Ray instance behind ``--executor ray``: the cluster at ``$RAY_ADDRESS``, or a local one
that stays off the network, leaves the toolkit's signal handling in place, and is shut down.

Why each setting (Ray 2.x, read from its source):

- A node finds its own address by opening a UDP socket towards 8.8.8.8, even with
  ``_node_ip_address="127.0.0.1"`` (a loopback address is "resolved" the same way).
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes a node take the loopback address instead;
  Ray reads it when imported, in the driver and in every process it starts. A single-machine
  instance needs nothing else, and its servers then listen on loopback only.
- Ray always starts a dashboard process, and its usage-stats module asks the cloud metadata
  service (169.254.169.254, ``metadata.google.internal``) which cloud it runs on, usage stats
  on or off. Ray's processes are started with an HTTP proxy that refuses every connection (a
  loopback port bound here and never listened on) and no proxy for loopback, so those
  requests fail at once, without a name lookup. Ray's own traffic is gRPC to loopback, and
  gRPC reads only the lower-case proxy variables, which are removed for Ray's processes.
- ``ray.init`` installs SIGTERM handlers that end the driver with ``sys.exit``, past the
  toolkit's clean-up; the handler in place before it is put back once it returns.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from typing import Iterator

from toolkit.environment import stay_offline
from toolkit.errors import ToolkitError
from toolkit.interrupts import deferred, request_stop

INSTALL = "--executor ray needs Ray: pip install -e '.[ray]' (or pip install 'ray[default]')."
_LOOPBACK = "127.0.0.1,localhost,::1"
_LOWER_PROXIES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "grpc_proxy", "no_grpc_proxy")


@contextlib.contextmanager
def ray_instance(workers: int) -> Iterator[tuple[object, bool, bool]]:
    """Yield the ``ray`` module, connected; whether a local instance was started here; whether
    the session is this block's (started or connected here, and shut down on the way out).

    A session the caller opened before stays theirs: it is used as it is and left running.
    """
    stay_offline()
    address = os.environ.get("RAY_ADDRESS")
    if not address:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before Ray's import: see above
    try:
        import ray
    except ImportError:
        raise ToolkitError(INSTALL) from None
    if ray.is_initialized():
        yield ray, False, False
        return
    with contextlib.ExitStack() as stack:
        if address:
            _init(ray, address=address, log_to_driver=False)
        else:
            # the port stays bound while the instance lives: its processes probe after start-up too
            proxy_env = stack.enter_context(_refusing_proxy())
            with _environment(proxy_env):
                _init(ray, num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
        try:
            yield ray, not address, True
        finally:
            with deferred():  # a second SIGTERM must not cut the shutdown short and leave Ray's processes
                ray.shutdown()  # a local instance stops with all its processes; a cluster only loses this driver


def stop_tasks(ray, refs, session_is_ours: bool) -> None:
    """Stop the tasks still queued or running when the driver is interrupted.

    In a session this driver opened, they are left to ``ray.shutdown`` on the way out: a local
    instance stops with all its processes, and a cluster kills the workers of a job whose driver
    left. They are not cancelled first, because ``ray.cancel(force=True)`` racing a task's own
    reply (a Ctrl-C reaches Ray's workers too) trips an assertion in Ray 2.x's core worker
    ("Tried to complete task that was not pending"), which aborts the driver past its clean-up.
    Only in a session the caller opened, and keeps, are they cancelled.
    """
    if session_is_ours:
        return
    for ref in refs:
        ray.cancel(ref, force=True)


def _init(ray, **kwargs) -> None:
    """``ray.init``, then the SIGTERM handler that was in place before it (the toolkit's: a Ctrl-C)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        ray.init(**kwargs)
    except SystemExit:  # SIGTERM while Ray was starting: its handler had already replaced the toolkit's
        ray.shutdown()
        request_stop("SIGTERM")  # recorded like the toolkit's own handler does, in case this raise is lost
        raise KeyboardInterrupt("signal SIGTERM") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _refusing_proxy() -> Iterator[dict]:
    """Proxy variables naming a loopback port that refuses connections, for as long as the block runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: a connection to it is refused at once
        proxy = f"http://127.0.0.1:{sock.getsockname()[1]}"
        changes = {name: None for name in _LOWER_PROXIES}
        changes.update(HTTP_PROXY=proxy, HTTPS_PROXY=proxy, ALL_PROXY=proxy, NO_PROXY=_LOOPBACK)
        yield changes


@contextlib.contextmanager
def _environment(changes: dict) -> Iterator[None]:
    """Set (or, for None, remove) variables while the block runs; processes started in it keep them."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            _set(name, value)
        yield
    finally:
        for name, value in saved.items():
            _set(name, value)


def _set(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
