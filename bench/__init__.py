"""Benchmarks of quizapp: ``make bench`` runs them and writes bench/results.json.

Run from the repository root: ``python -m bench.run [module ...]``. Each module named
in :data:`bench.run.MODULES` measures one area and returns
:class:`bench.figures.Figure` rows; docs/performance.md explains the method and the
latest numbers.
"""
