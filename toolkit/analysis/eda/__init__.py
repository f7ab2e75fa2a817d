"""Exploratory analysis of a posts file: ``python -m toolkit eda SPEC_OR_CSV``.

:mod:`~toolkit.analysis.eda.run` loads the data and writes the report folder,
:mod:`~toolkit.analysis.eda.stats` computes its numbers, :mod:`~toolkit.analysis.eda.figures`
draws its figures and :mod:`~toolkit.analysis.eda.report` writes its markdown.
"""

from toolkit.analysis.eda.run import (
    DEFAULT_LABEL, FIRST_ACCOUNT, EdaInput, analyse, clock_check, creation_weeks, load_input, run_eda, windows,
)

__all__ = ["DEFAULT_LABEL", "FIRST_ACCOUNT", "EdaInput", "analyse", "clock_check", "creation_weeks", "load_input",
           "run_eda", "windows"]
