"""The one exception type for user mistakes.

Everything a user can get wrong (a spec, a CSV, a label with too few positives, a
missing model) raises :class:`ToolkitError`. The command line catches it once,
prints the message without a traceback and exits with status 2.
"""


class ToolkitError(ValueError):
    """A mistake in the user's input, with a message that says what was expected
    and what was found."""
