"""The ``bayes-igf1`` command: thin over the Python API.

Exit codes (`EXIT_CODES`): 0 the analysis ran and passed its diagnostics; 1 it ran but failed
them (the report is still written, marked FAILED); 2 bad input or usage, known before fitting
whenever it can be (message on stderr, no traceback); 3 an internal error (one paragraph on
stderr and the full traceback in a log file).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path

from bayes_igf1.constants import CI_KIND, CI_PROB, DEFAULT_SEED
from bayes_igf1.errors import BayesIGF1Error

EXIT_OK, EXIT_FAILED_DIAGNOSTICS, EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR = 0, 1, 2, 3

EXIT_CODES = """\
exit codes:
  0  the analysis ran and passed its diagnostics gate
  1  it ran but failed the gate (the report is still written, marked FAILED)
  2  bad input or usage: a one-paragraph message with the fix, given before fitting whenever it
     can be known then (data, options, an --out that cannot be written, is in use by another
     run, or holds files bayes-igf1 did not write)
  3  internal error: one paragraph on stderr and the path of a log with the full traceback"""

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions as argparse does; text with line breaks of its own (the exit codes) is kept as is."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # usage errors: exit 2, one paragraph, no traceback
        self.print_usage(sys.stderr)
        print(f"bayes-igf1: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


class Progress:
    """Progress lines on stderr (silenced by --quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:6.1f} s] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------- options


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="the lab sheet: .csv, .tsv, .txt or .xlsx")
    p.add_argument("--sheet", default=None, help="Excel sheet name or position (from 0); default the first")
    p.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="analyse only rows where COLUMN equals VALUE (repeatable; the same column "
                        "repeated means OR, different columns AND), e.g. --where Group=Stress")
    g = p.add_argument_group("numbers")
    g.add_argument("--decimal", default=None, metavar="SEP",
                   help="decimal separator of the sheet's numbers: . or , (12,5 = 12.5); default a point")
    g.add_argument("--thousands", default=None, metavar="SEP",
                   help="thousands separator: . , ' or a space (--thousands . reads 1.810 as 1810); default none")


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("fitting and reporting")
    g.add_argument("--out", default="results",
                   help="folder for the report (default: results); written whole into a temporary folder "
                        "beside it, then put in place. A folder holding files bayes-igf1 did not write is "
                        "refused (see --force); a run already writing into it makes this one stop (exit 2)")
    g.add_argument("--force", action="store_true",
                   help="replace --out even when it holds files bayes-igf1 did not write (they are deleted)")
    g.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    g.add_argument("--draws", type=int, default=1000, help="posterior draws per chain (default 1000)")
    g.add_argument("--tune", type=int, default=1000, help="tuning steps per chain (default 1000)")
    g.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    g.add_argument("--ci", type=float, default=CI_PROB, help=f"interval probability (default {CI_PROB})")
    g.add_argument("--ci-kind", choices=["hdi", "eti"], default=CI_KIND, help="HDI (default) or equal-tailed")
    g.add_argument("--rope", type=float, default=None,
                   help="half-width of the region of practical equivalence of the effects, on their "
                        "reporting scale (percent change on the log scale; units otherwise)")
    g.add_argument("--prior-scale", type=float, default=1.0,
                   help="multiply every prior scale by this factor (sensitivity analysis; default 1)")
    g.add_argument("--no-retry", action="store_true",
                   help="do not refit automatically when the diagnostics gate fails (a failed fit is "
                        "still reported as FAILED)")
    g.add_argument("--prior-sensitivity", action="store_true",
                   help="also refit with every prior scale halved and doubled; the report shows the "
                        "headline estimands under each (two more fits)")
    g.add_argument("--compare", action="store_true",
                   help="also fit the alternative likelihood (normal vs Student-t) and compare the two "
                        "by PSIS-LOO with stacking weights (one more fit)")
    g.add_argument("--quiet", action="store_true", help="no progress output")



def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; a design's sub-command gets its options only when ``command`` is that design or None
    (every design: imports them all), so that ``bayes-igf1 --help`` and the other commands stay quick."""
    from bayes_igf1.designs.base import DESIGNS, get_design

    parser = _Parser(
        prog="bayes-igf1",
        description="Hierarchical Bayesian analysis of preclinical pharmacology studies beside the "
                    "frequentist ANOVA (time course of an analyte; treatment x antibody designs).",
        epilog=EXIT_CODES,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("inspect", help="read and validate a sheet; print the row ledger and the design",
                       description="Read and validate a sheet, print the row ledger (every row: used or "
                                   "excluded with its reason) and the design. Give the time-course "
                                   "columns (--animal --group --time --value) or the factorial ones "
                                   "(--outcome --factor --factor [--animal]).")
    _add_data_options(p)
    g = p.add_argument_group("columns (time course or factorial)")
    g.add_argument("--animal", default=None, help="column with the animal ID")
    g.add_argument("--group", default=None, help="time course: column with the treatment group")
    g.add_argument("--time", default=None, help="time course: column with the sampling time")
    g.add_argument("--value", default=None, help="time course: column with the measured value")
    g.add_argument("--layout", choices=["long", "wide-time", "wide-group"], default="long",
                   help="time course sheet layout (see 'timecourse --help')")
    g.add_argument("--lloq", type=float, default=None, help="time course: assay limit for '<LLOQ' cells")
    g.add_argument("--time-unit", default=None, metavar="UNIT",
                   help="time course: unit of the times (h, min, day, week); default: read from the values")
    g.add_argument("--outcome", default=None, help="factorial: column with the outcome")
    g.add_argument("--factor", action="append", default=[], dest="factors", metavar="COLUMN",
                   help="factorial: a factor column (repeatable)")
    g.add_argument("--cohort", default=None, help="factorial: cohort column")
    g.add_argument("--censored", default=None, metavar="COLUMN",
                   help="factorial: column flagging right-censored values (1 = censored)")
    g.add_argument("--event", default=None, metavar="COLUMN",
                   help="factorial: event column (1 = the event happened, 0 = censored)")
    g.add_argument("--censor-at", type=float, default=None, help="factorial: censoring cut-off")
    p.add_argument("--json", action="store_true", help="print the results.json 'data' block as JSON on stdout")

    designs = [name for name in DESIGNS if command in (None, name)]
    for name, entry in DESIGNS.items():
        if name not in designs:  # listed in --help without importing the design (PyMC)
            sub.add_parser(name, help=entry.help)
            continue
        design = get_design(name)
        p = sub.add_parser(name, help=entry.help, description=design.description, epilog=EXIT_CODES)
        _add_data_options(p)
        design.add_arguments(p)
        _add_fit_options(p)

    p = sub.add_parser("reproduce", epilog=EXIT_CODES, help="every analysis of the study on the shipped data",
                       description="Run every analysis of the study on the shipped (simulated) data, "
                                   "each into its own sub-folder, and write index.html.")
    p.add_argument("--out", default="results",
                   help="folder for the results (default: results); written whole, as for an analysis")
    p.add_argument("--force", action="store_true",
                   help="replace --out even when it holds files bayes-igf1 did not write (they are deleted)")
    p.add_argument("--data-dir", default=str(DATA_DIR), help="folder with the shipped data")
    p.add_argument("--only", action="append", default=[], metavar="KEY",
                   help="run only this analysis (repeatable): timecourse, fst_nab, battery_fst, battery_fust, "
                        "battery_nsft, battery_joint, bdnf_x_igf1nab, igf1_x_bdnfnab")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--draws", type=int, default=1000, help="posterior draws per chain (default 1000)")
    p.add_argument("--tune", type=int, default=1000, help="tuning steps per chain (default 1000)")
    p.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p = sub.add_parser("report", epilog=EXIT_CODES,
                       help="write a report folder again from its results.json and posterior.nc (no refit)",
                       description="Rebuild the analysis of a report folder from its results.json and "
                                   "posterior.nc and write the report again (report.md / .html, tables, "
                                   "figures, results.json, posterior.nc) without refitting: seconds, e.g. "
                                   "after an update of bayes-igf1's wording. Figures are drawn when the "
                                   "folder has them. Exit 0 or 1 as the analysis passed or failed its "
                                   "diagnostics gate (the report says FAILED).")
    p.add_argument("folder", metavar="FOLDER", help="a report folder (the --out of 'bayes-igf1 timecourse' / 'factorial')")
    p.add_argument("--out", default=None,
                   help="folder for the new report (default: FOLDER itself, replaced whole); as for an analysis, "
                        "a folder holding files bayes-igf1 did not write is refused (see --force)")
    p.add_argument("--force", action="store_true",
                   help="replace --out even when it holds files bayes-igf1 did not write (they are deleted)")
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = sub.add_parser("calibrate", help="simulation-based calibration of a design as shipped (slow)",
                       description="Simulation-based calibration (Talts et al. 2018): draw parameters "
                                   "from the (frozen) priors the shipped data give, simulate a study-sized "
                                   "data set, refit the compiled model, and record the rank of each true "
                                   "value; writes rank histograms, uniformity tests and interval coverage.")
    p.add_argument("design", choices=sorted(DESIGNS), help="which design to calibrate")
    p.add_argument("--shape", default=None, metavar="LEVELSxLEVELS[w]...",
                   help="factorial: calibrate a synthetic design of this shape instead of the shipped study: the "
                        "levels of each factor, 'w' for a factor within animals (animal intercept), e.g. 2x2x2 "
                        "or 2x3w")
    p.add_argument("--n-per-cell", type=int, default=None, metavar="N",
                   help="with --shape: animals per between-animal cell (default 8)")
    p.add_argument("--sims", type=int, default=200, help="simulated data sets (default 200)")
    p.add_argument("--out", default="calibration", help="output folder (default: calibration)")
    p.add_argument("--data-dir", default=str(DATA_DIR), help="folder with the shipped data")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--draws", type=int, default=500, help="posterior draws per chain and fit (default 500)")
    p.add_argument("--tune", type=int, default=500, help="tuning steps per chain and fit (default 500)")
    p.add_argument("--chains", type=int, default=max(2, os.cpu_count() or 2),
                   help="chains per fit, one per core (default: the number of cores, at least 2)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p = sub.add_parser("plan", help="Bayesian assurance of the next experiment: animals per group by simulation",
                       description="Bayesian assurance of the next experiment. Draw the parameters from the "
                                   "posterior of a fitted results folder (--from) or state the effects you "
                                   "expect; simulate --sims data sets for each candidate --n per group, fit "
                                   "each (one compilation per n and worker) and report how often each decision "
                                   "rule is met, with the power of the matching ANOVA on the same data. "
                                   "Writes plan.csv, plan.json and assurance.png/.svg. Exit 1 when more than "
                                   "5% of the planning fits failed the diagnostics gate.")
    p.add_argument("design", choices=["timecourse", "factorial"], help="which design to plan")
    g = p.add_argument_group("design prior: a results folder, or the effects you expect")
    g.add_argument("--from", dest="source", default=None, metavar="RESULTS_DIR",
                   help="the --out folder of a 'bayes-igf1 factorial' / 'timecourse' run (posterior.nc, results.json)")
    g.add_argument("--cell-means", action="append", default=None, metavar="A|B=MEAN,...",
                   help='factorial: every cell mean, references first, one level of each factor (--factor ..., then '
                        '--within ...) joined by "|", e.g. "saline|IgG=150,ketamine|IgG=90,saline|IGF-1 nAb=150,'
                        'ketamine|IGF-1 nAb=145"; "female|saline|IgG=150,..." for three factors; repeatable')
    g.add_argument("--sd", type=float, default=None, help="factorial: residual SD (log scale for --family lognormal)")
    g.add_argument("--family", choices=["normal", "lognormal"], default="normal",
                   help="factorial: outcome distribution (default normal; cell means are medians for lognormal)")
    g.add_argument("--factor", action="append", default=[], dest="factors", metavar="NAME",
                   help="factorial: between-animal factor names, once per factor in the order of the cell means' "
                        "levels (default: --factor treatment --factor antibody)")
    g.add_argument("--within", action="append", default=[], metavar="NAME",
                   help="factorial: a factor within animals (each animal at every level; animal intercept, SD "
                        "--animal-intercept-sd), after the --factor levels in the cell means; repeatable")
    g.add_argument("--animal-intercept-sd", type=float, default=None, metavar="SD",
                   help="factorial with --within: SD of the animal intercepts (outcome units; log scale for lognormal)")
    g.add_argument("--blocker", default=None, metavar="NAME",
                   help="factorial: the factor that blocks the treatment's effect (the %% blockade rule; default the "
                        "last factor)")
    g.add_argument("--treated", default=None, metavar="NAME",
                   help="factorial: the factor whose effect the blocker abolishes (default: the first factor other "
                        "than the blocker), e.g. --treated treatment with --factor sex --factor treatment")
    g.add_argument("--pct-change", action="append", default=None, metavar="GROUP=PCT[,PCT...]",
                   help="time course: %% change vs the reference of a group, one number (sustained) or one per "
                        "post-injection time; repeatable, e.g. --pct-change 'ketamine 10=30'")
    g.add_argument("--groups", nargs="+", default=None, metavar="GROUP",
                   help="time course: the groups, reference first (default: saline and the --pct-change groups)")
    g.add_argument("--times", nargs="+", type=float, default=None, metavar="T",
                   help="time course: sampling times, baseline <= 0 (default -2 -1 1 2 3 4 5 6)")
    g.add_argument("--animal-sd", type=float, default=None, help="time course: SD of the animal levels (log scale, e.g. 0.3)")
    g.add_argument("--residual-sd", type=float, default=None, help="time course: residual SD (log scale, e.g. 0.15)")
    g.add_argument("--baseline-level", type=float, default=20.0, help="time course: median baseline (default 20)")
    g.add_argument("--nu", type=float, default=None,
                   help="time course: Student-t df of the simulated residuals (default: normal residuals)")
    g = p.add_argument_group("simulation")
    g.add_argument("--n", nargs="+", type=int, required=True, metavar="N",
                   help="candidate animals per group (per cell), e.g. --n 6 8 10 12")
    g.add_argument("--sims", type=int, default=200, help="simulated data sets per n (default 200)")
    g.add_argument("--draws", type=int, default=None,
                   help="posterior draws per chain and fit (default 1000 factorial, 2000 time course)")
    g.add_argument("--tune", type=int, default=500, help="tuning steps per chain and fit (default 500)")
    g.add_argument("--chains", type=int, default=2, help="chains per fit (default 2)")
    g.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    g.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: the number of cores); 1 runs in this process")
    g.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run the simulations on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    g.add_argument("--frequentist-only", action="store_true", help="only the ANOVA power (no Bayesian fits; quick)")
    g.add_argument("--out", default="plan", help="output folder (default: plan)")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


# ------------------------------------------------------------------------ commands


def cmd_inspect(args: argparse.Namespace) -> int:
    from bayes_igf1.io import read_factorial, read_timecourse

    if args.outcome or args.factors:
        if not args.outcome or len(args.factors) < 2:
            raise BayesIGF1Error("A factorial sheet needs --outcome and two --factor columns.")
        sheet = read_factorial(args.data, outcome=args.outcome, factors=args.factors, animal=args.animal,
                               cohort=args.cohort, censored=args.censored, event=args.event,
                               censor_at=args.censor_at, sheet=args.sheet, where=args.where,
                               decimal=args.decimal, thousands=args.thousands)
    elif args.group or args.time or args.value:
        missing = [o for o in ("animal", "group", "time", "value") if getattr(args, o) is None]
        if missing:
            raise BayesIGF1Error(f"A time-course sheet needs --{' --'.join(missing)} as well.")
        sheet = read_timecourse(args.data, animal=args.animal, group=args.group, time=args.time,
                                value=args.value, sheet=args.sheet, where=args.where, lloq=args.lloq,
                                layout=args.layout, time_unit=args.time_unit, decimal=args.decimal,
                                thousands=args.thousands)
    else:
        raise BayesIGF1Error(
            "Say which columns to read: --animal --group --time --value for a time course, or "
            "--outcome --factor A --factor B for a factorial design."
        )
    if args.json:
        _stdout(json.dumps(sheet.data_block(), indent=2))
        return EXIT_OK
    _stdout(sheet.ledger.to_text() + "\n\n" + _design_text(sheet))
    return EXIT_OK


def _design_text(sheet) -> str:
    s = sheet.summary()
    lines = [f"Design: {s['design']}, {s['n_animals']} animals, {s['n_observations']} observations"]
    lines.append("n per " + ("cell" if len(sheet.factors) > 1 else "group") + ": "
                 + ", ".join(f"{k}: {v}" for k, v in s["n_per_group"].items()))
    if "times" in s:
        unit = s.get("time_unit") or ""
        lines.append("times: " + ", ".join(f"{t:g}" for t in s["times"]) + (f" {unit}" if unit else ""))
    lines.append(f"censored values: {s['n_censored']}" + (f" ({s['censoring']})" if s["censoring"] else ""))
    for name, level in s["reference_level"].items():
        lines.append(f"reference {name} = {level}: {s['reference_rule'].get(name, '')}")
    if sheet.animal_ids_made_up:
        lines.append("no animal column: each row is taken as one animal (IDs made up)")
    lines += [f"note: {n}" for n in s["notes"]]
    return "\n".join(lines)


def _check_options(args: argparse.Namespace) -> None:
    """Numeric options out of range: exit 2 before anything is read, the message naming the option."""
    def fail(option: str, value, rule: str, fix: str) -> None:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        raise BayesIGF1Error(f"{option} {shown}: {option} must be {rule}. Fix: {fix}.")

    draws, tune, chains, seed = (getattr(args, k, None) for k in ("draws", "tune", "chains", "seed"))
    if draws is not None and draws < 10:
        fail("--draws", draws, "at least 10 (posterior draws per chain)",
             "--draws 1000 (the default), or --draws 200 for a quick look")
    if tune is not None and tune < 0:
        fail("--tune", tune, "0 or more (tuning steps per chain)", "--tune 1000 (the default)")
    if chains is not None and chains < 2:  # one chain has no R-hat: the diagnostics gate compares chains
        fail("--chains", chains, "at least 2 (the diagnostics gate's R-hat compares the chains)",
             "--chains 4 (the default for an analysis; one per core runs fastest), or --chains 2 for a quick look")
    if seed is not None and not 0 <= seed < 2**63:
        fail("--seed", seed, "a whole number from 0 to 2^63 - 1", f"--seed {DEFAULT_SEED} (the default) or any "
             "other non-negative number")
    ci = getattr(args, "ci", None)
    if ci is not None and not (math.isfinite(ci) and 0 < ci < 1):
        fix = (f"--ci {ci / 100:g} (a probability, not a percentage)" if 1 < ci < 100
               else "--ci 0.95 (the default), or e.g. --ci 0.9")
        fail("--ci", ci, "a probability between 0 and 1 (the interval's probability)", fix)
    rope = getattr(args, "rope", None)
    if rope is not None and not (math.isfinite(rope) and rope > 0):
        fail("--rope", rope, "a positive number (the half-width of the region of practical equivalence, on the "
             "effects' reporting scale)", "e.g. --rope 10 (±10% on the log scale), or leave --rope out (no ROPE)")
    scale = getattr(args, "prior_scale", None)
    if scale is not None and not (math.isfinite(scale) and scale > 0):
        fail("--prior-scale", scale, "a positive number (it multiplies every prior scale)",
             "--prior-scale 1 (the default), or 0.5 and 2 to see how much the priors matter")


@contextlib.contextmanager
def _claim_out(args: argparse.Namespace):
    """Before fitting: --out must be writable, not in use by another run and hold only bayes-igf1's files
    (unless --force); its lock is held until the report is in place, so a second run is refused at once."""
    from bayes_igf1.report.writer import CLI_NAMES, check_output_folder, output_lock

    with output_lock(args.out, names=CLI_NAMES):
        check_output_folder(args.out, force=args.force, names=CLI_NAMES)
        yield Path(args.out)


def _fit_kwargs(args: argparse.Namespace) -> dict:
    return dict(rope=args.rope, ci_prob=args.ci, ci_kind=args.ci_kind, prior_scale=args.prior_scale,
                draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed, progress=not args.quiet,
                retry=not args.no_retry)


def cmd_analysis(args: argparse.Namespace) -> int:
    """A design's sub-command: its options (``options_from_args``), the data and fitting options, one fit
    (plus the refits of --prior-sensitivity / --compare), the report."""
    from bayes_igf1.designs.base import get_design

    design = get_design(args.command)
    options = design.options_from_args(args)
    alternatives = design.compare_alternatives(args) if args.compare else {}
    say = Progress(args.quiet)

    def run(**change):
        kw = {"sheet": args.sheet, "where": args.where, "decimal": args.decimal, "thousands": args.thousands,
              **_fit_kwargs(args), **options, **change}
        if change:
            kw.update(design.refit_options)
        return design.analyse(args.data, **kw)

    with _claim_out(args) as out:
        say(f"Reading {args.data} and fitting the {design.name} model (nutpie; compiling takes a few seconds)")
        result = run()
        result = _extra_checks(result, run, args, alternatives, say)
        return _finish(result, out, say, force=args.force)


def _extra_checks(result, run, args: argparse.Namespace, alternatives: dict, say: Progress):
    """Optional refits: prior scales x0.5 and x2 (--prior-sensitivity); each alternative
    model, one option changed at a time, compared by PSIS-LOO (--compare)."""
    from dataclasses import replace

    from bayes_igf1 import checks

    extra = dict(result.checks)
    if args.prior_sensitivity:
        fits = {1.0: result}
        for mult in (0.5, 2.0):
            say(f"Refitting with every prior scale x{mult:g} (--prior-sensitivity)")
            fits[mult] = run(prior_scale=args.prior_scale * mult)
        extra["prior_scale"] = checks.prior_scale_table(fits)
    if args.compare:
        def label(key, value):
            return f"{key}={value}" if not isinstance(value, bool) else (key if value else f"no {key}")

        default = ", ".join(label(k, getattr(args, k)) for k in alternatives)
        trees = {f"as fitted ({default})": result.tree}
        for key, value in alternatives.items():
            if value is None:
                continue  # e.g. a lognormal outcome: no alternative family here
            say(f"Fitting the alternative {label(key, value)} (--compare)")
            trees[label(key, value)] = run(**{key: value}).tree
        if len(trees) < 2:
            raise BayesIGF1Error("--compare has no alternative model for these options; use it with "
                                 "--family normal or student.")
        extra["model_comparison"] = checks.compare_models(trees, var_names=("y", "y_below_limit", "y_censored"))
    return replace(result, checks=extra)


def _finish(result, out: Path, say: Progress, *, force: bool) -> int:
    from bayes_igf1.report.writer import write_report

    say("Writing the report")
    files = write_report(result, out, force=force)
    d = result.diagnostics
    status = "passed" if d.passed else "FAILED: " + "; ".join(d.problems)
    say(f"Diagnostics {status} (max R-hat {d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}, "
        f"min tail ESS {d.min_ess_tail:.0f}, {d.divergences} divergences)")
    if not say.quiet:
        print(f"Report: {files.get('report.html', out / 'report.html')}", file=sys.stderr)
    return EXIT_OK if d.passed else EXIT_FAILED_DIAGNOSTICS


def cmd_reproduce(args: argparse.Namespace) -> int:
    from bayes_igf1.report.writer import CLI_NAMES, output_folder
    from bayes_igf1.reproduce import reproduce

    say = Progress(args.quiet)
    # The whole results folder (every analysis and index.html) is written into a temporary
    # sibling and put in place at the end, like one report.
    with output_folder(args.out, force=args.force, kind="reproduce", names=CLI_NAMES) as tmp:
        summary = reproduce(tmp, data_dir=Path(args.data_dir), seed=args.seed, draws=args.draws,
                            tune=args.tune, chains=args.chains, only=args.only, progress=say)
    say(f"Done in {time.perf_counter() - say.start:.0f} s. Open {Path(args.out) / 'index.html'}")
    return EXIT_OK if all(a["passed"] for a in summary["analyses"]) else EXIT_FAILED_DIAGNOSTICS


def cmd_report(args: argparse.Namespace) -> int:
    from bayes_igf1.report.writer import CLI_NAMES, check_output_folder, output_lock, write_report
    from bayes_igf1.results import load_result

    say = Progress(args.quiet)
    source = Path(args.folder).expanduser().absolute()
    if args.out is None:
        args.out = args.folder
    target = Path(args.out).expanduser().absolute()
    if target != source and target in source.parents:
        raise BayesIGF1Error(f"--out {args.out!r} holds the report folder {args.folder!r}; a report replaces its "
                             f"folder whole, so the source would be deleted. Fix: leave --out out (the report is "
                             f"rewritten in place) or give a folder outside it, e.g. --out "
                             f"{str(args.folder).rstrip('/')}-2.")
    with output_lock(args.out, names=CLI_NAMES):
        check_output_folder(args.out, force=args.force, names=CLI_NAMES)
        say(f"Reading {args.folder} (results.json, posterior.nc)")
        result = load_result(args.folder)
        figures = any((source / "figures").glob("*.png"))  # as the report had them
        say("Writing the report" + ("" if figures else " (without figures, as it was)"))
        files = write_report(result, args.out, force=args.force, figures=figures)
    d = result.diagnostics
    say("Diagnostics " + ("passed" if d.passed else "FAILED: " + "; ".join(d.problems)))
    if not say.quiet:
        print(f"Report: {files.get('report.html', target / 'report.html')}", file=sys.stderr)
    return EXIT_OK if d.passed else EXIT_FAILED_DIAGNOSTICS


def cmd_calibrate(args: argparse.Namespace) -> int:
    import inspect

    from bayes_igf1 import calibrate
    from bayes_igf1.designs.base import get_design
    from bayes_igf1.report.writer import CLI_NAMES, check_output_path
    from bayes_igf1.sampling import SamplerSettings

    check_output_path(args.out, names=CLI_NAMES)
    say = Progress(args.quiet)
    if args.sims < 10:
        raise BayesIGF1Error(f"--sims {args.sims} is too few to judge calibration; use at least 10 (200 for a record).")
    design = get_design(args.design)
    if args.n_per_cell is not None and args.shape is None:
        raise BayesIGF1Error("--n-per-cell sets the size of a synthetic --shape. Fix: add --shape (e.g. 2x2x2), or "
                             "leave out --n-per-cell to calibrate the shipped study.")
    if args.n_per_cell is not None and args.n_per_cell < 2:
        raise BayesIGF1Error(f"--n-per-cell {args.n_per_cell}: every cell needs at least 2 animals. Fix: e.g. 8.")
    if args.shape is None:
        model, params, _ = design.calibration_model(Path(args.data_dir))
    elif "shape" in inspect.signature(design.calibration_model).parameters:
        model, params, _ = design.calibration_model(Path(args.data_dir), shape=args.shape, n_per_cell=args.n_per_cell)
    else:
        raise BayesIGF1Error(f"the {args.design} design calibrates its shipped study only (no --shape). Fix: leave "
                             "out --shape.")
    what = f"{args.design} design" + (f" (shape {args.shape})" if args.shape else "")
    say(f"Calibrating the {what}: {args.sims} simulated data sets (compiling once)")
    every = max(1, args.sims // 20)

    def tick(done: int, total: int, seconds: float) -> None:
        if done % every == 0 or done == total:
            eta = seconds / done * (total - done)
            say(f"  {done}/{total} fits, ETA {eta:.0f} s")

    cal = calibrate.run_sbc(model, design=args.design, parameters=params, n_sims=args.sims,
                            settings=SamplerSettings(draws=args.draws, tune=args.tune, chains=args.chains,
                                                     seed=args.seed), progress=tick, shape=args.shape)
    summary = calibrate.write_calibration(cal, Path(args.out))
    cov = ", ".join(f"{k}: {v['mean']:.3f}" for k, v in summary["coverage"].items())
    say(f"Uniformity: min p {summary['min_uniformity_p']:.3f}, {summary['n_uniformity_p_below_0.01']} of "
        f"{summary['n_parameters']} parameters with p < 0.01; mean coverage {cov}. See {args.out}/")
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from bayes_igf1 import plan
    from bayes_igf1.designs.base import DESIGNS, get_design
    from bayes_igf1.report.writer import CLI_NAMES, check_output_path

    check_output_path(args.out, names=CLI_NAMES)
    design = get_design(args.design)
    # options of the other designs that were given
    wrong = [flag for other in map(get_design, DESIGNS) for flag, dest in other.plan_options
             if (flag, dest) not in design.plan_options and getattr(args, dest)]
    if wrong:
        raise BayesIGF1Error(f"{', '.join(wrong)} belong to the other design, not to 'plan {args.design}'. Fix: "
                             f"see 'bayes-igf1 plan --help'.")
    say = Progress(args.quiet)
    every, last = max(1, args.sims * len(args.n) // 20), [0]

    def tick(done: int, total: int, seconds: float) -> None:
        if done - last[0] >= every or done == total:
            last[0] = done
            say(f"  {done}/{total} simulated data sets, ETA {seconds / done * (total - done):.0f} s")

    draws = args.draws if args.draws is not None else plan.PLAN_DRAWS[args.design]
    where = f"Dask at {args.dask}" if args.dask else f"{args.workers} worker process(es)"
    say(f"Planning the {args.design} design: {args.sims} simulated data sets x n = {', '.join(map(str, args.n))}; "
        f"each fit {args.chains} chains x {draws} draws ({args.tune} tuning); {where}")
    common = {"n": args.n, "sims": args.sims, "draws": draws, "tune": args.tune, "chains": args.chains,
              "seed": args.seed, "workers": args.workers, "dask": args.dask,
              "bayesian": not args.frequentist_only, "progress": tick}
    result = design.plan_from_args(args, **common)
    files = plan.write_plan(result, Path(args.out))
    _stdout(plan.format_table(result))
    for note in result.notes:
        say(note)
    say(f"Done in {result.seconds:.0f} s. Wrote {', '.join(sorted(files))} to {args.out}/")
    return EXIT_FAILED_DIAGNOSTICS if result.failed_fraction > plan.FAILED_GATE_EXIT_FRACTION else EXIT_OK


COMMANDS = {"inspect": cmd_inspect, "reproduce": cmd_reproduce, "report": cmd_report, "calibrate": cmd_calibrate,
            "plan": cmd_plan}  # and every registered design: cmd_analysis


def _quiet_libraries(command: str) -> None:
    """Progress is ours to print: silence the libraries' own chatter (not their errors)."""
    if command != "inspect":
        import pymc  # noqa: F401  (PyMC sets its logger's level on import: set ours after it)
    logging.getLogger("pymc").setLevel(logging.ERROR)
    logging.getLogger("arviz_stats").setLevel(logging.ERROR)  # psense advice: its findings are in the report
    logging.getLogger("pytensor").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="pymc")
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="arviz_stats")


_PACKAGE_DIR = Path(__file__).resolve().parent


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """The package's own warnings (e.g. most rows censored) as one line; others as Python shows them."""
    try:
        ours = Path(filename).resolve().is_relative_to(_PACKAGE_DIR)
    except (OSError, ValueError):
        ours = False
    if ours:
        print(f"bayes-igf1: warning: {message}", file=file or sys.stderr, flush=True)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line), file=file or sys.stderr, end="")


class _StdoutClosed(Exception):
    """Whoever read our standard output stopped reading (``bayes-igf1 inspect ... | head -1``)."""


def _stdout(text: str) -> None:
    try:
        print(text, flush=True)
    except BrokenPipeError as err:
        raise _StdoutClosed from err


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail on the closed pipe."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _error_log(argv: Sequence[str], args: argparse.Namespace | None) -> Path | None:
    """Write the traceback being handled to ``bayes-igf1-error-<timestamp>.log`` in the output folder's
    parent, or in the system's temporary folder when that cannot be written; None when neither can."""
    from bayes_igf1 import __version__

    text = (f"bayes-igf1 {__version__}, Python {sys.version.split()[0]} on {sys.platform}\n"
            f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"
            f"command: bayes-igf1 {' '.join(argv)}\n"
            f"working folder: {os.getcwd()}\n\n{traceback.format_exc()}")
    places = []
    if args is not None and getattr(args, "out", None):
        places.append(Path(args.out).expanduser().absolute().parent)
    places.append(Path(tempfile.gettempdir()))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for place in places:
        for name in (f"bayes-igf1-error-{stamp}.log", f"bayes-igf1-error-{stamp}-{os.getpid()}.log"):
            try:
                with open(place / name, "x", encoding="utf-8") as fh:
                    fh.write(text)
                return place / name
            except FileExistsError:
                continue
            except OSError:
                break
    return None


def _internal_error(err: BaseException, argv: Sequence[str], args: argparse.Namespace | None) -> int:
    log = _error_log(argv, args)
    command = getattr(args, "command", None) or "bayes-igf1"
    message = " ".join(str(err).split())
    if len(message) > 400:
        message = message[:400] + " ..."
    where = (f"The full traceback is in {log}; please attach that file when you report the problem."
             if log else "The full traceback could not be written to a file (no writable folder).")
    print(f"bayes-igf1: internal error: the '{command}' command failed with {type(err).__name__}"
          f"{': ' + message if message else ''}. This is a fault in bayes-igf1 (or a problem it does not yet "
          f"explain), not a failed diagnostic (exit 1) or input it recognised as bad (exit 2). {where}",
          file=sys.stderr, flush=True)
    if log is None:
        traceback.print_exc()
    return EXIT_INTERNAL_ERROR


def _design_names() -> list[str]:
    from bayes_igf1.designs.base import DESIGNS

    return list(DESIGNS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (0 passed, 1 failed the gate, 2 bad input, 3 internal error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    try:
        try:
            command = next((a for a in argv if not a.startswith("-")), None)
            args = build_parser(command if command in _design_names() else "").parse_args(argv)
        except BrokenPipeError as err:  # --help into a closed pipe
            raise _StdoutClosed from err
        _check_options(args)
        _quiet_libraries(args.command)
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            code = COMMANDS.get(args.command, cmd_analysis)(args)
        try:
            sys.stdout.flush()
        except BrokenPipeError as err:
            raise _StdoutClosed from err
        return code
    except _StdoutClosed:
        _silence_stdout()
        return EXIT_OK
    except BayesIGF1Error as err:
        print(f"bayes-igf1: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (FileNotFoundError, PermissionError, IsADirectoryError) as err:
        print(f"bayes-igf1: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("bayes-igf1: interrupted.", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - any other exception is a fault of the package: exit 3
        return _internal_error(err, argv, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
