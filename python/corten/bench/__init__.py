"""Benchmarks of corten against NumPy and PyTorch: `python -m corten bench --help`.

workloads.py  the registry (also read by benchmarks/bench_suite.py)
runner.py     interleaved timing
report.py     table, JSON, comparison, chart
machine.py    the machine line (CPU, clock, peak, versions)
cli.py        the command line
"""
