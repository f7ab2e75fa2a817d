"""The plugin registries (featurizers, heads, tasks) and entry-point discovery.

A built-in plugin joins with a decorator::

    @register_featurizer("tfidf")
    class TfidfFeaturizer(Featurizer): ...

A package outside the toolkit joins through the entry-point groups
``toolkit.featurizers``, ``toolkit.heads`` and ``toolkit.tasks`` (``name = package.module:Class``);
the toolkit never needs editing to gain a plugin.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from importlib import metadata
from typing import Callable

from toolkit.errors import ToolkitError

BUILTIN_SOURCE = "toolkit (built-in)"


@dataclass
class Entry:
    name: str
    cls: type
    source: str


class Registry:
    """A name -> class mapping for one plugin role."""

    def __init__(self, role: str, group: str, builtin_package: str):
        self.role = role
        self.group = group
        self._builtin_package = builtin_package
        self._entries: dict[str, Entry] = {}
        self._discovered = False

    def register(self, name: str, *, source: str | None = None) -> Callable[[type], type]:
        def decorator(cls: type) -> type:
            origin = source or _source_of(cls)
            existing = self._entries.get(name)
            if existing is not None and existing.cls is not cls:
                raise ToolkitError(
                    f"Two {self.role}s are registered as {name!r}: {existing.cls.__module__}."
                    f"{existing.cls.__qualname__} ({existing.source}) and {cls.__module__}.{cls.__qualname__}."
                )
            cls.registry_name = name
            self._entries[name] = Entry(name, cls, origin)
            return cls

        return decorator

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        # Built-ins first, so a third-party plugin cannot silently shadow one.
        importlib.import_module(self._builtin_package)
        for ep in metadata.entry_points(group=self.group):
            try:
                cls = ep.load()
            except Exception as exc:  # a broken third-party plugin must not break the rest
                raise ToolkitError(
                    f"The {self.role} plugin {ep.name!r} ({ep.value}) from the entry-point group "
                    f"{self.group!r} failed to import: {type(exc).__name__}: {exc}"
                ) from exc
            dist = getattr(ep, "dist", None)
            source = f"{dist.name} {dist.version}" if dist is not None else ep.value
            if ep.name not in self._entries or self._entries[ep.name].cls is not cls:
                self.register(ep.name, source=source)(cls)
            else:
                self._entries[ep.name].source = source

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        self._discover()
        return [self._entries[n] for n in sorted(self._entries)]

    def get(self, name: str) -> type:
        self._discover()
        if not isinstance(name, str) or name not in self._entries:
            installed = ", ".join(self.names())
            close = difflib.get_close_matches(str(name), self.names(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ToolkitError(f"Unknown {self.role} {name!r}.{hint} Installed: {installed}.")
        return self._entries[name].cls


def _source_of(cls: type) -> str:
    module = cls.__module__
    if module == "toolkit" or module.startswith("toolkit."):
        return BUILTIN_SOURCE
    top = module.split(".")[0]
    try:
        dists = metadata.packages_distributions().get(top, [])
        if dists:
            return f"{dists[0]} {metadata.version(dists[0])}"
    except Exception:
        pass
    return module


FEATURIZERS = Registry("featurizer", "toolkit.featurizers", "toolkit.featurizers")
HEADS = Registry("head", "toolkit.heads", "toolkit.heads")
TASKS = Registry("task", "toolkit.tasks", "toolkit.tasks")


def register_featurizer(name: str) -> Callable[[type], type]:
    """Class decorator: make a :class:`~toolkit.featurizers.Featurizer` available as ``type: name``."""
    return FEATURIZERS.register(name)


def register_head(name: str) -> Callable[[type], type]:
    """Class decorator: make a :class:`~toolkit.heads.Head` available as ``head: {type: name}``."""
    return HEADS.register(name)


def register_task(name: str) -> Callable[[type], type]:
    """Class decorator: make a :class:`~toolkit.tasks.Task` available as ``task: {type: name}``."""
    return TASKS.register(name)


#: the ``label_kind`` runs wrote before tasks were plugins, and the task each now reads as
_LEGACY_KINDS = {"binary": "binary", "time_to_event": "time_to_return"}


def task_name(record: dict) -> str:
    """The task a ``metrics.json`` (or ``model.json``) names: its ``task``, or a legacy ``label_kind``."""
    name = record.get("task")
    if name is None:
        name = _LEGACY_KINDS.get(record.get("label_kind", "binary"), record.get("label_kind"))
    return name


def task_of(record: dict) -> type:
    """The task class of a ``metrics.json`` (or ``model.json``) mapping, from :func:`task_name`."""
    return TASKS.get(task_name(record))
