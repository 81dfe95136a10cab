"""The bounds every hostile case must stay within (issue 9), in one place.

CPU time and peak memory, not wall time: a loaded machine slows a run down but does not
make it use more CPU. The input corpus measured 0.4-1.6 s of CPU and 50-92 MB a case
(``test_inputs.py -s`` prints them) at a load average of 25 on 2 cores, so the bounds
leave six times that while still catching a runaway.
"""

MAX_CPU_SECONDS = 10.0
"""CPU seconds of one CLI run, its children (ffmpeg) included."""
MAX_RSS_MB = 300
"""Peak resident memory of one CLI run, in MB."""
HANG_SECONDS = 120
"""Wall clock only to stop a run that hangs (never a speed check)."""
