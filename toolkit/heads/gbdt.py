"""``gbdt``: gradient-boosted decision trees (LightGBM) on the concatenated blocks.

Time to return has no ``gbdt`` counterpart. LightGBM has no Cox objective, and XGBoost's
``survival:cox`` would add a second boosting library (its Linux wheel pulls in NCCL, hundreds
of MB) to learn a right-censored time, while the toolkit's label is discrete: bins the crawl
did not cover lie outside the risk sets (:mod:`toolkit.heads.cox`), which ``survival:cox``
(one time and a censoring sign per user) cannot express. The way to build one is a custom
LightGBM objective: the gradient and diagonal Hessian of the Breslow partial likelihood
that :class:`toolkit.heads.cox.CoxHead` already computes, over the same risk sets.
"""

from __future__ import annotations

import importlib.util
from typing import Literal, Sequence

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.features.blocks import kinds_text
from toolkit.heads.base import Head
from toolkit.heads.logreg import stack
from toolkit.params import Interval
from toolkit.registry import register_head

LIGHTGBM_INSTALL = "pip install 'lightgbm>=4'"


@register_head("gbdt")
class GBDTHead(Head):
    """LightGBM binary classifier over the dense and sparse blocks, side by side.

    A sparse block (TF-IDF) reaches LightGBM as a SciPy CSR matrix, never densified.
    Trees are added until the validation part (carved from the fold's training users by
    the runner, stratified, with the spec's seed) has not improved for
    ``early_stopping_rounds`` rounds; the model keeps the best round's trees only. The
    test fold is never seen. Training is deterministic for a seed (LightGBM's
    ``deterministic`` with row-wise histograms).

    Uses ``training.class_weight`` (as per-user weights, on the validation part too, so
    early stopping watches the objective being fitted), ``training.resample`` and
    ``training.calibrate``; ignores epochs, batch size, Adam's learning rate and the loss.

    The defaults suit a few thousand users: small trees (15 leaves, at least 20 users a
    leaf), a slow rate (0.05) with up to 1,000 rounds and early stopping after 50, row
    and column subsampling of 0.8 and an L2 penalty of 1 on the leaf values.

    Example spec block:
        head: {type: gbdt, num_leaves: 15, learning_rate: 0.05, n_estimators: 1000}

    Args:
        n_estimators: most boosting rounds (trees); early stopping usually ends sooner.
        learning_rate: shrinkage of each tree's contribution.
        num_leaves: most leaves per tree.
        max_depth: deepest a tree may grow; -1 for no limit (``num_leaves`` bounds it).
        min_child_samples: fewest training users in a leaf.
        subsample: share of the training users each tree is grown on (1: all).
        colsample_bytree: share of the columns each tree may split on (1: all).
        reg_lambda: L2 penalty on the leaf values.
        reg_alpha: L1 penalty on the leaf values.
        early_stopping_rounds: rounds without validation improvement before stopping; 0 trains
            all ``n_estimators`` rounds.
        metric: what early stopping watches on the validation part.
        threads: LightGBM threads; 0 means this process's share of the cores.
    """

    param_constraints = {
        "n_estimators": Interval(1, 100_000),
        "learning_rate": Interval(0, 1, closed_low=False),
        "num_leaves": Interval(2, 131_072),
        "max_depth": Interval(-1, 64),
        "min_child_samples": Interval(1, None),
        "subsample": Interval(0, 1, closed_low=False),
        "colsample_bytree": Interval(0, 1, closed_low=False),
        "reg_lambda": Interval(0, None),
        "reg_alpha": Interval(0, None),
        "early_stopping_rounds": Interval(0, 100_000),
        "threads": Interval(0, 1024),
    }

    def __init__(self, *, n_estimators: int = 1000, learning_rate: float = 0.05, num_leaves: int = 15,
                 max_depth: int = -1, min_child_samples: int = 20, subsample: float = 0.8,
                 colsample_bytree: float = 0.8, reg_lambda: float = 1.0, reg_alpha: float = 0.0,
                 early_stopping_rounds: int = 50, metric: Literal["binary_logloss", "auc"] = "binary_logloss",
                 threads: int = 0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.early_stopping_rounds = early_stopping_rounds
        self.metric = metric
        self.threads = threads

    def validate(self, where: str) -> None:
        if importlib.util.find_spec("lightgbm") is None:
            raise ToolkitError(f"{where}: head 'gbdt' needs LightGBM, which is not installed. {LIGHTGBM_INSTALL}")

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        if not kinds or any(kind == "sequence" for _, kind in kinds):
            return (f"gbdt takes dense and sparse blocks; got {kinds_text(kinds)}. "
                    "Use head 'lstm' or 'hybrid' for sequence blocks.")
        return None

    def booster_params(self, seed: int) -> dict:
        """The LightGBM parameters this head trains with (canonical names)."""
        from toolkit.text.tokens import free_cores

        return {
            "objective": "binary", "metric": self.metric, "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "max_depth": self.max_depth,
            "min_data_in_leaf": self.min_child_samples, "lambda_l2": self.reg_lambda, "lambda_l1": self.reg_alpha,
            "bagging_fraction": self.subsample, "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            # deterministic needs a fixed histogram layout to be stable (LightGBM's docs)
            "seed": seed, "deterministic": True, "force_row_wise": True,
            "num_threads": self.threads or free_cores(), "verbosity": -1,
        }

    def fit(self, blocks, y, *, validation, training, seed, on_epoch=None):
        import lightgbm as lgb

        (x,), y = training.resample_arrays([stack(blocks)], np.asarray(y).astype(int), seed)
        weights = training.class_weights(y)
        params = self.booster_params(seed)
        train_set = lgb.Dataset(x, label=y, weight=_per_user(weights, y), params={"verbosity": -1})
        rounds_run = [0]
        valid_sets, callbacks = [], [lambda env: rounds_run.__setitem__(0, env.iteration + 1)]
        y_val = np.asarray(validation[1]).astype(int) if validation is not None else np.zeros(0, int)
        if len(y_val) and self.early_stopping_rounds:
            valid_sets = [lgb.Dataset(stack(validation[0]), label=y_val, weight=_per_user(weights, y_val),
                                      reference=train_set)]
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False))
        booster = lgb.train(params, train_set, num_boost_round=self.n_estimators, valid_sets=valid_sets,
                            valid_names=["validation"] * len(valid_sets), callbacks=callbacks)
        rounds = booster.best_iteration or booster.current_iteration()
        # Keep only the rounds used, so the saved model and its cost are the model that scores.
        self.booster_ = lgb.Booster(model_str=booster.model_to_string(num_iteration=rounds))
        self.epochs_run_ = rounds_run[0]
        self.best_iteration_ = rounds
        self.nodes_, self.path_length_ = _tree_shape(self.booster_)
        if on_epoch is not None:
            on_epoch(self.epochs_run_, self.n_estimators, {"best_iteration": rounds})
        return self

    def predict(self, blocks):
        return np.clip(np.asarray(self.booster_.predict(stack(blocks)), dtype=np.float64), 0.0, 1.0)

    def count_params(self) -> int:
        """One learned number per node: each split's threshold, each leaf's value."""
        return int(self.nodes_)

    def flops_per_user(self) -> float:
        """A comparison per level a user passes through, plus one add per tree."""
        return float(self.path_length_ + self.best_iteration_)


def _per_user(class_weights: dict[int, float] | None, y: np.ndarray) -> np.ndarray | None:
    if class_weights is None:
        return None
    return np.where(y == 1, class_weights[1], class_weights[0]).astype(np.float64)


def _tree_shape(booster) -> tuple[int, float]:
    """(nodes in all trees, expected comparisons to score one user, summed over trees).

    A tree's expected path length weighs each leaf's depth by the training users it holds.
    """
    nodes, path = 0, 0.0
    for tree in booster.dump_model()["tree_info"]:
        leaves = []  # (depth, users)
        stack_ = [(tree["tree_structure"], 0)]
        while stack_:
            node, depth = stack_.pop()
            nodes += 1
            if "leaf_value" in node:
                leaves.append((depth, node.get("leaf_count", 1)))
            else:
                stack_ += [(node["left_child"], depth + 1), (node["right_child"], depth + 1)]
        users = sum(count for _, count in leaves)
        path += sum(d * c for d, c in leaves) / users if users else 0.0
    return nodes, path
