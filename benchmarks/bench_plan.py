"""Time ``bayes-igf1 plan`` end to end (fresh process, as a user runs it).

Run by hand (not in CI):

    .venv/bin/python benchmarks/bench_plan.py                    # factorial, K = 200 x n = 6 8 10 12
    .venv/bin/python benchmarks/bench_plan.py --design timecourse --sims 100

The target of issue 7: K = 200 simulated data sets x 4 sample sizes of the factorial design
in <= 10 minutes on 2 cores. Prints the wall time, the table and the number of fits that
failed the diagnostics gate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CELLS = "saline|IgG=150,ketamine|IgG=90,saline|IGF-1 nAb=150,ketamine|IGF-1 nAb=145"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--design", choices=["factorial", "timecourse"], default="factorial")
    ap.add_argument("--sims", type=int, default=200)
    ap.add_argument("--n", nargs="+", default=["6", "8", "10", "12"])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", default=None, help="keep the plan folder here (default: a temporary folder)")
    args = ap.parse_args(argv)
    if args.design == "factorial":
        effects = ["--cell-means", CELLS, "--sd", "30"]
    else:
        effects = ["--pct-change", "ketamine 10=45,65,60,50,40,20", "--groups", "saline", "ketamine 10",
                   "--animal-sd", "0.4", "--residual-sd", "0.13", "--nu", "5"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or Path(tmp) / "plan")
        cmd = [str(ROOT / ".venv" / "bin" / "bayes-igf1"), "plan", args.design, *effects, "--n", *args.n,
               "--sims", str(args.sims), "--workers", str(args.workers), "--out", str(out)]
        print("load average at start:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
        print("$", " ".join(f"'{c}'" if " " in c or "|" in c else c for c in cmd), flush=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        print(proc.stdout)
        print("\n".join(ln for ln in proc.stderr.splitlines() if "ETA" not in ln or "/" not in ln)[-3000:])
        doc = json.loads((out / "plan.json").read_text())
        fits = len(doc["settings"]["n"]) * doc["settings"]["sims"]
        failed = sum(doc["failed_gate"].values())
        print(f"\nwall {wall:.0f} s ({wall / 60:.1f} min) for {fits} simulated data sets on {os.cpu_count()} cores "
              f"({args.workers} workers); exit status {proc.returncode}; {failed} of {fits} fits failed the gate; "
              f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
