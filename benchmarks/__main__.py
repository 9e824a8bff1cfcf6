"""``python -m benchmarks``: the side-by-side benchmark (see ``benchmarks/run.py``)."""

from benchmarks.run import main

main()
