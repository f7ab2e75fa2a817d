import pytest

from toolkit.errors import ToolkitError
from toolkit.featurizers import Featurizer
from toolkit.params import Interval, check_params, declared_params
from toolkit.registry import FEATURIZERS, HEADS, Registry


def test_builtins_are_registered():
    assert FEATURIZERS.names() == ["behavior", "distilbert", "e5", "fasttext", "temporal", "tfidf", "use"]
    assert HEADS.names() == ["cox", "gbdt", "hazard", "hybrid", "logreg", "lstm", "mlp", "stack", "tuned"]
    for entry in FEATURIZERS.entries() + HEADS.entries():
        assert entry.source == "toolkit (built-in)"
        assert entry.cls.registry_name == entry.name


def test_decorator_registers_and_rejects_a_clash():
    registry = Registry("featurizer", "toolkit.test_group_none", "toolkit.featurizers")

    @registry.register("demo")
    class Demo(Featurizer):
        def __init__(self, *, size: int = 3):
            self.size = size

    assert registry.get("demo") is Demo
    assert Demo(size=4).get_config() == {"size": 4}

    with pytest.raises(ToolkitError, match="Two featurizers are registered as 'demo'"):
        @registry.register("demo")
        class Other(Featurizer):
            pass


def test_declared_params_and_constraints():
    class P(Featurizer):
        param_constraints = {"rate": Interval(0, 1)}

        def __init__(self, *, rate: float = 0.5, n: int | None = None, mode: str = "a"):
            self.rate, self.n, self.mode = rate, n, mode

    params = declared_params(P)
    assert list(params) == ["rate", "n", "mode"]
    assert check_params(P, {"n": 3}, where="x") == {"rate": 0.5, "n": 3, "mode": "a"}
    with pytest.raises(ToolkitError, match=r"'rate' parameter of P must be a float in the range \[0, 1\]. Got 2"):
        check_params(P, {"rate": 2}, where="x")
    with pytest.raises(ToolkitError, match=r"must be an int or null. Got True"):
        check_params(P, {"n": True}, where="x")
