"""Declared plugin parameters: read from a keyword-only constructor, checked against YAML.

A plugin's parameters are the keyword-only arguments of its ``__init__``: the
annotation is the type, the default the default. A plugin may add constraints in
a class attribute ``param_constraints = {"name": Interval(0, 1)}``. Messages follow
scikit-learn's template: "The 'max_df' parameter of TfidfFeaturizer must be a
float in the range [0, 1]. Got 1.5 instead."
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from toolkit.errors import ToolkitError

_NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class Interval:
    """A numeric range constraint; ``None`` leaves a side open."""

    low: float | None = None
    high: float | None = None
    closed_low: bool = True
    closed_high: bool = True

    def contains(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (value == self.low and not self.closed_low)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not self.closed_high)):
            return False
        return True

    def short(self) -> str:
        if self.high is None and self.low is not None:
            return f"{'>=' if self.closed_low else '>'} {self.low:g}"
        if self.low is None and self.high is not None:
            return f"{'<=' if self.closed_high else '<'} {self.high:g}"
        return str(self).replace("in the range ", "in ")

    def __str__(self) -> str:
        left = "[" if self.closed_low else "("
        right = "]" if self.closed_high else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"in the range {left}{low}, {high}{right}"


@dataclass(frozen=True)
class ParamInfo:
    """One declared parameter of a plugin."""

    name: str
    annotation: Any
    default: Any
    constraint: Interval | None = None

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT

    def short_text(self) -> str:
        """Compact form for listings: ``int >= 1``, ``'mean' | 'cls'``."""
        text = short_type(self.annotation)
        return f"{text} {self.constraint.short()}" if self.constraint else text

    def type_text(self) -> str:
        text = describe_type(self.annotation)
        return f"{text} {self.constraint}" if self.constraint else text


def declared_params(cls: type) -> dict[str, ParamInfo]:
    """The keyword-only constructor parameters of ``cls``, in order."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that cannot be resolved counts as "any"
        hints = {}
    constraints = getattr(cls, "param_constraints", {})
    params = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        params[name] = ParamInfo(name, hints.get(name, Any), p.default, constraints.get(name))
    return params


def describe_type(annotation: Any) -> str:
    """Human words for a type annotation ("an int", "one of 'bce', 'focal'")."""
    origin = get_origin(annotation)
    if annotation is Any:
        return "any value"
    if annotation is bool:
        return "a bool"
    if annotation is int:
        return "an int"
    if annotation is float:
        return "a float"
    if annotation is str:
        return "a str"
    if annotation is type(None):
        return "null"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(annotation))
    if origin is Union or origin is types.UnionType:
        return " or ".join(describe_type(a) for a in get_args(annotation))
    if origin in (tuple, list):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        if origin is tuple and Ellipsis not in get_args(annotation):
            return f"a list of {len(args)} values (" + ", ".join(describe_type(a) for a in args) + ")"
        inner = describe_type(args[0]) if args else "any value"
        return f"a list of ({inner})"
    if origin is dict:
        return "a mapping"
    return getattr(annotation, "__name__", str(annotation))


def short_type(annotation: Any) -> str:
    """Compact type text: ``int | null``, ``list[str]``, ``[int, int]``."""
    origin = get_origin(annotation)
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(annotation))
    if origin is Union or origin is types.UnionType:
        return " | ".join(short_type(a) for a in get_args(annotation))
    if origin is tuple and Ellipsis not in get_args(annotation):
        return "[" + ", ".join(short_type(a) for a in get_args(annotation)) + "]"
    if origin in (tuple, list):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return f"list[{short_type(args[0]) if args else 'any'}]"
    if origin is dict:
        return "mapping"
    return getattr(annotation, "__name__", str(annotation))


def conforms(value: Any, annotation: Any) -> bool:
    """Whether a YAML value fits a type annotation."""
    origin = get_origin(annotation)
    if annotation is Any:
        return True
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if annotation is type(None):
        return value is None
    if origin is Literal:
        return value in get_args(annotation)
    if origin is Union or origin is types.UnionType:
        return any(conforms(value, a) for a in get_args(annotation))
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            return False
        args = get_args(annotation)
        if origin is tuple and args and Ellipsis not in args:
            return len(value) == len(args) and all(conforms(v, a) for v, a in zip(value, args))
        return not args or all(conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def check_params(cls: type, given: dict[str, Any], *, where: str) -> dict[str, Any]:
    """Validate ``given`` against the parameters ``cls`` declares.

    Returns the parameters with defaults filled in. Raises ToolkitError naming
    the parameter, what it must be and what it got.
    """
    declared = declared_params(cls)
    unknown = [k for k in given if k not in declared]
    if unknown:
        accepted = ", ".join(declared) or "no parameters"
        raise ToolkitError(
            f"{where}: unknown parameter {unknown[0]!r} for {cls.__name__}. Accepted: {accepted}."
        )
    resolved = {}
    for name, info in declared.items():
        if name not in given:
            if info.required:
                raise ToolkitError(f"{where}: the {name!r} parameter of {cls.__name__} is required.")
            resolved[name] = list(info.default) if isinstance(info.default, tuple) else info.default
            continue
        value = given[name]
        ok = conforms(value, info.annotation)
        if ok and info.constraint is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            ok = info.constraint.contains(value)
        if not ok:
            raise ToolkitError(
                f"{where}: the {name!r} parameter of {cls.__name__} must be {info.type_text()}. "
                f"Got {value!r} instead."
            )
        resolved[name] = list(value) if isinstance(value, tuple) else value
    return resolved
