"""Feature blocks and the feature cache.

A featurizer plugin (``toolkit.featurizers``) turns the users table into a
:class:`~toolkit.features.blocks.Block`; :mod:`toolkit.features.cache` keeps
computed blocks on disk so a sweep never computes the same block twice.
"""
