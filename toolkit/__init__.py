"""Retention toolkit: predict whether users who moved platforms stay, and what it costs."""

__version__ = "0.1.0"
