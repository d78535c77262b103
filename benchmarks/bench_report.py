"""Report writing time: every format and figure of one analysis, at study size.

Run by hand (not in CI):

    .venv/bin/python benchmarks/bench_report.py            # every shipped analysis
    .venv/bin/python benchmarks/bench_report.py --only timecourse battery_nsft --repeats 7

Each analysis is fitted once with the default settings (4 chains x 1000 draws, seeded, as
``reproduce`` fits it), in this process, so that the write sees the objects a fit leaves (the
garbage collector walks them); then ``write_report`` writes its whole folder (report.md /
.html, results.json, posterior.nc, tables as CSV and LaTeX, figures as PNG and SVG)
``--repeats`` times into fresh temporary folders. Printed per analysis: the median, minimum
and maximum wall time of those writes, the median CPU time of this process (threads
included) and the 1-minute load average, since the machine may be shared: on a busy machine
wall time exceeds CPU time, and the CPU time is what an idle machine's wall time would be.
``--profile`` adds the slowest steps of one more write (cProfile). The target of issue 14 is
at most 2 s per analysis.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from bayes_igf1.reproduce import STUDY, run_analysis
from bayes_igf1.report.writer import write_report

DATA = Path(__file__).resolve().parent.parent / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[a.key for a in STUDY])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print the slowest steps of one write")
    args = parser.parse_args()
    for analysis in (a for a in STUDY if a.key in args.only):
        result = run_analysis(analysis, DATA, seed=20220412, draws=1000, tune=1000, chains=4)
        times, cpu = [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as td:
                start, start_cpu = time.perf_counter(), time.process_time()
                write_report(result, Path(td) / "out")
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
        print(f"{analysis.key:15s} write_report: median {statistics.median(times):.2f} s "
              f"(range {min(times):.2f}-{max(times):.2f} s over {len(times)} writes), "
              f"CPU median {statistics.median(cpu):.2f} s, load average {os.getloadavg()[0]:.1f}", flush=True)
        if args.profile:
            with tempfile.TemporaryDirectory() as td:
                prof = cProfile.Profile()
                prof.enable()
                write_report(result, Path(td) / "out")
                prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(r"bayes_igf1", 12)


if __name__ == "__main__":
    main()
