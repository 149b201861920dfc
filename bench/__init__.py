"""Benchmarks: each figure measures our code against a floor (the least work giving the same result), same run.

`python -m bench` (or `make bench`) runs every figure on SQLite and PostgreSQL and prints the table;
see bench/__main__.py for the options. Not part of `make test`.
"""
