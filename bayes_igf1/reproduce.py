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

from bayes_igf1.designs.base import get_design


@dataclass(frozen=True)
class Analysis:
    """One analysis of the study: which file, which design, which options, which claim."""

    key: str
    title: str
    design: str
    file: str
    options: dict
    claim: str
    #: the kind of claim the design's `verdict` judges ("blocked", "not blocked", "raised")
    claim_kind: str = "blocked"


#: The ROPE of the no-effect claims (the control experiments), in seconds of immobility: small beside
#: the 50-80 s antidepressant-like effects of this study (stated in the index).
NO_EFFECT_ROPE_S = 20.0


STUDY = (
    Analysis("timecourse", "Fig. 1: extracellular IGF-1 in mPFC dialysate", "timecourse", "microdialysis_igf1.csv",
             dict(animal="mouse", group="treatment", time="hour", value="igf1_pg_ml", lloq=8.0, time_unit="h",
                  label="extracellular IGF-1", unit="pg/mL",
                  levels={"treatment": {"ketamine 10": "ketamine 10 mg/kg", "ketamine 30": "ketamine 30 mg/kg"}}),
             "Ketamine raises extracellular IGF-1 for at least 5 h, more at 30 mg/kg.", "raised"),
    Analysis("fst_nab", "Fig. 2: forced swim test, ketamine × IGF-1 nAb", "factorial", "fst_igf1_nab.csv",
             dict(outcome="immobility_s", factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                  blocker="antibody", label="immobility", unit="s"),
             "The IGF-1 nAb blocks ketamine's effect on FST immobility."),
    Analysis("battery_fst", "Battery day 1: forced swim test immobility", "factorial", "behaviour_battery.csv",
             dict(outcome="fst_immobility_s", factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                  blocker="antibody", label="immobility", unit="s"),
             "The IGF-1 nAb blocks ketamine's effect on FST immobility."),
    Analysis("battery_fust", "Battery day 3: female urine sniffing time", "factorial", "behaviour_battery.csv",
             dict(outcome="fust_sniffing_s", factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                  blocker="antibody", label="female urine sniffing time", unit="s"),
             "The IGF-1 nAb blocks ketamine's effect on female urine sniffing."),
    Analysis("battery_nsft", "Battery day 4: novelty-suppressed feeding latency (600 s cut-off)", "factorial",
             "behaviour_battery.csv",
             dict(outcome="nsft_latency_s", factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                  censored="nsft_censored", family="lognormal", blocker="antibody", label="latency to feed", unit="s"),
             "The IGF-1 nAb blocks ketamine's effect on feeding latency."),
    Analysis("battery_joint", "Battery, the three tests jointly: FST, FUST and NSFT of the same mice", "battery",
             "behaviour_battery.csv",
             dict(outcomes=["fst_immobility_s", "fust_sniffing_s", "nsft_latency_s"], factors=["treatment", "antibody"],
                  animal="mouse", cohort="cohort", censored={"nsft_latency_s": "nsft_censored"},
                  families={"nsft_latency_s": "lognormal"}, blocker="antibody",
                  labels={"fst_immobility_s": "FST immobility", "fust_sniffing_s": "FUST sniffing",
                          "nsft_latency_s": "NSFT latency"},
                  units={"fst_immobility_s": "s", "fust_sniffing_s": "s", "nsft_latency_s": "s"}),
             "The IGF-1 nAb blocks ketamine's effects on all three tests (FST, FUST and NSFT) in the same mice."),
    Analysis("bdnf_x_igf1nab", "Control: intra-mPFC BDNF × IGF-1 nAb", "factorial", "bdnf_igf1_crossover.csv",
             dict(outcome="immobility_s", factors=["infusion", "antibody"], animal="mouse", blocker="antibody",
                  where=["experiment=BDNF x IGF-1 nAb"], rope=NO_EFFECT_ROPE_S, label="immobility", unit="s"),
             "BDNF acts, and the IGF-1 nAb does not block it.", "not blocked"),
    Analysis("igf1_x_bdnfnab", "Control: intra-mPFC IGF-1 × BDNF nAb", "factorial", "bdnf_igf1_crossover.csv",
             dict(outcome="immobility_s", factors=["infusion", "antibody"], animal="mouse", blocker="antibody",
                  where=["experiment=IGF-1 x BDNF nAb"], rope=NO_EFFECT_ROPE_S, label="immobility", unit="s"),
             "IGF-1 acts, and the BDNF nAb does not block it.", "not blocked"),
)


def run_analysis(analysis: Analysis, data_dir: Path, *, seed: int, draws: int, tune: int, chains: int):
    """Fit one analysis of the study; returns its AnalysisResult."""
    return get_design(analysis.design).analyse(data_dir / analysis.file, **analysis.options, seed=seed, draws=draws,
                                               tune=tune, chains=chains)


def finding(analysis: Analysis, result) -> str:
    """The headline finding of one analysis, in one sentence, from its estimates."""
    return get_design(analysis.design).finding(result)


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
            **dict(zip(("verdict", "verdict_reason"), get_design(analysis.design).verdict(result, analysis.claim_kind),
                       strict=True)),
            "problems": list(result.diagnostics.problems), "seconds": round(seconds, 1),
        })
        progress(f"({i}/{len(study)}) {analysis.title}: done in {seconds:.0f} s, diagnostics "
                 + ("passed" if result.passed else "FAILED"))
    summary = {"analyses": rows, "seed": seed, "draws": draws, "tune": tune, "chains": chains}
    (out / "index.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "index.html").write_text(_index_html(summary))
    (out / "manuscript.tex").write_text(manuscript_tex(out, summary), encoding="utf-8")
    return summary


def manuscript_tex(out: Path, summary: dict) -> str:
    """An ``\\input``-able LaTeX file with every analysis's tables and figures (paths relative to ``out``).

    Needs ``booktabs``, ``tabularx`` and ``graphicx`` in the preamble; each table is sized to the
    text width.
    """
    lines = ["% bayes-igf1 reproduce: every analysis's tables and figures, for \\input{manuscript.tex}.",
             "% Preamble: \\usepackage{booktabs, tabularx, graphicx}. Paths are relative to this folder.", ""]
    for a in summary["analyses"]:
        folder = out / a["key"]
        lines.append(rf"\subsection*{{{_tex(a['title'])}}}")
        # each figure's own figures/<name>.tex (its caption; paths relative to the analysis's folder)
        lines.append(rf"\graphicspath{{{{{a['key']}/}}}}")
        for tex in sorted((folder / "tables").glob("*.tex"), key=lambda p: TABLE_ORDER.get(p.stem, 99)):
            lines.append(rf"\input{{{a['key']}/tables/{tex.name}}}")
        for tex in sorted((folder / "figures").glob("*.tex"), key=lambda p: (FIGURE_ORDER.get(p.stem, 0), p.stem)):
            lines.append(rf"\input{{{a['key']}/figures/{tex.name}}}")
        lines += [r"\clearpage", ""]
    return "\n".join(lines)


#: Order of an analysis's figures in manuscript.tex: the design's own first (0), then the checks.
FIGURE_ORDER = {"prior_posterior": 1, "ppc": 2, "ppc_time": 3, "prior_predictive": 4, "ranks": 5}

#: Order of an analysis's tables in manuscript.tex (others after, by name).
TABLE_ORDER = {"descriptives": 0, "contrasts": 1, "anova": 2, "anova_plain": 3, "survival": 4, "ppc": 5,
               "diagnostics": 6, "diagnostics_by_parameter": 7}


def _tex(text: str) -> str:
    from bayes_igf1.report.tables import latex_escape

    return latex_escape(text)


#: How the index's "Claim supported?" column decides (the designs' `verdict` methods apply it).
DECISION_RULE = (
    "Blockade claims: supported when the 95% HDI of the treatment's effect under the control antibody excludes "
    "no effect, the 95% HDI of the interaction excludes it in the opposite direction and the Savage-Dickey "
    "BF10 > 3; not supported when the interaction's HDI includes no effect and BF10 < 1/3; else undecided. "
    "No-blockade claims (the control experiments): supported when the effect under the control antibody is "
    f"credible, P(interaction within the ROPE of ±{NO_EFFECT_ROPE_S:g} s) > 0.95 and BF01 > 3; not supported "
    "when the interaction's HDI excludes no effect and BF10 > 3; else undecided. Time course: supported when "
    "the 95% HDI of every dose's AUC difference from saline lies above 0."
)
VERDICT_CLASS = {"supported": "ok", "not supported": "bad", "undecided": "mid"}


def _index_html(summary: dict) -> str:
    rows = []
    for a in summary["analyses"]:
        status = "passed" if a["passed"] else "FAILED: " + "; ".join(a["problems"])
        verdict = a.get("verdict", "undecided")
        rows.append(
            f"<tr><td><a href='{a['key']}/report.html'>{html.escape(a['title'])}</a></td>"
            f"<td>{html.escape(a['claim'])}</td><td>{html.escape(a['finding'])}</td>"
            f"<td class='{VERDICT_CLASS.get(verdict, 'mid')}'><b>{html.escape(verdict)}</b><br>"
            f"<span class='note'>{html.escape(a.get('verdict_reason', ''))}</span></td>"
            f"<td class='{'ok' if a['passed'] else 'bad'}'>{html.escape(status)}</td></tr>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bayes-igf1: the study reproduced</title>
<style>body{{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ccc;padding:.5em;text-align:left;vertical-align:top}}
.ok{{color:#1a7f37}}.bad{{color:#b00020;font-weight:bold}}.mid{{color:#8a5a00}}.note{{color:#555;font-size:90%}}</style></head><body>
<h1>Deyama et al. 2022, reproduced on the shipped data</h1>
<p class="note">The shipped data are <b>simulated</b> with the study's design (see data/README.md); the
findings below test the package, not the study. Seed {summary['seed']}; {summary['chains']} chains ×
{summary['draws']} draws after {summary['tune']} tuning steps.</p>
<p class="note"><b>Claim supported?</b> {html.escape(DECISION_RULE)} <b>MCMC diagnostics</b> says only
whether the sampler converged (R-hat, effective sample sizes, divergences), not whether the claim holds.</p>
<table><tr><th>Analysis (report)</th><th>The paper's claim</th><th>What the posterior says</th>
<th>Claim supported?</th><th>MCMC diagnostics</th></tr>
{''.join(rows)}</table></body></html>
"""
