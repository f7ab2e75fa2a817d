"""Backend set-up (quiet logs, determinism) and the ``environment`` block of ``metrics.json``."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from importlib import metadata

PACKAGES = ("retention-toolkit", "numpy", "pandas", "scikit-learn", "keras", "tensorflow-cpu", "tensorflow",
            "torch", "transformers", "jieba", "fasttext")


def quiet_backends() -> None:
    """Environment variables that must be set before TensorFlow is imported."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # Level 3: TensorFlow's C++ log lines (version notices) would drown the progress bars;
    # real failures still surface as Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    stay_offline()


def stay_offline() -> None:
    """Nothing goes to the network at run time: no model-hub lookups, no telemetry.

    Each library reads its switch when it starts (MLflow's telemetry client, Ray's usage
    stats), so these are set before any of them is imported. ``setdefault``: a user who
    opts in explicitly keeps their choice.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    # MLflow 3 otherwise fetches its telemetry config from config.mlflow-telemetry.io on first use
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("DO_NOT_TRACK", "1")  # the cross-tool convention, for whatever else honours it


@contextlib.contextmanager
def _native_stderr_silenced():
    """TensorFlow's C++ core prints start-up notices before its log level applies; hide only those.

    Python exceptions raised meanwhile still propagate with their messages.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras():
    """Import Keras (and TensorFlow under it) without the C++ start-up notices."""
    quiet_backends()
    if "keras" not in sys.modules:
        with _native_stderr_silenced():
            import keras  # noqa: F401
            if os.environ.get("KERAS_BACKEND") == "tensorflow":
                import tensorflow  # noqa: F401
    import keras

    return keras


def make_deterministic(seed: int) -> None:
    """Same spec, same numbers: seed every generator and ask TensorFlow for deterministic kernels."""
    keras = import_keras()

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # retracing notices would interleave with the progress bars

        try:
            tf.config.experimental.enable_op_determinism()
        except Exception:  # older TensorFlow without the switch: seeds alone
            pass


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment_record(seed: int) -> dict:
    """Package versions, CPU, threads and seed, recorded with every run."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    threads = {"cpu_count": os.cpu_count()}
    try:
        import torch

        threads["torch"] = torch.get_num_threads()
    except ImportError:
        pass
    try:
        import tensorflow as tf

        threads["tf_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
        threads["tf_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
    except ImportError:
        pass
    import keras

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "threads": threads,
        "keras_backend": keras.backend.backend(),
        "packages": versions,
        "seed": seed,
    }
