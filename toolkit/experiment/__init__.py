"""Experiments: the spec (one schema for every block), a fold's feature blocks, the runner and its results folder.

``runner.run(spec)`` goes prepare -> cross-validate -> final model -> record and writes
``results/<name>/<timestamp>/`` atomically. ``toolkit.bench`` builds on it; nothing here
imports ``toolkit.bench``.
"""
