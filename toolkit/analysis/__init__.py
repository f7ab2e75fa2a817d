"""What a researcher does before and after a benchmark: eda, explain, predict, tracking.

This layer sits above :mod:`toolkit.experiment` and :mod:`toolkit.bench`: it
reads finished run folders and sweep folders and changes nothing in them
(``explain`` adds an ``explain/`` subfolder of its own unless told ``--out``).
"""
