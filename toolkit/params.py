"""Declared parameters: every YAML block of a spec is checked by the functions here.

A class's parameters are the keyword-only arguments of its ``__init__`` (a plugin's
constructor or a ``@dataclass(kw_only=True)`` config block): the annotation is the
type, the default the default. A class may add constraints in a class attribute
``param_constraints = {"name": Interval(0, 1)}`` (a tuple for several), and a
``validate(self, where)`` method for rules that involve several fields; it raises
ToolkitError. A parameter annotated with another such class is a nested block,
checked recursively (``label.retained_if``). Dates are ``datetime.date`` and accept
``YYYY-MM-DD`` text.

Two message styles, one function each: plugins and the training block follow
scikit-learn ("The 'max_df' parameter of TfidfFeaturizer must be a float in the
range [0, 1]. Got 1.5 instead."); spec blocks that set ``param_paths = True`` name
the key's path ("label.observe_days must be an int >= 1. Got 'seven' instead.").
Unknown keys get a "did you mean" from :func:`unknown_key`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import inspect
import math
import re
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
        # NaN passes every comparison, and no parameter wants inf; an int is exact (math.isfinite
        # would convert it to a float, which overflows beyond 1e308)
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (value == self.low and not self.closed_low)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not self.closed_high)):
            return False
        return True

    def short(self) -> str:
        """``>= 1``, ``> 0``, ``>= 2 and <= 100``."""
        low = f"{'>=' if self.closed_low else '>'} {_num(self.low)}" if self.low is not None else ""
        high = f"{'<=' if self.closed_high else '<'} {_num(self.high)}" if self.high is not None else ""
        return " and ".join(part for part in (low, high) if part)

    def __str__(self) -> str:
        left = "[" if self.closed_low else "("
        right = "]" if self.closed_high else ")"
        low = "-inf" if self.low is None else _num(self.low)
        high = "inf" if self.high is None else _num(self.high)
        return f"in the range {left}{low}, {high}{right}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Pattern:
    """A text constraint: the whole value matches ``regex``; ``text`` says what that means."""

    regex: str
    text: str
    max_length: int = 100

    def contains(self, value: str) -> bool:
        return len(value) <= self.max_length and re.fullmatch(self.regex, value) is not None

    def short(self) -> str:
        return self.text

    def __str__(self) -> str:
        return f"{self.text}, at most {self.max_length} characters"


Constraint = Union[Interval, Pattern]


@dataclass(frozen=True)
class ParamInfo:
    """One declared parameter of a plugin."""

    name: str
    annotation: Any
    default: Any
    constraints: tuple = ()

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT

    def short_text(self) -> str:
        """Compact form for listings: ``int >= 1``, ``'mean' | 'cls'``."""
        return " ".join([short_type(self.annotation), *(c.short() for c in self.constraints)])

    def type_text(self, short: bool = False) -> str:
        """What a value must be: "a float in the range [0, 1]" (``short``: "an int >= 2")."""
        if any(isinstance(c, Pattern) for c in self.constraints):
            return " and ".join(str(c) for c in self.constraints)
        words = [c.short() if short else str(c) for c in self.constraints]
        annotation = self.annotation
        if short and get_origin(annotation) in (Union, types.UnionType):  # a spec key: null means "leave it out"
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else annotation
        return " ".join([describe_type(annotation), *words])

    def accepts(self, value: Any) -> bool:
        if not conforms(value, self.annotation):
            return False
        for c in self.constraints:
            if isinstance(c, Interval) and isinstance(value, (int, float)) and not isinstance(value, bool):
                if not c.contains(value):
                    return False
            if isinstance(c, Pattern) and isinstance(value, str) and not c.contains(value):
                return False
        return True


def declared_params(cls: type) -> dict[str, ParamInfo]:
    """The keyword-only constructor parameters of ``cls``, in order."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that cannot be resolved counts as "any"
        hints = {}
    constraints = getattr(cls, "param_constraints", {})
    factories = {f.name: f.default_factory for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
    params = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        default = p.default
        if factories.get(name, dataclasses.MISSING) is not dataclasses.MISSING:
            default = factories[name]()
        found = constraints.get(name, ())
        params[name] = ParamInfo(name, hints.get(name, Any), default, found if isinstance(found, tuple) else (found,))
    return params


def is_schema(annotation: Any) -> bool:
    """A nested block: a dataclass whose fields are its declared parameters."""
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def _schema_in(annotation: Any) -> type | None:
    if is_schema(annotation):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        return next((a for a in get_args(annotation) if is_schema(a)), None)
    return None


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
    if annotation is dt.date:
        return "a date written YYYY-MM-DD"
    if is_schema(annotation):
        return "a mapping"
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
    if annotation is dt.date:
        return "date"
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
    if annotation is dt.date:
        return as_date(value) is not None
    if is_schema(annotation):
        return isinstance(value, dict)
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


def as_date(value: Any) -> dt.date | None:
    """A date from YAML (a date, a datetime, or ``YYYY-MM-DD`` text), or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _coerce(value: Any, annotation: Any) -> Any:
    """Dates become ``datetime.date`` (inside lists too); tuples become lists; the rest is kept."""
    if get_origin(annotation) in (Union, types.UnionType):
        for option in get_args(annotation):
            coerced = _coerce(value, option)
            if option is not type(None) and conforms(coerced, option):
                return coerced
        return value
    if annotation is dt.date:
        return as_date(value) if as_date(value) is not None else value
    if get_origin(annotation) in (tuple, list) and isinstance(value, (list, tuple)):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        if get_origin(annotation) is tuple and len(args) == len(value):
            return [_coerce(v, a) for v, a in zip(value, args)]
        return [_coerce(v, args[0]) if args else v for v in value]
    return value


def unknown_key(where: str, key: Any, allowed, *, owner: str = "") -> ToolkitError:
    """The one "unknown key" message: where it was, a close match, and what is allowed."""
    allowed = list(allowed)
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(allowed) or "no parameters"
    if owner:  # a plugin's or a config class's parameters
        return ToolkitError(f"{where}: unknown parameter {key!r} for {owner}.{hint} Accepted: {listing}.")
    if not where:
        return ToolkitError(f"Unknown top-level key {key!r} in the spec.{hint} Allowed: {listing}.")
    return ToolkitError(f"{where}: unknown key {key!r}.{hint} Allowed: {listing}.")


def _path(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _wrong_value(cls: type, info: ParamInfo, value: Any, where: str) -> ToolkitError:
    if getattr(cls, "param_paths", False):
        label = _path(where, info.name) if where else repr(info.name)
        return ToolkitError(f"{label} must be {info.type_text(short=True)}. Got {value!r} instead.")
    return ToolkitError(f"{where}: the {info.name!r} parameter of {cls.__name__} must be {info.type_text()}. "
                        f"Got {value!r} instead.")


def check_params(cls: type, given: dict[str, Any], *, where: str) -> dict[str, Any]:
    """Validate ``given`` against the parameters ``cls`` declares.

    Returns the parameters with defaults filled in (nested blocks built and
    validated). Raises ToolkitError naming the parameter, what it must be and
    what it got.
    """
    if not isinstance(given, dict):
        raise ToolkitError(f"{where or 'the spec'} must be a mapping. Got {given!r} instead.")
    declared = declared_params(cls)
    unknown = [k for k in given if k not in declared]
    if unknown:
        raise unknown_key(where, unknown[0], declared, owner="" if getattr(cls, "param_paths", False) else cls.__name__)
    resolved = {}
    for name, info in declared.items():
        if name not in given:
            if info.required:
                if not where:
                    raise ToolkitError(f"The spec needs a {name!r} key. Top-level keys: {', '.join(declared)}.")
                required = f"{_path(where, name)} is required" if getattr(cls, "param_paths", False) \
                    else f"{where}: the {name!r} parameter of {cls.__name__} is required"
                raise ToolkitError(f"{required}.")
            resolved[name] = list(info.default) if isinstance(info.default, tuple) else info.default
            continue
        value = _coerce(given[name], info.annotation)
        if not info.accepts(value):
            raise _wrong_value(cls, info, given[name], where)
        schema = _schema_in(info.annotation)
        if schema is not None and isinstance(value, dict):
            value = parse(schema, value, where=_path(where, name))
        resolved[name] = value
    return resolved


def parse(cls: type, given: dict[str, Any] | None, *, where: str) -> Any:
    """Check ``given`` against ``cls``, build it, and run its ``validate(where)`` hook."""
    obj = cls(**check_params(cls, {} if given is None else given, where=where))
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate(where)
    return obj
