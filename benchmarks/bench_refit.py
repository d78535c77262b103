"""Refit throughput: diagnostics-passing fits per minute, data swapped into one compiled model.

Run by hand (not in CI):

    .venv/bin/python benchmarks/bench_refit.py              # both designs, 40 refits per setting
    .venv/bin/python benchmarks/bench_refit.py --fits 100 --designs factorial

At study size: the shipped time course (21 mice x 8 fractions, its below-limit fractions
left out as in ``calibrate.timecourse_model``) and the shipped FST x nAb factorial (38
mice, 3 cohorts as fixed blocks). The model is fitted once to the shipped data; ``--fits``
data sets are drawn from its posterior predictive (realistic data of the same shape), the
model is compiled once (``compile.compile_model``) and refitted to each data set with
``compiled.with_data(y_data=...)``. Each refit is gated (R-hat <= 1.01, bulk and tail ESS >=
400, no divergences) on the free parameters. Four settings, all through
``sampling.sample_compiled`` (one thread per chain; adaptation "auto" unless said): the analysis
default (4 chains x 1000 draws, 1000 tuning), the planning default of
``bayes-igf1 plan`` (2 x 1000, 500 tuning), 4 x 500 draws after 500 tuning steps, and the
analysis default with the diagonal mass matrix instead of the low-rank one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SETTINGS = {
    "analysis default (4 x 1000, tune 1000)": {"draws": 1000, "tune": 1000, "chains": 4},
    "plan default (2 x 1000, tune 500)": {"draws": 1000, "tune": 500, "chains": 2},
    "4 x 500, tune 500": {"draws": 500, "tune": 500, "chains": 4},
    "analysis default with the diagonal mass matrix": {"draws": 1000, "tune": 1000, "chains": 4, "adaptation": "diag"},
}


def replicated(model, n: int, seed: int):
    """Fit the shipped data once and draw n posterior-predictive data sets of ``y``."""
    import numpy as np
    import pymc as pm

    from bayes_igf1.compile import compile_model
    from bayes_igf1.sampling import SamplerSettings, sample_compiled

    tree = sample_compiled(compile_model(model),
                           settings=SamplerSettings(draws=500, tune=1000, chains=2, seed=seed))
    with model:
        ppc = pm.sample_posterior_predictive(tree, var_names=["y"], random_seed=seed, progressbar=False)
    group = ppc["posterior_predictive"] if "posterior_predictive" in getattr(ppc, "children", {}) else ppc
    y = group["y"].stack(_s=("chain", "draw")).transpose("_s", ...).values
    pick = np.random.default_rng(seed).choice(y.shape[0], size=n, replace=False)
    return y[pick]


def bench(design: str, fits: int, seed: int) -> list[dict]:
    import numpy as np

    from bayes_igf1 import calibrate
    from bayes_igf1.compile import compile_model
    from bayes_igf1.sampling import (
        SamplerSettings,
        diagnose,
        resolve_adaptation,
        sample_compiled,
    )

    builder = calibrate.timecourse_model if design == "timecourse" else calibrate.factorial_model
    model, params, _ = builder(ROOT / "data")
    ys = replicated(model, fits, seed)
    t = time.perf_counter()
    compiled = compile_model(model)
    compile_s = time.perf_counter() - t
    rows = []
    for label, kw in SETTINGS.items():
        s = SamplerSettings(seed=seed, **kw)
        seeds = np.random.SeedSequence(seed).spawn(fits)
        passed, sampling, gating = 0, 0.0, 0.0
        problems: dict[str, int] = {}
        start = time.perf_counter()
        for i in range(fits):
            t = time.perf_counter()
            si = replace(s, seed=int(seeds[i].generate_state(1)[0]))
            tree = sample_compiled(compiled.with_data(y_data=np.asarray(ys[i], dtype=float)), settings=si)
            sampling += time.perf_counter() - t
            t = time.perf_counter()
            d = diagnose(tree, var_names=params, settings=s)
            gating += time.perf_counter() - t
            passed += d.passed
            for p in d.problems:
                key = p.split(" ")[0] + " " + p.split(" ")[1]
                problems[key] = problems.get(key, 0) + 1
        total = time.perf_counter() - start
        used = f"{label}, {resolve_adaptation(s.adaptation, compiled.n_dim)}"
        rows.append({"design": design, "settings": used, "fits": fits, "passed": int(passed),
                     "compile_s": compile_s, "seconds": total, "sampling_s": sampling, "gate_s": gating,
                     "fits_per_min": 60 * fits / total, "passing_fits_per_min": 60 * passed / total,
                     "sec_per_fit": total / fits, "problems": problems})
        print(f"  {design}, {rows[-1]['settings']}: {fits} refits in {total:.1f} s ({60 * fits / total:.0f} fits/min, "
              f"{60 * passed / total:.0f} passing fits/min; {passed}/{fits} passed; sampling {sampling / fits:.2f} s "
              f"+ gate {gating / fits:.2f} s per fit){'; ' + str(problems) if problems else ''}", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fits", type=int, default=40, help="refits per design and setting (default 40)")
    ap.add_argument("--designs", nargs="+", default=["timecourse", "factorial"], choices=["timecourse", "factorial"])
    ap.add_argument("--seed", type=int, default=20220412)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("pymc").setLevel(logging.ERROR)
    print(f"machine: {os.cpu_count()} cores; load average at start "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    rows = []
    for design in args.designs:
        print(f"== {design} (study size) ==", flush=True)
        rows += bench(design, args.fits, args.seed)
    print("\n| design | settings | refits | passed gate | compile s (once) | s per refit | fits/min | "
          "passing fits/min |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['design']} | {r['settings']} | {r['fits']} | {r['passed']} | {r['compile_s']:.1f} | "
              f"{r['sec_per_fit']:.2f} | {r['fits_per_min']:.0f} | {r['passing_fits_per_min']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
