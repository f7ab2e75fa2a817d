"""``tuned``: a head whose parameters are searched (Optuna, TPE with pruning) inside each training fold.

Honesty comes from where the search runs. The runner hands every head the fold's training users
split into a fit part and a validation part (:func:`toolkit.evaluation.folds.carve_validation`);
``tuned`` runs every trial there (fit on the fit part, scored on the validation part) and keeps
the best trial's model. The fold's test users are never seen, so the out-of-fold score of a tuned
configuration is as honest as an untuned one's (``tests/test_tuned.py`` checks it on null data),
and the final model is tuned the same way on all users.

Cost: every trial is a training, and the runner times ``fit`` as a whole, so the configuration's
training seconds in the tables include the whole search (``trials`` x folds trainings, less what
pruning cut); ``count_params`` and ``flops_per_user`` are the chosen model's.

Why the head's parameters only: featurizers are fitted once per fold and their blocks cached
(:mod:`toolkit.features`); a search over them would refit a featurizer per trial. Compare
featurizer settings with a sweep grid (``bench``), whose rows are scored out of fold too.

Why trials run one after the other: TPE proposes each trial from the ones before. On Ray, a sweep
already runs configurations (and the final fits) side by side, one per worker, so the search is
parallel across configurations, not within one; a worker's search is deterministic for its seed.

Pruning: for a Keras head each epoch reports ``-val_loss``; a trial below the median of earlier
trials at the same epoch stops (Optuna's ``MedianPruner``, after ``warmup_epochs``). Heads without
epochs (logreg, gbdt) run every trial to its end.

A validation part holding one class cannot rank trials: the head's own values (``head:``) are
trained once and ``fell_back_`` is set.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Sequence

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.heads.base import Head
from toolkit.heads.nested import load_members, member_spec, save_members
from toolkit.params import Interval, declared_params
from toolkit.registry import HEADS, register_head

OPTUNA_INSTALL = "pip install 'optuna>=3.6'"
_RANGE_KEYS = {"low", "high", "log", "int", "step"}
#: the space searched when a spec gives none: the parameters that matter most at a few thousand users
DEFAULT_SPACES: dict[str, dict] = {
    "logreg": {"C": {"low": 1e-3, "high": 100.0, "log": True}},
    "gbdt": {"num_leaves": {"low": 4, "high": 63, "int": True, "log": True},
             "learning_rate": {"low": 0.01, "high": 0.3, "log": True},
             "min_child_samples": {"low": 5, "high": 100, "int": True, "log": True},
             "reg_lambda": {"low": 1e-3, "high": 10.0, "log": True}},
    "mlp": {"dropout": {"low": 0.0, "high": 0.6}},
    "hybrid": {"dropout": {"low": 0.0, "high": 0.6}},
}


def _check_space(space: Any, key: str, params: dict) -> dict[str, dict]:
    """Each entry ``{low, high[, log][, int][, step]}`` or ``{choices: [...]}``, over a parameter of the head."""
    if space is None and key in DEFAULT_SPACES:
        return {name: dict(entry) for name, entry in DEFAULT_SPACES[key].items()}
    if not isinstance(space, dict) or not space:
        raise ToolkitError(f"head.space must map parameters of {key!r} to ranges, e.g. "
                           "{C: {low: 0.01, high: 100, log: true}}. Got " + repr(space) + " instead.")
    known = declared_params(HEADS.get(key))
    out = {}
    for name, entry in space.items():
        where = f"head.space.{name}"
        if name not in known:
            raise ToolkitError(f"{where}: {key!r} has no parameter {name!r}; expected one of {', '.join(known)}.")
        if isinstance(entry, dict) and set(entry) == {"choices"} and isinstance(entry["choices"], list) \
                and entry["choices"]:
            out[name] = dict(entry)
            continue
        if not isinstance(entry, dict) or not {"low", "high"} <= set(entry) <= _RANGE_KEYS:
            raise ToolkitError(f"{where} must be {{low: A, high: B}} (optionally log: true, int: true, step: S) or "
                               f"{{choices: [...]}}. Got {entry!r} instead.")
        low, high = entry["low"], entry["high"]
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (low, high))
        if not numbers or low >= high or (entry.get("log") and low <= 0):
            raise ToolkitError(f"{where}: expected finite numbers low < high (low > 0 with log: true). "
                               f"Got low={low!r}, high={high!r}.")
        out[name] = dict(entry)
    return out


def _suggest(trial, name: str, entry: dict):
    if "choices" in entry:
        return trial.suggest_categorical(name, entry["choices"])
    if entry.get("int"):
        return trial.suggest_int(name, int(entry["low"]), int(entry["high"]), log=bool(entry.get("log")),
                                 step=int(entry.get("step", 1)))
    return trial.suggest_float(name, float(entry["low"]), float(entry["high"]), log=bool(entry.get("log")),
                               step=entry.get("step"))


def _score(metric: str, y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return float((roc_auc_score if metric == "roc_auc" else average_precision_score)(y, scores))


@register_head("tuned")
class TunedHead(Head):
    """Optuna search over one head's parameters, run on each training fold's validation part.

    Example spec block (or the same keys under a top-level ``tune:`` block, which wraps ``head:``):
        head: {type: tuned, head: {type: gbdt}, trials: 20,
               space: {num_leaves: {low: 4, high: 64, int: true}, learning_rate: {low: 0.01, high: 0.3, log: true}}}

    Args:
        head: the head to tune, as its own spec block; values not in ``space`` stay as given.
        space: parameter -> ``{low, high[, log][, int][, step]}`` or ``{choices: [...]}``; left out, the
            head's entry of ``DEFAULT_SPACES`` (logreg, gbdt, mlp, hybrid).
        trials: trainings per search (per fold, and once more for the final model).
        metric: what a trial is scored by on the validation part.
        pruning: stop Keras trials whose validation loss trails the median of earlier trials.
        warmup_epochs: epochs every trial runs before it may be pruned.
    """

    param_constraints = {"trials": Interval(1, 1000), "warmup_epochs": Interval(0, 10_000)}

    def __init__(self, *, head: dict | str = "logreg", space: dict | None = None, trials: int = 20,
                 metric: Literal["roc_auc", "pr_auc"] = "roc_auc", pruning: bool = True, warmup_epochs: int = 3):
        self.key, self.params = member_spec(head, "head.head")
        self.head = {"type": self.key, **self.params}
        self.space = _check_space(space, self.key, self.params)
        self.trials, self.metric, self.pruning, self.warmup_epochs = trials, metric, pruning, warmup_epochs

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        if "binary" not in HEADS.get(self.key).targets:
            return f"tuned scores trials by {self.metric} on yes/no labels; {self.key!r} learns time to return."
        return HEADS.get(self.key)(**self.params).check_blocks(kinds)

    def fit(self, blocks, y, *, validation, training, seed, on_epoch=None):
        optuna = _optuna()
        val_blocks, val_y = validation
        self.fell_back_ = len(np.unique(val_y)) < 2
        if self.fell_back_:
            self.model_ = HEADS.get(self.key)(**self.params).fit(blocks, y, validation=validation,
                                                                  training=training, seed=seed)
            self.best_params_, self.trials_run_ = {}, 1
            return self
        best: dict[str, Any] = {"score": -np.inf}

        def objective(trial):
            chosen = {name: _suggest(trial, name, entry) for name, entry in self.space.items()}
            model = HEADS.get(self.key)(**{**self.params, **chosen})
            model.fit(blocks, y, validation=validation, training=training, seed=seed,
                      on_epoch=self._pruner_hook(trial, optuna))
            score = _score(self.metric, val_y, model.predict(val_blocks))
            if score > best["score"]:  # only the best model is kept: memory stays one model's
                best.update(score=score, model=model, params=chosen)
            if on_epoch is not None:
                on_epoch(trial.number + 1, self.trials, {"trial_score": score})
            return score

        sampler = optuna.samplers.TPESampler(seed=seed)
        pruner = (optuna.pruners.MedianPruner(n_warmup_steps=self.warmup_epochs) if self.pruning
                  else optuna.pruners.NopPruner())
        study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
        study.optimize(objective, n_trials=self.trials, catch=())
        if "model" not in best:
            raise ToolkitError(f"tuned: every one of {self.trials} trials was pruned; lower warmup_epochs' "
                               "pruning (pruning: false) or widen the space.")
        self.model_, self.best_params_, self.best_score_ = best["model"], best["params"], best["score"]
        self.trials_run_ = len(study.trials)
        return self

    def _pruner_hook(self, trial, optuna):
        if not self.pruning:
            return None

        def report(epoch, epochs, logs):
            if "val_loss" in logs and math.isfinite(logs["val_loss"]):
                trial.report(-float(logs["val_loss"]), epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        return report

    def predict(self, blocks):
        return self.model_.predict(blocks)

    def count_params(self) -> int:
        return self.model_.count_params()

    def flops_per_user(self) -> float:
        return self.model_.flops_per_user()

    filename = "head.zip"

    def save(self, path):
        return save_members(path, [(self.key, self.model_)], extra=self._fitted_state())

    def _fitted_state(self) -> dict:
        return {"config": self.get_config(), "best_params": getattr(self, "best_params_", {}),
                "trials_run": getattr(self, "trials_run_", 0), "fell_back": getattr(self, "fell_back_", False)}

    @classmethod
    def load(cls, path):
        members, extra = load_members(path, with_extra=True)
        head = cls(**extra["config"])
        (_, head.model_), = members
        head.best_params_, head.trials_run_, head.fell_back_ = (extra["best_params"], extra["trials_run"],
                                                                extra["fell_back"])
        return head


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ToolkitError(f"head 'tuned' needs Optuna, which is not installed. Install it with: "
                           f"{OPTUNA_INSTALL}") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial would drown the run's own output
    return optuna
