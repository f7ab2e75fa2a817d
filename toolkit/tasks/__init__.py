"""Tasks: what a run learns from its users and how it is judged (one plugin per kind of label).

Built in: ``binary`` (:mod:`toolkit.tasks.binary`) and ``time_to_return``
(:mod:`toolkit.tasks.time_to_return`); the contract is :class:`toolkit.tasks.base.Task`.
"""

from toolkit.tasks.base import Task
from toolkit.tasks.binary import BinaryTask
from toolkit.tasks.time_to_return import TimeToReturnTask

__all__ = ["Task", "BinaryTask", "TimeToReturnTask"]
