"""`bayes-igf1 reproduce`: every analysis of the study on the shipped data, and an index.

Each analysis goes into its own sub-folder (a full report); ``index.html`` links them and
sets each headline finding beside the paper's claim.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bayes_igf1.report.format import bf_category, fmt_bf, fmt_interval, fmt_num
from bayes_igf1.results import blockade_base


@dataclass(frozen=True)
class Analysis:
    """One analysis of the study: which file, which design, which options, which claim."""

    key: str
    title: str
    design: str
    file: str
    options: dict
    claim: str


STUDY = (
    Analysis("timecourse", "Fig. 1: extracellular IGF-1 in mPFC dialysate", "timecourse", "microdialysis_igf1.csv",
             dict(animal="mouse", group="treatment", time="hour", value="igf1_pg_ml", lloq=8.0, time_unit="h"),
             "Ketamine raises extracellular IGF-1 for at least 5 h, more at 30 mg/kg."),
    Analysis("fst_nab", "Fig. 2: forced swim test, ketamine x IGF-1 nAb", "factorial", "fst_igf1_nab.csv",
             dict(outcome="immobility_s", factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                  blocker="antibody"),
             "The IGF-1 nAb blocks ketamine's effect on FST immobility."),
    Analysis("battery_fst", "Battery day 1: forced swim test immobility", "factorial", "behaviour_battery.csv",
             dict(outcome="fst_immobility_s", factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                  blocker="antibody"),
             "The IGF-1 nAb blocks ketamine's effect on FST immobility."),
    Analysis("battery_fust", "Battery day 3: female urine sniffing time", "factorial", "behaviour_battery.csv",
             dict(outcome="fust_sniffing_s", factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                  blocker="antibody"),
             "The IGF-1 nAb blocks ketamine's effect on female urine sniffing."),
    Analysis("battery_nsft", "Battery day 4: novelty-suppressed feeding latency (600 s cut-off)", "factorial",
             "behaviour_battery.csv",
             dict(outcome="nsft_latency_s", factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                  censored="nsft_censored", family="lognormal", blocker="antibody"),
             "The IGF-1 nAb blocks ketamine's effect on feeding latency."),
    Analysis("bdnf_x_igf1nab", "Control: intra-mPFC BDNF x IGF-1 nAb", "factorial", "bdnf_igf1_crossover.csv",
             dict(outcome="immobility_s", factors=["infusion", "antibody"], animal="mouse", blocker="antibody",
                  where=["experiment=BDNF x IGF-1 nAb"]),
             "BDNF acts, and the IGF-1 nAb does not block it."),
    Analysis("igf1_x_bdnfnab", "Control: intra-mPFC IGF-1 x BDNF nAb", "factorial", "bdnf_igf1_crossover.csv",
             dict(outcome="immobility_s", factors=["infusion", "antibody"], animal="mouse", blocker="antibody",
                  where=["experiment=IGF-1 x BDNF nAb"]),
             "IGF-1 acts, and the BDNF nAb does not block it."),
)


def run_analysis(analysis: Analysis, data_dir: Path, *, seed: int, draws: int, tune: int, chains: int):
    """Fit one analysis of the study; returns its AnalysisResult."""
    source = data_dir / analysis.file
    common = dict(seed=seed, draws=draws, tune=tune, chains=chains)
    if analysis.design == "timecourse":
        from bayes_igf1.designs.timecourse import analyse_timecourse

        return analyse_timecourse(source, **analysis.options, **common)
    from bayes_igf1.designs.factorial import analyse_factorial

    return analyse_factorial(source, **analysis.options, **common)


def finding(analysis: Analysis, result) -> str:
    """The headline finding of one analysis, in one sentence, from its estimates."""
    e = result.estimates
    if analysis.design == "timecourse":
        eff = e[e["name"] == "effect_vs_reference"]
        unit = f" {result.sheet.time_unit}" if result.sheet.time_unit else ""  # the sheet's unit, none if unknown
        parts = []
        for g, rows in eff.groupby("group", sort=False):
            up = rows[rows["prob_above"] > 0.95]["time"].to_numpy()
            times = _run_from_first(np.sort(rows["time"].to_numpy()), set(up))
            peak = rows.loc[rows["median"].idxmax()]
            parts.append(f"{g}: P(increase) > 0.95 from {times[0]:g} to {times[-1]:g}{unit}" if times
                         else f"{g}: no time with P(increase) > 0.95")
            parts[-1] += f"; largest +{fmt_num(peak['median'])}% at {peak['time']:g}{unit}"
        return "; ".join(parts) + "."
    unit = _unit(result)
    out = []
    for r in e[(e["name"] == "simple_effect") & e["headline"].astype(bool)].to_dict("records"):
        out.append(f"{r['label']}: {_est(r, unit)}")
    for r in e[e["name"] == "interaction"].to_dict("records"):
        out.append(f"interaction {_est(r, unit)}")
    for r in e[e["name"] == "blockade_pct"].to_dict("records"):
        base = blockade_base(e, r)
        if base is not None and not base["interpretable"]:
            out.append("blockade not stated (the effect under the reference level is not credibly non-zero)")
            continue
        out.append(f"blockade {fmt_num(r['median'])}% [{fmt_interval(r['ci_low'], r['ci_high'])}%], "
                   f"P(blockade > 50%) = {r['prob_above']:.2f}")  # for blockade_pct: P(blockade > 50%)
    bf = result.checks.get("bayes_factor")
    if bf is not None and len(bf):
        main = bf[bf["prior_multiplier"] == 1.0].iloc[0]
        spread = bf["BF10"]
        bf10 = fmt_bf(main["BF10"])
        out.append(f"BF10 (interaction) {bf10 if bf10[0] in '<>' else '= ' + bf10}, {bf_category(main['BF10'])}"
                   + (_bf_spread(fmt_bf(spread.min()), fmt_bf(spread.max())) if len(bf) > 1 else ""))
    return "; ".join(out) + "." if out else "see the report."


def _bf_spread(low: str, high: str) -> str:
    if low == high:
        return f" ({low} with the prior scale halved or doubled too)"
    return f" ({low} to {high} with the prior scale halved or doubled)"


def _unit(result) -> str:
    """" s" for outcomes in seconds (column ending in _s or '(s)'), else ""."""
    col = str(result.sheet.columns.get("value", ""))
    return " s" if col.endswith("_s") or col.endswith("(s)") else ""


def _est(r: dict, unit: str) -> str:
    if str(r["scale"]).startswith("ratio"):  # lognormal outcomes: ratios, not seconds
        unit = f" ({r['scale']})"
    return f"{fmt_num(r['median'])}{unit} [{fmt_interval(r['ci_low'], r['ci_high'])}]"


def _run_from_first(times: np.ndarray, hits: set) -> list[float]:
    """The times from the first post-injection time on, up to the first miss."""
    run = []
    for t in times:
        if t not in hits:
            break
        run.append(float(t))
    return run


def reproduce(out: Path, *, data_dir: Path, seed: int, draws: int, tune: int, chains: int,
              only: Sequence[str] = (), progress: Callable[[str], None] = lambda _: None) -> dict:
    """Run every analysis of the study (or those named in ``only``) into ``out/<key>/``; write ``out/index.html``."""
    from bayes_igf1.errors import BayesIGF1Error
    from bayes_igf1.report.writer import write_report

    keys = [a.key for a in STUDY]
    unknown = [k for k in only if k not in keys]
    if unknown:
        raise BayesIGF1Error(f"--only {', '.join(unknown)}: no such analysis. Fix: choose from {', '.join(keys)}.")
    study = [a for a in STUDY if not only or a.key in only]
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, analysis in enumerate(study, 1):
        progress(f"({i}/{len(study)}) {analysis.title}: fitting")
        start = time.perf_counter()
        result = run_analysis(analysis, data_dir, seed=seed, draws=draws, tune=tune, chains=chains)
        write_report(result, out / analysis.key)
        seconds = time.perf_counter() - start
        rows.append({
            "key": analysis.key, "title": analysis.title, "claim": analysis.claim,
            "finding": finding(analysis, result), "passed": result.passed,
            "problems": list(result.diagnostics.problems), "seconds": round(seconds, 1),
        })
        progress(f"({i}/{len(study)}) {analysis.title}: done in {seconds:.0f} s, diagnostics "
                 + ("passed" if result.passed else "FAILED"))
    summary = {"analyses": rows, "seed": seed, "draws": draws, "tune": tune, "chains": chains}
    (out / "index.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "index.html").write_text(_index_html(summary))
    return summary


def _index_html(summary: dict) -> str:
    rows = []
    for a in summary["analyses"]:
        status = "passed" if a["passed"] else "FAILED: " + "; ".join(a["problems"])
        rows.append(
            f"<tr><td><a href='{a['key']}/report.html'>{html.escape(a['title'])}</a></td>"
            f"<td>{html.escape(a['claim'])}</td><td>{html.escape(a['finding'])}</td>"
            f"<td class='{'ok' if a['passed'] else 'bad'}'>{html.escape(status)}</td></tr>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bayes-igf1: the study reproduced</title>
<style>body{{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ccc;padding:.5em;text-align:left;vertical-align:top}}
.ok{{color:#1a7f37}}.bad{{color:#b00020;font-weight:bold}}.note{{color:#555}}</style></head><body>
<h1>Deyama et al. 2022, reproduced on the shipped data</h1>
<p class="note">The shipped data are <b>simulated</b> with the study's design (see data/README.md); the
findings below test the package, not the study. Seed {summary['seed']}; {summary['chains']} chains x
{summary['draws']} draws after {summary['tune']} tuning steps.</p>
<table><tr><th>Analysis (report)</th><th>The paper's claim</th><th>What the posterior says</th><th>Diagnostics</th></tr>
{''.join(rows)}</table></body></html>
"""
