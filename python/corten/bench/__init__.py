"""Benchmarks of corten against NumPy and PyTorch: `python -m corten bench --help`.

workloads.py  the registry (also read by benchmarks/bench_suite.py)
runner.py     interleaved timing; the --same-process method
procs.py      the default method: one worker process per library (worker.py)
report.py     table, JSON, comparison, chart
machine.py    the machine line (CPU, clock, measured peak, versions, method)
cli.py        the command line
"""
