"""How the toolkit scales, 10,000 to 1,000,000 users: ``python -m benchmarks.scale`` (see :mod:`.run`)."""
