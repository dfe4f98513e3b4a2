"""Run a command and write its wall time and peak RSS as JSON to the file named first.

A small process of its own, because Linux hands a child the parent's memory high-water mark when it
execs (the benchmark holds the whole mailbox in memory, so a child started from it would report that
as its own peak). Here the child is forked from this small process, and `RUSAGE_CHILDREN` holds only it.

    python benchmarks/_measure.py OUT.json COMMAND ARGS...
"""

import json
import resource
import subprocess
import sys
import time

start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": seconds, "rss_kb": peak_kb, "code": code}, out)
sys.exit(code)
