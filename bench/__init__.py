"""Benchmarks: a network-scale data generator and a load script, run by hand, never by pytest.

See ``bench/README.md`` for the commands and ``docs/performance.md`` for the figures.
"""
