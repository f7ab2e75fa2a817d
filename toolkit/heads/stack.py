"""``stack``: several heads combined by a logistic regression on their out-of-fold scores.

The stacking is nested inside the fold the runner hands over, as AutoGluon's weighted ensemble
is: the training users are split into ``folds`` inner folds; each member is trained on the other
inner folds and scores the held-out one, so every training user gets a score from members that
did not see them; the combiner (L2 logistic regression on the members' logits) is fitted on those
scores; then each member is trained once more on all the training users. The fold's test users
are never seen by a member or by the combiner.

Each member may take a subset of the spec's blocks (``blocks: [tfidf]``), so a stack can combine
a text model with a behaviour model. Cost: the runner times ``fit`` as a whole (``folds + 1``
trainings of every member, plus the combiner), and ``count_params`` / ``flops_per_user`` add the
members' and the combiner's: the Pareto plot shows what the stack costs against what it buys.

With fewer training positives than ``folds`` (or one class) the inner folds cannot be stratified:
the members' scores are averaged with equal weights instead and ``fell_back_`` is set.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.heads.base import Head
from toolkit.heads.nested import load_members, member_spec, save_members
from toolkit.params import Interval
from toolkit.registry import HEADS, register_head

_EPS = 1e-6


def _logit(scores: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(scores, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


@register_head("stack")
class StackHead(Head):
    """Members' out-of-fold scores (inside the training fold) combined by logistic regression.

    Example spec block:
        head: {type: stack, folds: 5, members: [{type: logreg}, {type: gbdt, blocks: [behavior]}]}

    Args:
        members: two or more head blocks; each may name the ``blocks`` it takes (default: all).
        folds: inner folds for the members' out-of-fold scores.
        C: inverse L2 strength of the combiner.
    """

    param_constraints = {"folds": Interval(2, 20), "C": Interval(0, None, closed_low=False)}

    def __init__(self, *, members: list | None = None, folds: int = 5, C: float = 1.0):
        given = members if members is not None else [{"type": "logreg"}, {"type": "gbdt"}]
        if not isinstance(given, list) or len(given) < 2:
            raise ToolkitError(f"head.members must list at least two heads, e.g. [{{type: logreg}}, {{type: gbdt}}]. "
                               f"Got {given!r} instead.")
        self.parts: list[tuple[str, dict, list[str] | None]] = []
        for i, block in enumerate(given):
            block = {"type": block} if isinstance(block, str) else block
            chosen = block.get("blocks") if isinstance(block, dict) else None
            if chosen is not None and (not isinstance(chosen, list) or not chosen
                                       or not all(isinstance(n, str) for n in chosen)):
                raise ToolkitError(f"head.members[{i}].blocks must be a list of block names, e.g. [tfidf]. "
                                   f"Got {chosen!r} instead.")
            rest = {k: v for k, v in block.items() if k != "blocks"} if isinstance(block, dict) else block
            key, params = member_spec(rest, f"head.members[{i}]")
            self.parts.append((key, params, chosen))
        self.members = [{"type": k, **p, **({"blocks": b} if b else {})} for k, p, b in self.parts]
        self.folds, self.C = folds, C

    def check_blocks(self, kinds: Sequence[tuple[str, str]]) -> str | None:
        names = [name for name, _ in kinds]
        for i, (key, params, chosen) in enumerate(self.parts):
            if "binary" not in HEADS.get(key).targets:
                return f"members[{i}] {key!r} learns time to return; a stack combines yes/no scores."
            missing = [n for n in chosen or [] if n not in names]
            if missing:
                return f"members[{i}] names blocks {missing}, which the spec does not make (it makes {names})."
            reason = HEADS.get(key)(**params).check_blocks([k for k in kinds if chosen is None or k[0] in chosen])
            if reason:
                return f"members[{i}] ({key}): {reason}"
        return None

    def _own(self, i: int, blocks):
        chosen = self.parts[i][2]
        return [b for b in blocks if chosen is None or b.name in chosen]

    def _train(self, i: int, blocks, y, validation, training, seed):
        key, params, _ = self.parts[i]
        val_blocks, val_y = validation
        return HEADS.get(key)(**params).fit(self._own(i, blocks), y, validation=(self._own(i, val_blocks), val_y),
                                           training=training, seed=seed)

    def fit(self, blocks, y, *, validation, training, seed, on_epoch=None):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        y = np.asarray(y).astype(int)
        self.fell_back_ = np.bincount(y, minlength=2).min() < self.folds
        if not self.fell_back_:
            inner = StratifiedKFold(self.folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
            scores = np.zeros((len(y), len(self.parts)))
            for train, held in inner:
                for i in range(len(self.parts)):
                    model = self._train(i, [b.rows(train) for b in blocks], y[train], validation, training, seed)
                    scores[held, i] = model.predict(self._own(i, [b.rows(held) for b in blocks]))
            self.combiner_ = LogisticRegression(C=self.C, max_iter=1000, random_state=seed).fit(_logit(scores), y)
        self.models_ = []
        for i in range(len(self.parts)):
            self.models_.append(self._train(i, blocks, y, validation, training, seed))
            if on_epoch is not None:
                on_epoch(i + 1, len(self.parts), {})
        return self

    def member_scores(self, blocks) -> np.ndarray:
        """Each member's scores, one column per member."""
        return np.column_stack([m.predict(self._own(i, blocks)) for i, m in enumerate(self.models_)])

    def predict(self, blocks):
        scores = self.member_scores(blocks)
        if self.fell_back_:
            return scores.mean(axis=1)
        return self.combiner_.predict_proba(_logit(scores))[:, 1]

    def weights(self) -> dict[str, float]:
        """The combiner's weight on each member's logit (``member_i: key``), empty after a fallback."""
        if self.fell_back_:
            return {}
        return {f"{i}: {key}": float(w) for i, ((key, _, _), w) in enumerate(zip(self.parts, self.combiner_.coef_[0]))}

    def count_params(self) -> int:
        own = 0 if self.fell_back_ else len(self.parts) + 1
        return int(sum(m.count_params() for m in self.models_) + own)

    def flops_per_user(self) -> float:
        return float(sum(m.flops_per_user() for m in self.models_) + 2 * len(self.parts))

    filename = "head.zip"

    def save(self, path):
        extra: dict[str, Any] = {"config": self.get_config(), "fell_back": bool(self.fell_back_)}
        if not self.fell_back_:
            extra.update(coef=self.combiner_.coef_.tolist(), intercept=self.combiner_.intercept_.tolist())
        return save_members(path, [(k, m) for (k, _, _), m in zip(self.parts, self.models_)], extra=extra)

    @classmethod
    def load(cls, path):
        from sklearn.linear_model import LogisticRegression

        members, extra = load_members(path, with_extra=True)
        head = cls(**extra["config"])
        head.models_, head.fell_back_ = [m for _, m in members], bool(extra["fell_back"])
        if not head.fell_back_:
            head.combiner_ = LogisticRegression()
            head.combiner_.coef_ = np.asarray(extra["coef"], dtype=float)
            head.combiner_.intercept_ = np.asarray(extra["intercept"], dtype=float)
            head.combiner_.classes_ = np.array([0, 1])
        return head
