"""Fit benchmark: each design at 7, 70 and 700 mice per group, from a fresh process.

Run by hand (not in CI):

    .venv/bin/python benchmarks/bench_fit.py                     # both designs, 7 / 70 / 700 per group
    .venv/bin/python benchmarks/bench_fit.py --sizes 7 70 --designs factorial --json out.json

For every design and size a data set is simulated with the shipped study's parameters
(``data/truth.json``: time course 3 groups x 8 fractions, Student-t residuals nu = 5; 2 x 2
factorial, residual SD 30 s) and written to a CSV. Then:

* a fresh Python process (``subprocess``) reads the sheet, builds the model, compiles it
  (`bayes_igf1.compile.compile_model`), samples it with the analysis defaults (4 chains x 1000 draws, 1000 tuning,
  ``adaptation="auto"``: low-rank mass matrix up to 100 free dimensions, diagonal above)
  and applies the diagnostics gate (parameters and reported estimands); when the gate
  fails it tries, in turn, the package's retry (tuning 2000, target_accept 0.95), more
  draws, and the other mass matrix, and reports every attempt (an attempt running past
  ``--attempt-timeout`` is aborted and reported). "wall" is the parent's clock from starting the child to its exit, so it includes
  Python start-up and imports; "peak MB" is the child's ``ru_maxrss`` (``os.wait4``).
  This runs three times, each with the same compilation caches (PyTensor's and
  bayes-igf1's, in a scratch folder): *cold* (empty caches: the first run on a new
  machine), *warm* (the same sheet again: every later run; the figures of the table), and
  *new size* (a sheet with one more mouse per group: a model the machine has not compiled,
  after it has compiled others). ``--baseline`` adds a run with ``nutpie.compile_pymc_model``.
* a second fresh process runs the frequentist twin on the same sheet (time course: RM ANOVA
  + REML mixed model; factorial: type III ANOVA, post hoc, simple effects, checks) under a
  memory limit (``--freq-mem-gb``, default 8) and a timeout (``--freq-timeout``, 600 s); a
  failure is printed as such, never hidden.
* brms is timed when ``Rscript -e 'library(brms)'`` succeeds (up to ``--brms-max-n`` mice
  per group): a fresh R process compiles the same model (``chains = 0``), then samples it
  (4 chains x 1000 after 1000 warm-up) and summarises R-hat and bulk/tail ESS with the
  posterior package; otherwise it is reported as not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent

# Settings tried in turn until the gate passes (the first is the analysis default; "auto" is the
# package's choice of mass matrix: low rank up to 100 free dimensions, diagonal above). An attempt
# that does not finish within --attempt-timeout is aborted and reported; after such a timeout the
# remaining steps with the same mass matrix are skipped.
LADDER = [
    {"label": "default (4 x 1000, tune 1000, target 0.8)"},
    {"label": "package retry (SamplerSettings.for_retry of the failed attempt)", "retry": True},
    {"label": "tune 2000, draws 2000, target 0.95", "tune": 2000, "draws": 2000, "target_accept": 0.95},
    {"label": "other mass matrix, tune 2000, draws 2000, target 0.95", "tune": 2000, "draws": 2000,
     "target_accept": 0.95, "adaptation": "other"},
]


# ------------------------------------------------------------------------------ data


def make_sheet(design: str, n: int, folder: Path, seed: int = 1) -> Path:
    """Simulate a study of n mice per group (cell) with the shipped data's parameters; write a CSV."""
    import numpy as np

    from bayes_igf1.simulate import simulate_factorial, simulate_timecourse

    truth = json.loads((ROOT / "data" / "truth.json").read_text())["files"]
    path = folder / f"{design}_{n}.csv"
    if design == "timecourse":
        t = truth["microdialysis_igf1.csv"]
        groups = ["saline", "ketamine 10", "ketamine 30"]
        post = sorted(t["effects"]["saline"], key=float)
        effects = {g: [t["effects"][g][k] for k in post] for g in groups}
        df, _ = simulate_timecourse(n_per_group=n, groups=groups, times=(-2, -1, 1, 2, 3, 4, 5, 6),
                                    baseline_log_mean=t["baseline_log_mean"], animal_sd=t["animal_sd"],
                                    residual_sd=t["residual_sd"], residual_nu=t["residual_nu"], effects=effects,
                                    seed=seed)
        df = df.assign(igf1_pg_ml=np.round(df["igf1_pg_ml"], 2))
    else:
        t = truth["fst_igf1_nab.csv"]
        cells = {tuple(k.split("|")): v for k, v in t["cell_means"].items()}
        order = [("saline", "IgG"), ("ketamine", "IgG"), ("saline", "IGF-1 nAb"), ("ketamine", "IGF-1 nAb")]
        df, _ = simulate_factorial(cell_means={c: cells[c] for c in order}, n_per_cell=n,
                                   residual_sd=t["residual_sd"], factor_names=("treatment", "antibody"), seed=seed)
        df = df.rename(columns={"value": "immobility_s"}).drop(columns=["censored"])
        df["immobility_s"] = np.round(df["immobility_s"], 2)
    df.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------ children


def _read(design: str, sheet: str):
    if design == "timecourse":
        from bayes_igf1.designs import timecourse as tc
        from bayes_igf1.io import read_timecourse

        s = read_timecourse(sheet, animal="mouse", group="treatment", time="hour", value="igf1_pg_ml", log_scale=True)
        options = tc.TimecourseOptions()
        data = tc.prepare(s.frame, options)
        priors = tc.default_priors(data, options)
        return s, data, options, priors
    from bayes_igf1.designs import factorial as fa
    from bayes_igf1.io import read_factorial

    s = read_factorial(sheet, outcome="immobility_s", factors=["treatment", "antibody"], animal="mouse")
    options = fa.FactorialOptions()
    data = fa.prepare(s.frame, ["treatment", "antibody"], options)
    return s, data, options, fa.resolve_priors(data, options, None)


def child_bayes(design: str, sheet: str, attempt_timeout: float = 900.0) -> dict:
    """Read, build, compile, sample until the gate passes; phases timed inside the child."""
    import warnings

    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    import numpy as np
    import nutpie

    from bayes_igf1.compile import compile_model
    from bayes_igf1.designs import factorial as fa
    from bayes_igf1.designs import timecourse as tc
    from bayes_igf1.sampling import SamplerSettings, diagnose, resolve_adaptation

    out = {"import_s": time.perf_counter() - t0}
    t = time.perf_counter()
    _, data, options, priors = _read(design, sheet)
    mod = tc if design == "timecourse" else fa
    model = mod.build_model(data, priors, options)
    params = mod.free_parameters(data, options) if design == "timecourse" else mod.free_parameters(data)
    out["read_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    compiled = compile_model(model) if os.environ.get("BENCH_COMPILER") != "nutpie" else nutpie.compile_pymc_model(model)
    out["compile_s"] = time.perf_counter() - t
    out["cache_hits"] = int(getattr(compiled.compiled_logp_func, "_cache_hits", 0))
    attempts = []
    timed_out: set[str] = set()
    auto = resolve_adaptation("auto", compiled.n_dim)
    out["n_dim"] = int(compiled.n_dim)
    first = None  # (settings, diagnostics) of the default attempt, for the package's retry
    for step in LADDER:
        kw = {k: v for k, v in step.items() if k not in ("label", "retry")}
        if kw.get("adaptation") == "other":
            kw["adaptation"] = "diag" if auto == "low_rank" else "low_rank"
        if step.get("retry"):
            if first is None:
                continue
            s = first[0].for_retry(first[1])
            label = f"package retry (tune {s.tune}, draws {s.draws}, target {s.target_accept})"
        else:
            s = SamplerSettings(**kw)
            label = step["label"]
        adaptation = resolve_adaptation(s.adaptation, compiled.n_dim)
        if adaptation in timed_out:
            continue
        t = time.perf_counter()
        bg = nutpie.sample(compiled, draws=s.draws, tune=s.tune, chains=s.chains, cores=s.chains, seed=s.seed,
                           adaptation=adaptation, target_accept=s.target_accept, maxdepth=s.maxdepth,
                           progress_bar=False, save_warmup=False, blocking=False)
        try:
            tree = bg.wait(timeout=attempt_timeout)
        except TimeoutError:
            bg.abort()
            attempts.append({"settings": f"{label}, {adaptation}", "sampling_s": time.perf_counter() - t,
                             "passed": False, "timed_out": True,
                             "problems": [f"did not finish in {attempt_timeout:.0f} s (aborted)"]})
            timed_out.add(adaptation)
            continue
        sampling = time.perf_counter() - t
        t = time.perf_counter()
        d = diagnose(tree, var_names=params, settings=s, derived=lambda post: mod.gated_estimands(post, data))
        if first is None:
            first = (s, d)
        stats = tree["sample_stats"]
        attempts.append({"settings": f"{label}, {adaptation}", "sampling_s": sampling,
                         "diagnose_s": time.perf_counter() - t,
                         "min_ess_bulk": d.min_ess_bulk, "min_ess_tail": d.min_ess_tail, "max_rhat": d.max_rhat,
                         "divergences": d.divergences, "treedepth_saturated": d.treedepth_saturated,
                         "mean_steps": float(stats["n_steps"].mean()), "passed": d.passed,
                         "problems": list(d.problems), "ess_per_s": d.min_ess_bulk / sampling})
        if d.passed:
            break
    out["attempts"] = attempts
    out["n_obs"] = len(data.y)
    out["n_parameters"] = int(sum(np.prod(model[p].shape.eval()) for p in params))
    return out


def child_freq(design: str, sheet: str) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    sheet_obj, data, options, _ = _read(design, sheet)
    out = {"setup_s": time.perf_counter() - t0}
    if design == "timecourse":
        from bayes_igf1.designs.timecourse import percent_of_baseline
        from bayes_igf1.frequentist.repeated import mixed_model_contrasts, rm_anova

        t = time.perf_counter()
        work, _ = percent_of_baseline(sheet_obj.frame)
        work = work.assign(group=work["group"].astype(str))
        rm_anova(work, subject="animal", between="group", within="time", dv="pct")
        out["rm_anova_s"] = time.perf_counter() - t
        print(json.dumps({"partial": out}), flush=True)
        import numpy as np

        t = time.perf_counter()
        mixed_model_contrasts(work.assign(dv=np.log(work["pct"])), subject="animal", group="group", time="time",
                              dv="dv", reference=data.reference)
        out["mixed_model_s"] = time.perf_counter() - t
        out["twin_s"] = out["rm_anova_s"] + out["mixed_model_s"]
    else:
        from bayes_igf1.designs import factorial as fa
        from bayes_igf1.frequentist import between

        t = time.perf_counter()
        between.factorial_anova(fa.animal_means(data), dv="value", factors=list(data.factors))
        out["anova_s"] = time.perf_counter() - t
        t = time.perf_counter()
        fa.frequentist_twin(data, options)
        out["twin_s"] = time.perf_counter() - t
    return out


# ------------------------------------------------------------------------------ parent


def run_child(kind: str, design: str, sheet: Path, *, timeout: float | None = None,
              mem_gb: float | None = None, attempt_timeout: float = 900.0, env: dict | None = None) -> dict:
    """Run this script as a fresh process; wall clock, exit status and the child's own ru_maxrss."""
    cmd = [sys.executable, str(HERE), "--child", kind, design, str(sheet), "--attempt-timeout", str(attempt_timeout)]

    def limit():  # pragma: no cover - runs in the child
        if mem_gb:
            b = int(mem_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (b, b))

    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as so, tempfile.TemporaryFile("w+") as se:
        proc = subprocess.Popen(cmd, stdout=so, stderr=se, preexec_fn=limit, cwd=ROOT,
                                env={**os.environ, **(env or {})})  # noqa: PLW1509 (no threads here)
        timed_out = False
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                timed_out = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        so.seek(0)
        se.seek(0)
        lines = [ln for ln in so.read().splitlines() if ln.startswith("{")]
        err = se.read()
    result = {"wall_s": wall, "peak_mb": usage.ru_maxrss / 1024, "returncode": proc.returncode}
    done = [json.loads(ln) for ln in lines]
    final = [d for d in done if "partial" not in d]
    if final and proc.returncode == 0:
        result.update(final[-1])
    else:
        for d in done:
            result.update(d.get("partial", {}))
        last = err.strip().splitlines()[-1] if err.strip() else ""
        result["failure"] = f"timed out after {timeout:.0f} s" if timed_out else (
            last or f"exit status {proc.returncode}")
    return result


def brms_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = ["Rscript", "-e", "suppressMessages(library(brms))"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def run_brms(design: str, sheet: Path) -> dict:
    """Fit the same model with brms (rstan; compile, then 4 chains x 1000 after 1000 warm-up) in a fresh R process."""
    if design == "timecourse":
        formula = ("bf(log(igf1_pg_ml) ~ 0 + cell + (1 | mouse))", "student()")
        prep = ("d$cell <- ifelse(d$hour <= 0, 'baseline', paste(d$treatment, d$hour)); "
                "d$cell <- relevel(factor(d$cell), 'baseline'); ")
    else:
        formula = ("bf(immobility_s ~ 0 + treatment:antibody)", "gaussian()")
        prep = ""
    fit = f"{formula[0]}, data = d, family = {formula[1]}, refresh = 0, seed = 1"
    # Debian's r-cran-bh puts Boost in /usr/include, not where rstan looks for BH.
    boost = "if (!file.exists(rstan::rstan_options('boost_lib'))) rstan::rstan_options(boost_lib = '/usr/include'); "
    code = (f"suppressMessages(library(brms)); {boost}d <- read.csv('{sheet}'); {prep}"
            f"tc <- system.time(f0 <- brm({fit}, chains = 0)); "
            "ts <- system.time(f <- update(f0, recompile = FALSE, chains = 4, cores = 4, iter = 2000, refresh = 0, "
            "seed = 1)); dr <- posterior::subset_draws(posterior::as_draws_df(f), variable = 'lp__', exclude = TRUE); "
            "s <- posterior::summarise_draws(dr, 'rhat', 'ess_bulk', 'ess_tail'); "
            "cat(sprintf('{\"compile_s\": %f, \"sampling_s\": %f, \"max_rhat\": %f, \"min_ess_bulk\": %f, "
            "\"min_ess_tail\": %f}\\n', tc[['elapsed']], ts[['elapsed']], max(s$rhat, na.rm = TRUE), "
            "min(s$ess_bulk, na.rm = TRUE), min(s$ess_tail, na.rm = TRUE)))")
    start = time.perf_counter()
    proc = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=False)
    out = {"wall_s": time.perf_counter() - start, "returncode": proc.returncode}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if lines:
        out.update(json.loads(lines[-1]))
    else:
        out["failure"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output"
    return out


def versions() -> dict:
    from importlib.metadata import version

    pkgs = ["bayes-igf1", "pymc", "pytensor", "nutpie", "numba", "arviz", "numpy", "scipy", "statsmodels", "pandas",
            "xarray", "dask", "distributed"]
    out = {"python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count()}
    try:
        model = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        out["cpu"] = model[0] if model else platform.processor()
    except OSError:
        out["cpu"] = platform.processor()
    out.update({p: version(p) for p in pkgs})
    return out


def _header(*columns: str) -> None:
    """Print the header and separator of a markdown table."""
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def fmt(x, spec=".1f") -> str:
    return "-" if x is None else format(x, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", nargs=3, metavar=("KIND", "DESIGN", "SHEET"), help=argparse.SUPPRESS)
    ap.add_argument("--sizes", nargs="+", type=int, default=[7, 70, 700], help="mice per group (cell)")
    ap.add_argument("--designs", nargs="+", default=["timecourse", "factorial"], choices=["timecourse", "factorial"])
    ap.add_argument("--attempt-timeout", type=float, default=900.0,
                    help="abort a sampling attempt after this many seconds (default 900) and try the next settings")
    ap.add_argument("--freq-timeout", type=float, default=600.0, help="seconds for the frequentist child")
    ap.add_argument("--freq-mem-gb", type=float, default=8.0, help="address-space limit of the frequentist child")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--brms-max-n", type=int, default=70,
                    help="time brms only up to this many mice per group (default 70; 700 took 441 s in the issue)")
    ap.add_argument("--baseline", action="store_true",
                    help="also time nutpie.compile_pymc_model (no disk cache of its wrappers) for comparison")
    args = ap.parse_args(argv)
    if args.child:
        kind, design, sheet = args.child
        result = (child_bayes(design, sheet, args.attempt_timeout) if kind == "bayes"
                  else child_freq(design, sheet))
        print(json.dumps(result), flush=True)
        return 0

    info = versions()
    print("machine:", f"{info['cpu_count']} cores ({info['cpu']}), python {info['python']}")
    print("versions:", ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("python", "machine", "cpu",
                                                                                   "cpu_count")))
    try:
        print("load average at start:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    except OSError:
        pass
    has_brms = brms_available()
    print("brms:", "installed, timed below" if has_brms else "not installed (Rscript -e 'library(brms)' failed): skipped")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for design in args.designs:
            for n in args.sizes:
                sheet = make_sheet(design, n, Path(tmp))
                print(f"\n== {design}, {n} mice per {'group' if design == 'timecourse' else 'cell'} ==", flush=True)
                # Cold: empty compilation caches (PyTensor's and bayes-igf1's), as on a new machine;
                # warm: the same caches, filled by the cold run, as on every later run.
                caches = Path(tmp) / f"cache_{design}_{n}"
                env = {"BAYES_IGF1_CACHE_DIR": str(caches / "bayes_igf1"),
                       "PYTENSOR_FLAGS": f"base_compiledir={caches / 'pytensor'}"}
                cold = run_child("bayes", design, sheet, attempt_timeout=args.attempt_timeout, env=env)
                bayes = run_child("bayes", design, sheet, attempt_timeout=args.attempt_timeout, env=env)
                bayes["cold_wall_s"] = cold.get("wall_s")
                bayes["cold_compile_s"] = cold.get("compile_s")
                # A model not seen before on a machine that has run others (a study of another size).
                new = run_child("bayes", design, make_sheet(design, n + 1, Path(tmp)),
                                attempt_timeout=args.attempt_timeout, env=env)
                bayes["new_size_wall_s"] = new.get("wall_s")
                bayes["new_size_compile_s"] = new.get("compile_s")
                if args.baseline:
                    # Same caches and the same PyTensor flags (fastmath off): only nutpie's wrappers differ.
                    flags = f"{env['PYTENSOR_FLAGS']},numba__fastmath=False"
                    base = run_child("bayes", design, sheet, attempt_timeout=args.attempt_timeout,
                                     env={**env, "PYTENSOR_FLAGS": flags, "BENCH_COMPILER": "nutpie"})
                    bayes["nutpie_wall_s"] = base.get("wall_s")
                    bayes["nutpie_compile_s"] = base.get("compile_s")
                freq = run_child("freq", design, sheet, timeout=args.freq_timeout, mem_gb=args.freq_mem_gb)
                row = {"design": design, "n_per_group": n, "bayes": bayes, "freq": freq}
                if has_brms and n <= args.brms_max_n:
                    row["brms"] = run_brms(design, sheet)
                rows.append(row)
                if "failure" in bayes:
                    print("  Bayesian child FAILED:", bayes["failure"])
                    continue
                for a in bayes["attempts"]:
                    if a.get("timed_out"):
                        print(f"  {a['settings']}: {a['problems'][0]}")
                        continue
                    print(f"  {a['settings']}: sampling {a['sampling_s']:.1f} s, min ESS bulk/tail "
                          f"{a['min_ess_bulk']:.0f}/{a['min_ess_tail']:.0f}, max R-hat {a['max_rhat']:.4f}, "
                          f"{a['divergences']} divergences, {a['mean_steps']:.0f} leapfrog steps/draw -> "
                          + ("passed" if a["passed"] else "FAILED: " + "; ".join(a["problems"])))
                print(f"  wall (fresh process -> gated posterior) {bayes['wall_s']:.1f} s with warm caches "
                      f"({bayes['cache_hits']} cache hit), {fmt(bayes['cold_wall_s'])} s cold, "
                      f"{fmt(bayes['new_size_wall_s'])} s for {n + 1} per group after it; import "
                      f"{bayes['import_s']:.1f} s, compile {bayes['compile_s']:.1f} s warm / "
                      f"{fmt(bayes['cold_compile_s'])} s cold / {fmt(bayes['new_size_compile_s'])} s new size"
                      + (f" / {fmt(bayes['nutpie_compile_s'])} s nutpie.compile_pymc_model (wall "
                         f"{fmt(bayes['nutpie_wall_s'])} s)" if args.baseline else "")
                      + f"; peak {bayes['peak_mb']:.0f} MB; "
                      f"{bayes['n_obs']} observations, {bayes['n_parameters']} gated parameters, {bayes['n_dim']} free dimensions")
                if "failure" in freq:
                    print(f"  frequentist twin FAILED: {freq['failure']} (after {freq['wall_s']:.0f} s, peak "
                          f"{freq['peak_mb']:.0f} MB)" + (f"; RM ANOVA alone {freq['rm_anova_s']:.2f} s"
                                                          if "rm_anova_s" in freq else ""))
                else:
                    print(f"  frequentist twin {freq['twin_s']:.2f} s (wall {freq['wall_s']:.1f} s, peak "
                          f"{freq['peak_mb']:.0f} MB)")
                if "brms" in row:
                    print("  brms:", row["brms"])

    _header("design", "n/group", "wall s, fresh process to gated posterior (warm / cold caches / new size)",
            "compile s (warm / cold / new size)", "sampling s (passing attempt / all attempts)", "settings that passed",
            "min bulk ESS", "min tail ESS", "max R-hat", "ESS/s", "freq twin s", "peak MB (Bayes / freq)")
    for r in rows:
        b, f = r["bayes"], r["freq"]
        if "failure" in b:
            print(f"| {r['design']} | {r['n_per_group']} | FAILED: {b['failure']} |||||||||")
            continue
        last = b["attempts"][-1]
        total = sum(a["sampling_s"] for a in b["attempts"])
        passed = last["settings"] if last["passed"] else "none passed"
        twin = fmt(f.get("twin_s"), ".2f") if "failure" not in f else f"FAILED ({f['failure'][:60]})"
        print(f"| {r['design']} | {r['n_per_group']} | {b['wall_s']:.1f} / {fmt(b['cold_wall_s'])} / "
              f"{fmt(b['new_size_wall_s'])} | {b['compile_s']:.1f} / {fmt(b['cold_compile_s'])} / "
              f"{fmt(b['new_size_compile_s'])} | "
              f"{last['sampling_s']:.1f} / {total:.1f} | {passed} | {fmt(last.get('min_ess_bulk'), '.0f')} | "
              f"{fmt(last.get('min_ess_tail'), '.0f')} | {fmt(last.get('max_rhat'), '.4f')} | "
              f"{fmt(last.get('ess_per_s'), '.0f')} | {twin} | {b['peak_mb']:.0f} / {f['peak_mb']:.0f} |")
    with_brms = [r for r in rows if "brms" in r and "failure" not in r["bayes"]]
    if with_brms:
        _header("design", "n/group", "brms wall s (fresh R process)", "brms compile s", "brms sampling s",
                "brms min bulk / tail ESS", "brms max R-hat", "bayes-igf1 wall s (warm / cold caches)",
                "brms wall / bayes-igf1 wall (warm / cold)")
        for r in with_brms:
            m, b = r["brms"], r["bayes"]
            if "failure" in m:
                print(f"| {r['design']} | {r['n_per_group']} | FAILED: {m['failure']} |||||||")
                continue
            cold = b.get("cold_wall_s")
            print(f"| {r['design']} | {r['n_per_group']} | {m['wall_s']:.1f} | {m['compile_s']:.1f} | "
                  f"{m['sampling_s']:.1f} | {m['min_ess_bulk']:.0f} / {m['min_ess_tail']:.0f} | {m['max_rhat']:.4f} | "
                  f"{b['wall_s']:.1f} / {fmt(cold)} | {m['wall_s'] / b['wall_s']:.1f} / "
                  f"{fmt(m['wall_s'] / cold if cold else None)} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"versions": info, "rows": rows}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
