"""Log runs and sweeps to MLflow: ``--track mlflow`` on ``run`` and ``bench``.

Where: ``$TOOLKIT_TRACKING_URI`` when set, else a SQLite store at
``results/mlflow.db`` (the store MLflow 3 itself defaults to), with artifacts
beside it in ``results/mlartifacts``; ``mlflow ui --backend-store-uri
sqlite:///results/mlflow.db`` lists them.

What: the resolved spec as params (flattened ``training.epochs``), every metric
with its interval (``roc_auc``, ``roc_auc_ci_low``, ``roc_auc_ci_high``), the
cost figures (``cost.train_s`` ...), and the results folder as artifacts. A
sweep is one parent run (the comparison table and report as artifacts) with one
child run per finished configuration. The client API is used rather than
MLflow's global "active run", so tracking never leaks into other code.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from toolkit.errors import ToolkitError
from toolkit.experiment.record import SPEC_FILE, RunRecord

INSTALL = "pip install 'retention-toolkit[tracking]' (or: pip install mlflow)"
#: MLflow refuses longer parameter values
_MAX_PARAM = 6000


def require_mlflow():
    """The mlflow module, or a ToolkitError saying how to install it (checked before any work)."""
    from toolkit.environment import stay_offline

    stay_offline()  # before MLflow's import: its telemetry switch is read from the environment
    try:
        import mlflow
    except ImportError:
        raise ToolkitError(f"--track mlflow needs MLflow, which is not installed. {INSTALL}") from None
    return mlflow


def tracking_uri(results_dir: str | Path = "results") -> str:
    uri = os.environ.get("TOOLKIT_TRACKING_URI")
    return uri if uri else f"sqlite:///{(Path(results_dir) / 'mlflow.db').resolve()}"


def _client(uri: str):
    require_mlflow()
    from mlflow.tracking import MlflowClient

    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    return MlflowClient(tracking_uri=uri)


def _experiment(client, name: str, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if uri.startswith("sqlite:///"):  # artifacts beside the database, not in the current folder
        location = (Path(uri[len("sqlite:///"):]).parent / "mlartifacts" / name).resolve().as_uri()
    return client.create_experiment(name, artifact_location=location)


def flatten(data, prefix: str = "") -> dict[str, str]:
    """``{"training": {"epochs": 5}}`` -> ``{"training.epochs": "5"}``; lists become YAML text."""
    out: dict[str, str] = {}
    for key, value in (data or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()
            out[name] = text.removesuffix("\n...").strip()[:_MAX_PARAM]
    return out


def metric_values(metrics: dict) -> dict[str, float]:
    """Metrics with intervals, cost figures and the threshold of a run's metrics.json, as MLflow metrics."""
    out: dict[str, float] = {}
    entries = dict(metrics.get("metrics", {}))
    for h, m in entries.pop("auc_at", {}).items():  # a time-to-return run: one AUC per horizon
        entries[f"auc_at_{h}d"] = m
    for name, m in entries.items():
        for key, suffix in (("mean", ""), ("ci_low", "_ci_low"), ("ci_high", "_ci_high")):
            if isinstance(m.get(key), (int, float)):
                out[f"{name}{suffix}"] = float(m[key])
    for name, value in metrics.get("cost", {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"cost.{name}"] = float(value)
        elif isinstance(value, dict):  # featurize_s per featurizer
            out.update({f"cost.{name}.{k}": float(v) for k, v in value.items() if isinstance(v, (int, float))})
    threshold = metrics.get("threshold", {})
    if isinstance(threshold.get("final_model"), (int, float)):
        out["threshold.final_model"] = float(threshold["final_model"])
    return out


def _log(client, run_id: str, params: dict[str, str], metrics: dict[str, float]) -> None:
    from mlflow.entities import Metric, Param

    params, metrics = list(params.items()), list(metrics.items())
    for i in range(0, max(len(params), len(metrics)), 100):  # MLflow takes at most 100 params per batch
        client.log_batch(run_id, params=[Param(k, v) for k, v in params[i:i + 100]],
                         metrics=[Metric(k, v, 0, 0) for k, v in metrics[i:i + 100]])


def track_run(folder: str | Path, *, experiment: str | None = None, parent_run_id: str | None = None,
              uri: str | None = None) -> str:
    """Log one finished run folder (metrics.json, spec.yaml, its files); returns the MLflow run id."""
    folder = Path(folder)
    metrics = RunRecord.open(folder).raw
    spec = yaml.safe_load((folder / SPEC_FILE).read_text(encoding="utf-8"))
    uri = uri or tracking_uri(folder.parent.parent)
    client = _client(uri)
    tags = {"toolkit.folder": str(folder.resolve()), "toolkit.spec_sha256": metrics.get("spec_sha256", "")}
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    run = client.create_run(_experiment(client, experiment or metrics["name"], uri), run_name=metrics["name"], tags=tags)
    _log(client, run.info.run_id, flatten(spec), metric_values(metrics))
    client.log_artifacts(run.info.run_id, str(folder))
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def track_sweep(folder: str | Path, results: list, name: str, *, uri: str | None = None) -> str:
    """Log a finished sweep: a parent run with the comparison files, one child per finished configuration."""
    folder = Path(folder)
    uri = uri or tracking_uri(folder.parent.parent)
    client = _client(uri)
    experiment = _experiment(client, name, uri)
    parent = client.create_run(experiment, run_name=f"{name} ({folder.name})", tags={"toolkit.folder": str(folder.resolve())})
    counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")}
    _log(client, parent.info.run_id, {"sweep": name, "configurations": str(len(results))},
         {f"configurations.{k}": float(v) for k, v in counts.items()})
    for path in sorted(folder.glob("*")):
        if path.is_file():
            client.log_artifact(parent.info.run_id, str(path))
    for r in results:
        if r.status == "done":
            track_run(r.folder, experiment=name, parent_run_id=parent.info.run_id, uri=uri)
    client.set_terminated(parent.info.run_id)
    return parent.info.run_id
