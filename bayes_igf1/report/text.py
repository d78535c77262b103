"""Generated manuscript text: data, methods, results, model checking, reporting checklist.

Every number is written with `bayes_igf1.report.format` from the very values in the
`AnalysisResult` (``estimates``, ``anova``, ``diagnostics``), so that the printed text
can be parsed back and checked against results.json. The functions return plain text
(no markup); the writers add emphasis.
"""

from __future__ import annotations

import functools
import platform
import re
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from bayes_igf1.report.format import (
    TIMES,
    bf_category,
    decimals_for,
    fmt_F,
    fmt_apa_interval,
    fmt_bf,
    fmt_bounded,
    fmt_chisq,
    fmt_interval,
    fmt_num,
    fmt_number,
    fmt_p,
    fmt_p_value,
    fmt_prob,
    fmt_t,
    outcome_label,
    outcome_unit,
)
from bayes_igf1.report.tables import (
    _adjust_word,
    _present,
    effect_name,
    frequentist_scale_note,
    parameter_words,
    ppc_scale_words,
    statistic_words,
    unit_of,
)
from bayes_igf1.designs.base import get_design
from bayes_igf1.results import blockade_base
from bayes_igf1.sampling import LOW_RANK_MAX_DIM

__all__ = [
    "REFERENCES",
    "references",
    "apa_paragraph",
    "SECTIONS",
    "checklist",
    "checks_text",
    "data_paragraph",
    "methods_paragraph",
    "priors_text",
    "results_paragraph",
    "results_sentences",
    "software_versions",
]

#: Section titles of the report, in order (the checklist refers to them).
SECTIONS = {
    "data": "1 Data",
    "methods": "2 Methods",
    "results": "3 Results",
    "tables": "4 Tables",
    "figures": "5 Figures",
    "checks": "6 Model checking",
    "checklist": "7 Reporting checklist",
}

REFERENCES = {
    "pymc": "Abril-Pla O, Andreani V, Carroll C, et al. PyMC: a modern, and comprehensive probabilistic "
            "programming framework in Python. PeerJ Comput Sci. 2023;9:e1516.",
    "arviz": "Kumar R, Carroll C, Hartikainen A, Martin O. ArviZ a unified library for exploratory analysis of "
             "Bayesian models in Python. J Open Source Softw. 2019;4(33):1143.",
    "nutpie": "Seyboldt A, et al. nutpie: a fast NUTS sampler for PyMC and Stan models. "
              "https://github.com/pymc-devs/nutpie",
    "nuts": "Hoffman MD, Gelman A. The No-U-Turn sampler. J Mach Learn Res. 2014;15:1593-1623.",
    "statsmodels": "Seabold S, Perktold J. statsmodels: econometric and statistical modeling with Python. "
                   "Proc 9th Python in Science Conf. 2010:92-96.",
    "scipy": "Virtanen P, Gommers R, Oliphant TE, et al. SciPy 1.0: fundamental algorithms for scientific "
             "computing in Python. Nat Methods. 2020;17:261-272.",
    "pingouin": "Vallat R. Pingouin: statistics in Python. J Open Source Softw. 2018;3(31):1026.",
    "rhat": "Vehtari A, Gelman A, Simpson D, Carpenter B, Bürkner PC. Rank-normalization, folding, and "
            "localization: an improved R-hat for assessing convergence of MCMC. Bayesian Anal. 2021;16:667-718.",
    "pd": "Makowski D, Ben-Shachar MS, Chen SHA, Lüdecke D. Indices of effect existence and significance in "
          "the Bayesian framework. Front Psychol. 2019;10:2767.",
    "rope": "Kruschke JK. Rejecting or accepting parameter values in Bayesian estimation. Adv Methods Pract "
            "Psychol Sci. 2018;1:270-280.",
    "anova": "Gelman A. Analysis of variance: why it is more important than ever. Ann Stat. 2005;33:1-53.",
    "loo": "Vehtari A, Gelman A, Gabry J. Practical Bayesian model evaluation using leave-one-out "
           "cross-validation and WAIC. Stat Comput. 2017;27:1413-1432.",
    "psense": "Kallioinen N, Paananen T, Bürkner PC, Vehtari A. Detecting and diagnosing prior and likelihood "
              "sensitivity with power-scaling. Stat Comput. 2024;34:57.",
    "jzs": "Rouder JN, Morey RD, Speckman PL, Province JM. Default Bayes factors for ANOVA designs. J Math "
           "Psychol. 2012;56:356-374.",
    "inclusion": "van den Bergh D, van Doorn J, Marsman M, et al. A tutorial on conducting and interpreting a "
                 "Bayesian ANOVA in JASP. L'Annee psychologique. 2020;120:73-96.",
    "barg": "Kruschke JK. Bayesian analysis reporting guidelines. Nat Hum Behav. 2021;5:1282-1291.",
    "arrive": "Percie du Sert N, Hurst V, Ahluwalia A, et al. The ARRIVE guidelines 2.0: updated guidelines "
              "for reporting animal research. PLoS Biol. 2020;18:e3000410.",
    "study": "Deyama S, Kondo M, Shimada S, Kaneda K. IGF-1 release in the medial prefrontal cortex mediates "
             "the rapid and sustained antidepressant-like actions of ketamine. Transl Psychiatry. 2022;12:178.",
}

def references(result) -> list[str]:
    """The report's reference list: `REFERENCES`, the inclusion Bayes factors' two only when the report has them."""
    ba = result.bayes_anova
    used = ba is not None and "BF_incl" in ba and bool(ba["BF_incl"].notna().any())
    return [text for key, text in REFERENCES.items() if used or key not in ("jzs", "inclusion")]


_SOFTWARE = ("bayes-igf1", "pymc", "pytensor", "nutpie", "arviz", "numpy", "scipy", "pandas", "xarray",
             "statsmodels", "pingouin", "matplotlib")


def software_versions() -> dict[str, str]:
    """Installed versions of Python and the packages the analysis used (looked up once per process)."""
    return dict(_software_versions())


@functools.cache
def _software_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _SOFTWARE:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------------------- helpers


def _n(x) -> str:
    return str(int(x))


def _list(items: list[str]) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"


def _cell(label: str) -> str:
    return str(label).replace("|", "/")


def _time_unit(result) -> str:
    return result.sheet.time_unit or ""


def _at(result, t) -> str:
    """'at 2 h' with a known unit, 'at hour 2' otherwise (the user's time column)."""
    unit = _time_unit(result)
    if unit:
        return f"at {fmt_number(t, _time_decimals(t))} {unit}"
    return f"at {result.settings.get('time', 'time')} {fmt_number(t, _time_decimals(t))}"


def _time_decimals(t) -> int:
    t = float(t)
    return 0 if abs(t - round(t)) < 1e-9 else 2


def _ci(result) -> tuple[str, str]:
    prob = float(result.settings.get("ci_prob", 0.95))
    return f"{100 * prob:g}%", str(result.settings.get("ci_kind", "hdi")).upper()


def _est(result, name: str) -> pd.DataFrame:
    e = result.estimates
    return e[e["name"] == name]


def _rope_phrase(r: dict, unit: str) -> str:
    if not _present(r.get("rope_low")) or not _present(r.get("prob_in_rope")):
        return ""
    lo, hi = float(r["rope_low"]), float(r["rope_high"])
    rope = f"±{fmt_number(hi, 0 if hi == round(hi) else 1)}{unit}" if np.isclose(-lo, hi) else \
        f"[{fmt_number(lo, 1)}, {fmt_number(hi, 1)}]{unit}"
    return "; " + fmt_p(r["prob_in_rope"], symbol=f"P(in ROPE {rope})")


def _direction(r: dict) -> tuple[str, str]:
    """('increase'|'decrease', verb) from the sign of the posterior median."""
    if float(r["median"]) >= 0:
        return "increase", "raised"
    return "decrease", "lowered"


def _freq_phrase(r: dict, unit: str, *, label: str = "mixed model", sign: bool = True) -> str:
    """"; planned t contrast: −60 s (95% CI, Sidak-adjusted, −85 to −35 s), Sidak-adjusted p = .001":
    the interval is adjusted as the p-value beside it is."""
    if not _present(r.get("freq_estimate")):
        return ""
    p_adj = r.get("freq_p_adjusted")
    adjusted = _present(p_adj) and not (_present(r.get("freq_p")) and float(p_adj) == float(r["freq_p"]))
    word = _adjust_word(r.get("freq_method")) if adjusted else ""
    use_adj = adjusted and _present(r.get("freq_ci_low_adjusted"))
    lo, hi = (r.get("freq_ci_low_adjusted"), r.get("freq_ci_high_adjusted")) if use_adj else (
        r.get("freq_ci_low"), r.get("freq_ci_high"))
    d = decimals_for(lo, hi)
    est = fmt_number(r["freq_estimate"], d, sign=sign) + unit
    ci = fmt_interval(lo, hi, d, unit=unit)
    ci_prob = f"{100 * float(r.get('ci_prob') or 0.95):g}% CI" + (f", {word or 'adjusted'}-adjusted" if use_adj else "")
    if adjusted:
        p = fmt_p(p_adj).replace("p ", f"{word or 'adjusted'}-adjusted p ", 1)
    elif _present(p_adj):
        p = fmt_p(p_adj)
    else:
        p = fmt_p(r.get("freq_p"))
    return f"; {label}: {est} ({ci_prob} {ci}), {p}"


# ------------------------------------------------------------------------------- data


#: The row ledger's reason for a row that --where did not select (io.py writes it).
WHERE_REASON = "filtered out by --where"


def data_paragraph(result) -> str:
    """Rows read / used / excluded with reasons, n per group, experimental unit, what the ANOVA dropped, notes."""
    sheet = result.sheet
    led = sheet.ledger
    summ = sheet.summary()
    animal_col = sheet.columns.get("animal")
    unit_word = "animal" + (f" (column '{animal_col}')" if animal_col else " (one row per animal; IDs made up)")
    cells = bool((led.entries["column"] != "").any())
    what = "cells" if cells else "rows"
    reasons = [line.strip() for line in led.to_text().splitlines()[1:]]
    # rows of another experiment in the same sheet (not selected by --where) are not exclusions
    other = [r for r in reasons if r.startswith(WHERE_REASON)]
    reasons = [r for r in reasons if not r.startswith(WHERE_REASON)]
    n_other = sum(int(item["reason"].startswith(WHERE_REASON)) for item in led.excluded)
    n_ex = led.rows_read - led.rows_used - n_other
    if n_other:
        which = "; ".join(r.removeprefix(WHERE_REASON).strip() for r in other)
        parts = [(f"The sheet {led.source} had {led.rows_read} data {what}, {n_other} of them from another experiment "
                  f"in the same sheet, not part of this analysis (not selected by --where {which}); of the other "
                  f"{led.rows_read - n_other}, {led.rows_used} were analysed and {n_ex} excluded")]
    else:
        parts = [(f"The sheet {led.source} had {led.rows_read} data {what}; {led.rows_used} were analysed and "
                  f"{n_ex} excluded")]
    parts[0] += (" (" + "; ".join(reasons) + ")." if reasons else ".")
    n_per = summ["n_per_group"]
    groups = ", ".join(f"{_cell(g)} {n}" for g, n in n_per.items())
    design = get_design(result.design)
    parts.append(f"The experimental unit is the {unit_word}: {summ['n_animals']} animals in total, per "
                 f"{design.unit_word}: {groups}.")
    parts.append(_reference_sentence(summ))
    parts += design.data_sentences(result)
    ad = result.anova_data or {}
    dropped = list(ad.get("animals_dropped") or [])
    kind = "ANOVA"
    if ad:  # the design's own name of its F test: "two-way ANOVA", "MANOVA", "two-way repeated-measures ANOVA"
        kind = design.anova_head(result).split(" on ")[0].split(" of ")[0]
        kind = kind[0].lower() + kind[1:] if kind[1:2].islower() else kind
    if dropped:
        reason = str(ad.get("reason", ""))
        parts.append(f"The frequentist {kind} (on {ad.get('dv', 'the outcome')}) analysed {ad.get('n_animals')} animals: "
                     f"it left out {_list(dropped)} ({reason}). "
                     + str(ad.get("note") or "The Bayesian model used every observation."))
    elif ad:
        parts.append(f"The frequentist {kind} (on {ad.get('dv', 'the outcome')}) analysed "
                     f"{ad.get('n_analysed', ad.get('n_animals'))} animals; none was left out.")
    parts += [str(n) for n in summ.get("notes", [])]
    parts += [_problem_words(str(n), result) for n in result.notes]  # parameters named in words
    return " ".join(p.strip() for p in parts if p)


def _reference_sentence(summ: dict) -> str:
    """'Reference levels: treatment = saline (named like a control); antibody = IgG (named like a control).'"""
    levels = summ.get("reference_level") or {}
    rules = summ.get("reference_rule") or {}
    bits = []
    for name, level in levels.items():
        rule = str(rules.get(name, "")).strip()
        why = _rule_words(rule, level)
        bits.append(f"{name} = {level}" + (f" ({why})" if why else ""))
    if not bits:
        return ""
    return f"Reference level{'s' if len(bits) > 1 else ''}: " + "; ".join(bits) + "."


def _rule_words(rule: str, level: str) -> str:
    """The io's rule text for a sentence: 'named like a control (saline)' -> 'named like a control' when the
    word is the level itself, else 'named like a control: Control'; other parentheses -> '; ...'."""
    head, sep, inner = rule.partition(" (")
    if not sep:
        return rule
    inner = inner.removesuffix(")")
    if head == "named like a control":
        return head if inner.casefold() == str(level).casefold() else f"{head}: {inner}"
    return f"{head}; {inner}"


# ---------------------------------------------------------------------------- methods


#: Distribution parameters as a journal writes them.
_GREEK = {"mu": "\u03bc", "sigma": "\u03c3", "alpha": "\u03b1", "beta": "\u03b2", "nu": "\u03bd", "lam": "\u03bb",
          "eta": "\u03b7", "tau": "\u03c4", "rho": "\u03c1"}


def priors_text(result) -> list[str]:
    """Every prior, one line each, the parameter in words with its name in the model text:
    "group effects at each time (beta) ~ Normal(μ = 0, σ = 0.968)" (4 significant digits, as the model text)."""
    lines = []
    for name, spec in result.priors.items():
        what = parameter_words(name, result)
        if isinstance(spec, dict):
            params = ", ".join(f"{_GREEK.get(k, k)} = {v:.4g}" if isinstance(v, (int, float)) else
                               f"{_GREEK.get(k, k)} = {v}" for k, v in spec.items() if k != "dist")
            lines.append(f"{what} ~ {spec.get('dist', '?')}({params})")
        else:
            lines.append(f"{what} ~ {spec}")
    return lines


def _model_words(result) -> tuple[str, str]:
    """(words, formulas) of the model text."""
    text = str(result.model_text or "").strip()
    if "\n\n" in text:
        words, formulas = text.split("\n\n", 1)
        return words.strip(), formulas.strip()
    # Otherwise: indented lines are formulas, the others words.
    lines = text.splitlines()
    formulas = [ln.strip() for ln in lines if ln.startswith((" ", "\t")) and ln.strip()]
    words = " ".join(ln.strip() for ln in lines if ln.strip() and not ln.startswith((" ", "\t")))
    return words, "\n".join(formulas)


def _frequentist_methods(result) -> str:
    """The design's paragraph on the twin, then each reported estimand's frequentist method, one sentence per
    estimand ("Simple effects: t contrast ...")."""
    text = get_design(result.design).frequentist_methods(result)
    e = result.estimates[result.estimates["freq_method"].notna()]
    for name in dict.fromkeys(e["name"]):
        methods = list(dict.fromkeys(str(m) for m in e.loc[e["name"] == name, "freq_method"]))
        words = parameter_words(name, result, symbol=False)
        text += f" {words[:1].upper()}{words[1:]}: " + "; or ".join(methods) + "."
    return text


def methods_paragraph(result) -> str:
    """The model in words, every prior, sampler and settings, diagnostics gate, frequentist twin, software, seed."""
    words, _ = _model_words(result)
    d = result.diagnostics
    s = d.settings
    th = d.thresholds
    ci, kind = _ci(result)
    v = software_versions()
    adaptation = {"low_rank": "low-rank modified mass-matrix adaptation (nutpie)",
                  "diag": "diagonal mass-matrix adaptation",
                  "auto": (f"nutpie's low-rank modified mass-matrix adaptation (diagonal for models of more than "
                           f"{LOW_RANK_MAX_DIM} free parameters)")}.get(s.adaptation, f"{s.adaptation} mass-matrix adaptation")
    parts = [get_design(result.design).why_bayesian(result), words + " Priors (on the modelled scale; the model's own names in parentheses): " + "; ".join(priors_text(result)) + "."]
    parts.append(
        f"The posterior was sampled with the No-U-Turn sampler (NUTS; Hoffman & Gelman 2014) of nutpie "
        f"{v['nutpie']}: {s.chains} chains of {s.draws} draws after {s.tune} tuning iterations each "
        f"({s.chains * s.draws} draws in all), target acceptance {fmt_number(s.target_accept, 2)}, {adaptation}, "
        f"maximum tree depth {s.maxdepth}; random seed {result.seed}."
        + (f" The first fit (with the requested {result.settings.get('tune', '?')} tuning iterations) failed the "
           f"diagnostics gate and was refitted once with the settings above." if d.retried else ""))
    parts.append(
        f"Convergence gate: rank-normalised split R-hat ≤ {th.rhat_max:g} and bulk and tail effective sample "
        f"size ≥ {th.ess_min:g} for every parameter (Vehtari et al. 2021), "
        + ("no divergent transitions" if th.max_divergences == 0 else f"at most {th.max_divergences} divergent transitions")
        + f" and E-BFMI ≥ {th.bfmi_min:g} in every chain; a fit that fails is reported as FAILED.")
    rope = result.settings.get("rope")
    parts.append(
        f"Posterior summaries are medians with {ci} highest-density intervals ({kind}); P(direction) is the posterior "
        "probability that the effect has the sign of its median (probability of direction; Makowski et al. 2019)."
        + (f" The region of practical equivalence (ROPE; Kruschke 2018) of the group contrasts is ±{rope:g}"
           f"{'%' if result.settings.get('scale', 'log') == 'log' else ''}; P(in ROPE) is the posterior mass inside it."
           if _present(rope) else " No region of practical equivalence (ROPE) was set.")
        + (" The Bayesian ANOVA reports the finite-population SD of each source's effects (Gelman 2005) and the "
           "posterior partial η², defined as the ANOVA's: the variance of the source's effects over the cells divided "
           "by that plus the error variance of the ANOVA's unit in the same error stratum."
           if result.bayes_anova is not None and len(result.bayes_anova) else "")
        + _inclusion_methods(result))
    checks = result.checks or {}
    used = [w for k, w in (
        ("ppc", "posterior predictive p-values of each group's mean, SD, minimum and maximum"),
        ("prior_predictive", "the share of prior predictive values outside a plausible range"),
        ("loo", "PSIS-LOO cross-validation with Pareto k diagnostics (Vehtari et al. 2017)"),
        ("sensitivity", ("power-scaling prior and likelihood sensitivity of every reported estimand "
                         "(Kallioinen et al. 2024)")),
        ("bayes_factor", "a Savage-Dickey Bayes factor of the interaction")) if k in checks]
    if used:
        parts.append("Model checks: " + _list(used) + ".")
    parts.append(_frequentist_methods(result))
    parts.append(
        f"Software: Python {v['python']}, bayes-igf1 {v['bayes-igf1']}, PyMC {v['pymc']} (Abril-Pla et al. 2023), "
        f"PyTensor {v['pytensor']}, nutpie {v['nutpie']}, ArviZ {v['arviz']} (Kumar et al. 2019), "
        f"NumPy {v['numpy']}, SciPy {v['scipy']} (Virtanen et al. 2020), pandas {v['pandas']}, "
        f"xarray {v['xarray']}, statsmodels {v['statsmodels']} (Seabold & Perktold 2010), "
        f"pingouin {v['pingouin']} (Vallat 2018) and matplotlib {v['matplotlib']}.")
    return "\n\n".join(p.strip() for p in parts if p)


# ---------------------------------------------------------------------------- results


def _effect_sentence(result, r: dict, *, where: str = "") -> str:
    """'ketamine 10 raised igf1 by 69% relative to saline at 2 h (posterior median; 95% HDI 41–99%; P(increase) > .999); ...'."""
    unit = unit_of(r.get("scale"))
    ci, kind = _ci(result)
    event, verb = _direction(r)
    d = decimals_for(r.get("ci_low"), r.get("ci_high"))
    mag = fmt_number(abs(float(r["median"])), d)
    value = outcome_label(result)
    by = f"{mag}{unit}" if unit else (f"{mag} {outcome_unit(result)}" if outcome_unit(result) else f"{mag} ({value} units)")
    at = _at(result, r["time"]) if _present(r.get("time")) else ""
    subject = _tc_group(result, r.get("group"))
    ref = _tc_group(result, r.get("reference"))
    text = (f"{subject} {verb} {value} by {by} relative to {ref}{(' ' + at) if at else ''}{where} "
            f"(posterior median; {ci} {kind} {fmt_interval(r['ci_low'], r['ci_high'], d, unit=unit)}; "
            f"{fmt_prob(r['prob_direction'], event=event)}{_rope_phrase(r, unit)})")
    note = frequentist_scale_note(result)
    label = f"mixed model (difference in {note}, another scale)" if note else "mixed model"
    return text + _freq_phrase(r, unit, label=label) + "."


def _tc_group(result, g) -> str:
    """A time-course group as the text writes it: a combination of several group factors "a|b" -> "a, b"."""
    return str(g).replace("|", ", ") if not isinstance(result.settings.get("group", ""), str) else str(g)


def _tc_interaction_sentences(result) -> list[tuple[str, str]]:
    """Several group factors: the interaction per time (ratio of ratios) and, with a blocker, the % blockade
    over the AUC and per time."""
    out = []
    ci, kind = _ci(result)
    for _, rows in _est(result, "interaction").groupby(["group", "cell"], sort=False):
        recs = rows.sort_values("time").to_dict("records")
        null = _null(recs[0])
        top = max(recs, key=lambda r: abs(np.log(float(r["median"]))) if null == 1.0 else abs(float(r["median"])))
        d = max(decimals_for(top["ci_low"], top["ci_high"]), 2)
        excl = sum(1 for r in recs if not float(r["ci_low"]) <= null <= float(r["ci_high"]))
        above = float(top["median"]) >= null
        event = ("ratio > 1" if above else "ratio < 1") if null == 1.0 else ("positive" if above else "negative")
        label = str(top["label"]).rsplit(" at ", 1)[0]
        out.append(("interaction", (
            f"Interaction, {label} ({top['scale']}): posterior medians from {fmt_number(min(r['median'] for r in recs), d)} "
            f"to {fmt_number(max(r['median'] for r in recs), d)} over the {len(recs)} times, the largest "
            f"{_at(result, top['time'])}: {fmt_number(top['median'], d)} ({ci} {kind} "
            f"{fmt_interval(top['ci_low'], top['ci_high'], d)}; {fmt_prob(top['prob_direction'], event=event)}); "
            f"the {ci} {kind} excluded {fmt_number(null, 0)} at {excl} of {len(recs)} times.")))
    per_time = _est(result, "blockade_pct")
    for r in _est(result, "blockade_auc_pct").to_dict("records"):
        d = decimals_for(r["ci_low"], r["ci_high"], max_decimals=1)
        text = (f"Blockade over the post-injection period: {r['label']}: {fmt_number(r['median'], d)}% (posterior "
                f"median; {ci} {kind} {fmt_interval(r['ci_low'], r['ci_high'], d, unit='%')}; "
                f"{fmt_prob(r['prob_above'], event='blockade > 50%')})")
        rows = per_time[(per_time["group"] == r["group"]) & (per_time["cell"] == r["cell"])].sort_values("time")
        if len(rows):
            text += ("; per time (posterior medians, % of the effect on the log-ratio scale): "
                     + ", ".join(f"{fmt_number(x['median'], 0)}% {_at(result, x['time'])}" for x in rows.to_dict("records")))
        out.append(("blockade_pct", text + "."))
    return out


def timecourse_sentences(result) -> list[tuple[str, str]]:
    out = []
    eff = _est(result, "effect_vs_reference")
    for g, rows in eff.groupby("group", sort=False):
        rows = rows.sort_values("time")
        recs = rows.to_dict("records")
        peak = max(recs, key=lambda r: abs(float(r["median"])))
        out.append(("effect_vs_reference", _effect_sentence(result, peak, where=", its largest posterior median effect")))
        unit = unit_of(peak.get("scale"))
        n = len(recs)
        lo = min(recs, key=lambda r: float(r["median"]))
        hi = max(recs, key=lambda r: float(r["median"]))
        excl = sum(1 for r in recs if float(r["ci_low"]) > 0 or float(r["ci_high"]) < 0)
        p95 = sum(1 for r in recs if float(r["prob_direction"]) > 0.95)
        ci, kind = _ci(result)
        d = decimals_for(min(float(r["ci_low"]) for r in recs), max(float(r["ci_high"]) for r in recs))
        d = max(d, decimals_for(peak["ci_low"], peak["ci_high"]))
        when = "post-injection times" if result.settings.get("baseline", "auto") == "auto" else "sampled times"
        sentence = (f"Across the {n} {when} the posterior median change of {_tc_group(result, g)} vs "
                    f"{_tc_group(result, peak['reference'])} "
                    f"ranged from {fmt_number(lo['median'], d)}{unit} ({_at(result, lo['time'])}) to "
                    f"{fmt_number(hi['median'], d)}{unit} ({_at(result, hi['time'])}); the {ci} {kind} excluded 0 "
                    f"at {excl} of {n} times and P(direction) exceeded .95 at {p95} of {n}")
        adj = [r for r in recs if _present(r.get("freq_p_adjusted"))]
        if adj:
            word = _adjust_word(adj[0].get("freq_method")) or "adjusted"
            k = sum(1 for r in adj if float(r["freq_p_adjusted"]) < 0.05)
            sentence += f"; the mixed-model contrast had {word}-adjusted p < .05 at {k} of {len(adj)}"
        out.append(("effect_range", sentence + "."))
    for r in _est(result, "auc_difference").to_dict("records"):
        unit = result.sheet.time_unit or str(result.settings.get("time", "time"))
        traj = _est(result, "trajectory")
        what = str(traj["scale"].iloc[0]) if len(traj) else "value"
        d = decimals_for(r["ci_low"], r["ci_high"])
        event = "increase" if float(r["median"]) >= 0 else "decrease"
        verb = "exceeded" if float(r["median"]) >= 0 else "fell short of"
        out.append(("auc_difference", (
            f"Over the post-injection period the area under the {what} curve of {_tc_group(result, r['group'])} {verb} "
            f"{_tc_group(result, r['reference'])}'s by {fmt_number(abs(float(r['median'])), d)} ({what} {TIMES} {unit}; posterior median "
            f"difference {fmt_number(r['median'], d)}; {_ci(result)[0]} {_ci(result)[1]} "
            f"{fmt_interval(r['ci_low'], r['ci_high'], d)}; {fmt_prob(r['prob_direction'], event=event)}).")))
    sus = _est(result, "sustained").to_dict("records")
    if sus:
        bits = [f"{_tc_group(result, r['group'])} {fmt_p(r['mean'], symbol='P')}" for r in sus]
        out.append(("sustained", (f"Posterior probability that the effect vs {_tc_group(result, sus[0]['reference'])} was positive "
                                  f"at every post-injection time: {'; '.join(bits)}.")))
    between = _est(result, "between_treatments")
    for comp, rows in between.groupby("cell", sort=False):
        recs = rows.to_dict("records")
        peak = max(recs, key=lambda r: abs(float(r["median"])))
        a, b = str(comp).split(" vs ", 1) if " vs " in str(comp) else (str(comp), "")
        rec = dict(peak, group=a, reference=b)
        out.append(("between_treatments", _effect_sentence(result, rec, where=", its largest posterior median difference")))
    return out + _tc_interaction_sentences(result)


def _null(r: dict) -> float:
    """The no-effect value of an estimate: 1 for ratios, 50 for the % blockade (its P is relative to 50), else 0."""
    if r.get("name") == "blockade_pct":
        return 50.0
    return 1.0 if "ratio" in str(r.get("scale") or "") else 0.0


def _event(r: dict) -> tuple[str, float]:
    """(event words, posterior probability) of the direction of a factorial estimate."""
    null = _null(r)
    if r.get("name") == "blockade_pct":
        return "blockade > 50%", float(r["prob_above"])
    above = float(r["median"]) >= null
    if null == 1.0:
        return ("ratio > 1" if above else "ratio < 1"), float(r["prob_direction"])
    if r.get("name") == "interaction":
        return ("positive" if above else "negative"), float(r["prob_direction"])
    return ("increase" if above else "decrease"), float(r["prob_direction"])


def _bf_text(bf, *, method: str = "") -> str:
    """"BF10 = 4.21 (moderate evidence for an interaction)", "BF10 > 100 (extreme ...)"; names the
    far-tail normal approximation of the Savage-Dickey ratio where it was used."""
    text = fmt_bf(bf)
    rel = text if text[0] in "<>" else f"= {text}"
    words = bf_category(bf, h1="an interaction", h0="no interaction")
    if "normal approximation" in str(method):
        words += "; posterior density at 0 from a normal approximation, 0 being in the posterior's far tail"
    return f"BF10 {rel} ({words})"


#: Scales of estimates in the outcome's own unit (which the text writes after each number).
OUTCOME_UNIT_SCALES = ("difference", "difference of differences", "outcome", "deviation from grand mean")


def _factorial_sentence(result, r: dict, what: str, *, freq_label: str) -> str:
    ci, kind = _ci(result)
    unit = unit_of(r.get("scale")) or (
        f"\u00a0{outcome_unit(result)}" if outcome_unit(result) and r.get("scale") in OUTCOME_UNIT_SCALES else "")
    d = decimals_for(r["ci_low"], r["ci_high"])
    event, prob = _event(r)
    est = fmt_number(r["median"], d, sign=_null(r) == 0.0 and r.get("name") != "blockade_pct")
    text = (f"{what}: {est}{unit} (posterior median; {ci} {kind} "
            f"{fmt_interval(r['ci_low'], r['ci_high'], d, unit=unit)}; {fmt_prob(prob, event=event)}"
            f"{_rope_phrase(r, unit)})")
    if r.get("name") == "blockade_pct" and _present(r.get("freq_estimate")):
        return text + f"; plug-in from the frequentist simple effects: {fmt_number(r['freq_estimate'], d)}{unit}."
    surv = _survival_phrase(r.get("freq_survival"))
    if surv:  # a censored outcome: the censoring-aware test leads, the t-based one is marked
        return (text + surv + _freq_phrase(r, unit, label=f"{freq_label} on values at the cut-off (ignores censoring)",
                                           sign=_null(r) == 0.0) + ".")
    return text + _freq_phrase(r, unit, label=freq_label, sign=_null(r) == 0.0) + "."


def _survival_phrase(s) -> str:
    """"; log-rank χ²(1) = 8.61, Sidak-adjusted p = .013" (censoring-aware twin), or ""."""
    if not isinstance(s, dict):
        return ""
    if s.get("test") == "log-rank":
        return "; " + _apa_survival(s)
    if str(s.get("test", "")).startswith("Cox"):
        if not s.get("estimable", True):
            reason = str(s.get("reason", "")).split(" Reported instead")[0].rstrip(".")
            text = f"; no Cox model with the interaction: {reason}"
            if s.get("main_effects"):
                text += "; main-effects Cox model: " + ", ".join(
                    f"{t['term']} hazard ratio {fmt_number(t['hazard_ratio'], 2)} ({fmt_p(t['p'])})"
                    for t in s["main_effects"])
            return text
        return (f"; {s['test']}: hazard ratio {fmt_number(s['hazard_ratio'], 2)}, "
                f"z = {fmt_number(s['z'], 2)}, {fmt_p(s['p'])}")
    return ""


def factorial_sentences(result) -> list[tuple[str, str]]:
    out = []
    e = result.estimates
    value = outcome_label(result)
    a_name = result.sheet.factors[0] if result.sheet.factors else ""
    simple = e[(e["name"] == "simple_effect") & (e["group"] == a_name)]
    pct = e[e["name"] == "pct_change"]
    for r in simple.to_dict("records"):
        p = pct[(pct["cell"] == r["cell"]) & (pct["group"] == r["group"])]
        rec = p.iloc[0].to_dict() if len(p) else r
        what = (f"{_cell(r['label'])}: {'% change in' if len(p) else 'difference in'} {value}")
        out.append(("simple_effect", _factorial_sentence(result, rec, what, freq_label="planned t contrast")))
    bf = (result.checks or {}).get("bayes_factor")
    for r in _est(result, "interaction").to_dict("records"):
        kind_word = "ratio of ratios" if _null(r) == 1.0 else "difference of differences"
        sentence = _factorial_sentence(result, r, f"Interaction, {_cell(r['label'])} ({kind_word})",
                                       freq_label="t contrast")
        if isinstance(bf, pd.DataFrame) and len(bf):
            main = bf[(bf["cell"] == r["cell"]) & (bf["prior_multiplier"] == 1.0)]
            if len(main):
                bf_words = _bf_text(main["BF10"].iloc[0], method=main["method"].iloc[0])
                sentence = sentence[:-1] + f"; Savage-Dickey {bf_words}."
        out.append(("interaction", sentence))
    for r in _est(result, "simple_interaction").to_dict("records"):
        kind_word = "ratio of ratios" if _null(r) == 1.0 else "difference of differences"
        out.append(("simple_interaction", _factorial_sentence(
            result, r, f"Interaction {r['group'].replace(':', f' {TIMES} ')}, {_cell(r['label'])} ({kind_word})",
            freq_label="t contrast")))
    for r in _est(result, "blockade_pct").to_dict("records"):
        base = blockade_base(e, r)
        if base is not None and not base["interpretable"]:
            ci, kind = _ci(result)
            unit = unit_of(base.get("scale"))
            d = decimals_for(base["ci_low"], base["ci_high"])
            out.append(("blockade_pct", (
                f"Blockade: {_cell(r['label'])}: not stated. The effect it would be a percentage of "
                f"({_cell(base['label'])}) is not credibly different from no effect ({ci} {kind} "
                f"{fmt_interval(base['ci_low'], base['ci_high'], d, unit=unit)} includes "
                f"{fmt_number(base['null'], 0)}), so the ratio has no stable value; its posterior is in the "
                f"tables for completeness only.")))
            continue
        out.append(("blockade_pct", _factorial_sentence(result, r, f"Blockade: {_cell(r['label'])}",
                                                        freq_label="frequentist")))
    d = e[(e["name"] == "cohens_d") & (e["group"] == a_name)]
    if len(d):
        bits = []
        for r in d.to_dict("records"):
            dd = decimals_for(r["ci_low"], r["ci_high"], max_decimals=2)
            where_ = str(r.get("label") or "").split(": ", 1)[-1]
            text = (f"{fmt_number(r['median'], dd)} ({_ci(result)[0]} {_ci(result)[1]} "
                    f"{fmt_interval(r['ci_low'], r['ci_high'], dd)}) for {where_}")
            if _present(r.get("freq_estimate")):
                text += (f" [Hedges' g {fmt_number(r['freq_estimate'], dd)}, {_ci(result)[0]} CI "
                         f"{fmt_interval(r.get('freq_ci_low'), r.get('freq_ci_high'), dd)}]")
            bits.append(text)
        scale = str(d["scale"].iloc[0])
        out.append(("cohens_d", f"Standardised effects (Cohen's d on the {scale}): " + "; ".join(bits) + "."))
    return out


def _anova_sentence(result) -> str:
    a = result.anova
    if a is None or a.empty:
        return ""
    bits = []
    for r in a.to_dict("records"):
        eff = str(r["effect"]).replace(":", f" {TIMES} ")
        text = f"{eff} {fmt_F(r['df_num'], r['df_den'], r['F'])}, "
        if _present(r.get("epsilon_gg")) and _present(r.get("p_gg")):
            eps = float(r["epsilon_gg"])
            text = (f"{eff} Greenhouse-Geisser corrected {fmt_F(eps * r['df_num'], eps * r['df_den'], r['F'])}, "
                    f"{fmt_p(r['p_gg'])} (ε = {fmt_bounded(eps, 2)})")
        else:
            text += fmt_p(r["p"])
        if _present(r.get("partial_eta_sq")):
            text += f", partial η² = {fmt_bounded(r['partial_eta_sq'], 2)}"
        bits.append(text)
    return get_design(result.design).anova_head(result) + ": " + "; ".join(bits) + "."


def _bayes_anova_sentence(result) -> str:
    b = result.bayes_anova
    if b is None or b.empty:
        return ""
    ci, kind = _ci(result)
    bits = []
    for r in b.to_dict("records"):
        if not _present(r.get("eta_median")):
            continue
        d = max(decimals_for(r["sd_ci_low"], r["sd_ci_high"]), 2)
        bits.append(f"{effect_name(r['source'], result).replace(':', f' {TIMES} ')} SD {fmt_number(r['sd_median'], d)} "
                    f"({ci} {kind} {fmt_interval(r['sd_ci_low'], r['sd_ci_high'], d)}), partial η² "
                    f"{fmt_bounded(r['eta_median'], 2)} ({fmt_bounded(r['eta_ci_low'], 2)}\u2013"
                    f"{fmt_bounded(r['eta_ci_high'], 2)})")
    if not bits:
        return ""
    scale = "log scale" if get_design(result.design).log_scale(result) else "measured scale"
    return (f"Bayesian ANOVA ({scale}; Gelman's finite-population SD of each source's effects, and the posterior "
            "partial η² defined as the ANOVA's): " + "; ".join(bits) + ".")


def _inclusion_methods(result) -> str:
    """The Methods sentence on the inclusion Bayes factors beside the ANOVA ("" when there are none)."""
    ba = result.bayes_anova
    if ba is None or "BF_incl" not in ba or not ba["BF_incl"].notna().any():
        return ""
    block = (result.anova_data or {}).get("block")
    error = float(np.nanmax(ba["BF_incl_error"].to_numpy(dtype=float)))
    log = get_design(result.design).log_scale(result)
    return (" Beside the ANOVA, each effect's inclusion Bayes factor (JASP; van den Bergh et al. 2020): its posterior "
            "over its prior inclusion odds across the models that respect marginality, uniform prior over the models, "
            "JZS priors with r = 1/2 (Rouder et al. 2012)"
            + (f", {block} in every model as a nuisance term" if block else "")
            + ", on one value per animal" + (" (log scale)" if log else "")
            + "; also across matched models only. The g-integrals are computed numerically (quadrature, or "
            f"quasi-Monte Carlo importance sampling beyond three model terms); largest relative error {error:.1%}.")


def results_sentences(result) -> list[tuple[str, str]]:
    """(kind, sentence) pairs of the results paragraph, in order."""
    out = []
    if not result.diagnostics.passed:
        out.append(("warning", "CAUTION: the sampler failed its diagnostics gate ("
                    + "; ".join(_problem_words(p, result) for p in result.diagnostics.problems)
                    + "); the posterior numbers below are not reliable."))
    out += get_design(result.design).results_sentences(result)
    s = _anova_sentence(result)
    if s:
        out.append(("anova", s))
    s = _bayes_anova_sentence(result)
    if s:
        out.append(("bayes_anova", s))
    return out


# ------------------------------------------------------------------ APA results paragraph

#: Words before an estimate's label in the APA paragraph, by estimand name ("" for none).
_APA_PREFIX = {"interaction": "Interaction, ", "simple_interaction": "Interaction, ", "blockade_pct": "Blockade, ",
               "blockade_auc_pct": "Blockade, "}

#: Test names of a multivariate F table (results.anova's ``test`` column) as APA writes the statistic.
_MULTIVARIATE_STATISTIC = {"Pillai": "Pillai's V", "Wilks": "Wilks' \u039b", "Hotelling-Lawley": "Hotelling-Lawley trace",
                           "Roy": "Roy's largest root"}


def _apa_items(result) -> list[tuple[dict, int]]:
    """The estimates the APA paragraph reports: the headline rows that have a frequentist twin beside them
    (all headline rows when none has), a family of rows over time reduced to its largest effect.

    Returns (row, number of rows it stands for) pairs in the order of ``result.estimates``.
    """
    e = result.estimates
    head = e[e["headline"].fillna(False).astype(bool)] if "headline" in e else e.iloc[:0]
    head = head[head["median"].notna()]
    twin = pd.Series(False, index=head.index)
    for col in ("freq_estimate", "freq_p"):
        if col in head:
            twin |= head[col].notna()
    if "freq_survival" in head:
        twin |= head["freq_survival"].map(lambda s: isinstance(s, dict))
    with_twin = head[twin]
    rows = with_twin if len(with_twin) else head
    out, seen = [], set()
    keys = ["name", "group", "reference"]
    for r in rows.to_dict("records"):
        key = tuple(str(r.get(k)) for k in keys)
        if key in seen:
            continue
        seen.add(key)
        family = [x for x in rows.to_dict("records") if tuple(str(x.get(k)) for k in keys) == key]
        if len(family) > 1 and all(_present(x.get("time")) for x in family):
            null = _null(family[0])
            size = (lambda x: abs(np.log(float(x["median"])))) if null == 1.0 else (
                lambda x: abs(float(x["median"]) - null))
            out.append((max(family, key=size), len(family)))
        else:
            out.extend((x, 1) for x in family)
    return out


def _twin_row(result, r: dict) -> dict | None:
    """The row of the frequentist table a contrast's p came from (the one row of any ``frequentist_extra`` table
    with a ``df`` column whose unadjusted p equals the estimate's ``freq_p``), or None."""
    p = r.get("freq_p")
    if not _present(p) or not 0.0 < float(p) < 1.0:
        return None
    found = []
    for table in (result.frequentist_extra or {}).values():
        if isinstance(table, pd.DataFrame) and {"df", "p"} <= set(table.columns):
            found += [x for x in table.to_dict("records") if _present(x.get("p")) and float(x["p"]) == float(p)]
    dfs = {float(x["df"]) for x in found if _present(x.get("df"))}
    return found[0] if len(dfs) == 1 else None


def _apa_t(result, r: dict) -> str:
    """"t(32) = −6.93, Sidak-adjusted p < .001" of an estimate's frequentist twin ("" without one).

    t is the twin's own when its table has it, else the t that gives its two-sided p on its df
    (a contrast on the log scale, back-transformed for the table, keeps its t).
    """
    if not _present(r.get("freq_p")) and not _present(r.get("freq_p_adjusted")):
        return ""
    p_adj = r.get("freq_p_adjusted")
    adjusted = _present(p_adj) and not (_present(r.get("freq_p")) and float(p_adj) == float(r["freq_p"]))
    if adjusted:
        word = _adjust_word(r.get("freq_method")) or "adjusted"
        p_text = fmt_p(p_adj).replace("p ", f"{word}-adjusted p ", 1)
    else:
        p_text = fmt_p(r.get("freq_p") if _present(r.get("freq_p")) else p_adj)
    twin = _twin_row(result, r)
    if twin is None:
        return p_text
    df = float(twin["df"])
    t = twin.get("t")
    if not _present(t):
        from scipy import stats

        size = float(stats.t.isf(float(r["freq_p"]) / 2.0, df))
        null = _null(r)
        est = float(r["freq_estimate"]) if _present(r.get("freq_estimate")) else float(r["median"])
        if not np.isfinite(size) or est == null:
            return p_text
        t = size if est > null else -size
    return f"{fmt_t(df, t)}, {p_text}"


def _apa_survival(s) -> str:
    """The censoring-aware test in APA style: "log-rank χ²(1) = 7.16, Sidak-adjusted p = .029"."""
    if not isinstance(s, dict):
        return ""
    if s.get("test") == "log-rank":
        return (f"log-rank {fmt_chisq(s['df'], s['chisq'])}, "
                + fmt_p(s["p_adjusted"]).replace("p ", "Sidak-adjusted p ", 1))
    if str(s.get("test", "")).startswith("Cox") and s.get("estimable", True) and _present(s.get("hazard_ratio")):
        return (f"Cox model, hazard ratio = {fmt_number(s['hazard_ratio'], 2)}, z = {fmt_number(s['z'], 2)}, "
                f"{fmt_p(s['p'])}")
    return ""


def _apa_item(result, r: dict, n: int) -> str:
    """One estimate: label, Bayesian median with its interval, P(direction) and BF, then its frequentist twin."""
    ci, kind = _ci(result)
    unit = unit_of(r.get("scale")) or (
        f"\u00a0{outcome_unit(result)}" if outcome_unit(result) and r.get("scale") in OUTCOME_UNIT_SCALES else "")
    d = decimals_for(r["ci_low"], r["ci_high"])
    event, prob = _event(r)
    null = _null(r)
    est = fmt_number(r["median"], d, sign=null == 0.0 and r.get("name") != "blockade_pct")
    label = _cell(r.get("label") or r.get("name")).replace("|", ", ")
    if "ratio" in str(r.get("scale") or ""):
        label += f" ({r['scale']})"
    if n > 1:
        label += f" (the largest of {n} times)"
    bound_unit = unit if unit == "%" else ""
    text = (f"{_APA_PREFIX.get(str(r.get('name')), '')}{label}: {est}{unit}, {ci} {kind} "
            f"{fmt_apa_interval(r['ci_low'], r['ci_high'], d, unit=bound_unit)}, {fmt_prob(prob, event=event)}")
    bf = (result.checks or {}).get("bayes_factor")
    if r.get("name") == "interaction" and isinstance(bf, pd.DataFrame) and len(bf):
        main = bf[bf["prior_multiplier"] == 1.0]
        by_cell = main[main["cell"] == r.get("cell")]
        main = by_cell if len(by_cell) == 1 or "contrast" not in main else main[main["contrast"] == r.get("label")]
        if len(main) == 1:
            value = fmt_bf(main["BF10"].iloc[0])
            text += f", BF10 {value}" if value[0] in "<>" else f", BF10 = {value}"
    twin = [x for x in (_apa_survival(r.get("freq_survival")), _apa_t(result, r)) if x]
    if len(twin) == 2:  # a censored outcome: the test that respects the censoring first
        twin[1] += " with censored values taken at the cut-off"
    return text + ("; " + "; ".join(twin) if twin else "") + "."


def _apa_anova(result) -> str:
    """The F table in APA style, GG-corrected df where the twin corrected them:
    "...: treatment, F(2, 16) = 39.53, p < .001, η²p = .83; hour, F(3.73, 59.75) = 3.99, p = .007, η²p = .20
    (Greenhouse-Geisser ε = .75); ..."."""
    a = result.anova
    if a is None or a.empty:
        return ""
    bits = []
    for r in a.to_dict("records"):
        eff = str(r["effect"]).replace(":", f" {TIMES} ")
        stat = ""
        if _present(r.get("test")) and _present(r.get("statistic")):
            name = _MULTIVARIATE_STATISTIC.get(str(r["test"]), str(r["test"]))
            stat = f"{name} = {fmt_number(r['statistic'], 2)}, "
        if _present(r.get("epsilon_gg")) and _present(r.get("p_gg")):
            eps = float(r["epsilon_gg"])
            text = (f"{eff}, {stat}{fmt_F(eps * float(r['df_num']), eps * float(r['df_den']), r['F'])}, "
                    f"{fmt_p(r['p_gg'])}")
            corrected = f" (Greenhouse-Geisser \u03b5 = {fmt_bounded(eps, 2)})"
        else:
            text = f"{eff}, {stat}{fmt_F(r['df_num'], r['df_den'], r['F'])}, {fmt_p(r['p'])}"
            corrected = ""
        if _present(r.get("partial_eta_sq")):
            text += f", \u03b7\u00b2p = {fmt_bounded(r['partial_eta_sq'], 2)}"
        bits.append(text + corrected)
    return get_design(result.design).anova_head(result) + ": " + "; ".join(bits) + "."


def apa_paragraph(result) -> str:
    """One results paragraph a reader can paste: each headline estimate (a family over time by its largest
    effect) with its posterior median, interval, P(direction) and, for the interaction, the Savage-Dickey
    BF10, beside its frequentist twin in APA style (the censoring-aware test first for a censored outcome,
    then t(df) and p); then the F table (corrected df where the twin corrected them, p, η²p).

    Plain text; numbers through `bayes_igf1.report.format` (APA: no leading zero for p, η²p and ε, two
    decimals for F and t, corrected df to two decimals). Built from ``result.estimates``, ``result.anova``,
    ``result.frequentist_extra`` and ``result.checks`` only, whatever the design.
    """
    parts = []
    if not result.diagnostics.passed:
        parts.append("[The sampler failed its diagnostics gate: do not report the posterior numbers.]")
    parts += [_capital(_apa_item(result, r, n)) for r, n in _apa_items(result)]
    anova = _apa_anova(result)
    if anova:
        parts.append(_capital(anova))
    return " ".join(parts)


def results_paragraph(result, *, apa: bool = True) -> str:
    """One sentence per headline estimand, then the F tests and the Bayesian ANOVA.

    Paragraphs (separated by a blank line): the warning of a failed gate, the Bayesian
    estimates, the frequentist F tests and the Bayesian ANOVA, and (``apa=True``) last the
    `apa_paragraph` a reader can paste.
    """
    family = {"effect_range": "effect_vs_reference", "sustained": "auc_difference", "bayes_anova": "anova",
              "blockade_pct": "interaction", "cohens_d": "interaction"}
    paras: list[list[str]] = []
    last = None
    for kind, sentence in results_sentences(result):
        fam = family.get(kind, kind)
        if fam != last or kind == "effect_vs_reference":
            paras.append([])
        paras[-1].append(_capital(sentence))
        last = fam
    if apa:
        paras.append([apa_paragraph(result)])
    return "\n\n".join(" ".join(p) for p in paras if p)


def _capital(sentence: str) -> str:
    """Capitalise the first letter unless the first word has capitals of its own ("nAb")."""
    first = sentence.split(" ", 1)[0]
    if first[:1].islower() and first[1:] == first[1:].lower():
        return sentence[:1].upper() + sentence[1:]
    return sentence


# ----------------------------------------------------------------------------- checks


def _prior_scale_text(table: pd.DataFrame) -> str:
    """The largest shift of a headline posterior median when every prior scale is halved or doubled."""
    base = table[table["multiplier"] == 1.0].set_index("label")
    worst, worst_label, worst_mult = -1.0, "", 1.0
    for r in table[table["multiplier"] != 1.0].to_dict("records"):
        b = base.loc[r["label"]]
        width = float(b["ci_high"] - b["ci_low"])
        if not np.isfinite(width) or width <= 0 or not np.isfinite(r["median"]):
            continue
        shift = abs(float(r["median"] - b["median"])) / width
        if shift > worst:
            worst, worst_label, worst_mult = shift, r["label"], r["multiplier"]
    mults = ", ".join(f"×{m:g}" for m in sorted(set(table["multiplier"])) if m != 1.0)
    if worst < 0:
        return f"Prior scales {mults}: refitted; see tables/checks_prior_scale.csv."
    return (f"Prior scales {mults} (every prior scale multiplied, model refitted): the largest shift of a "
            f"headline posterior median was {fmt_number(100 * worst, 0)}% of its 95% interval width "
            f"({worst_label}, prior ×{worst_mult:g}); every estimand under each scale is in "
            "tables/checks_prior_scale.csv.")


def _comparison_text(table: pd.DataFrame) -> str:
    """PSIS-LOO comparison of the model with its alternatives, with stacking weights."""
    parts = []
    for i, r in enumerate(table.to_dict("records")):
        diff = "" if i == 0 else f", elpd difference {fmt_number(r['elpd_diff'], 1)} (SE {fmt_number(r['dse'], 1)})"
        parts.append(f"{r['model']}: elpd_loo {fmt_number(r['elpd_loo'], 1)}{diff}, stacking weight "
                     f"{fmt_number(r['weight'], 2)}")
    return "Model comparison (PSIS-LOO, best first, stacking weights): " + "; ".join(parts) + "."


def checks_text(result) -> list[str]:
    """Model checking, as sentences: diagnostics numbers, predictive checks, LOO, sensitivity, assumption tests."""
    d = result.diagnostics
    th = d.thresholds
    out = [
        (f"Diagnostics gate {'passed' if d.passed else 'FAILED'}: max R-hat {fmt_number(d.max_rhat, 3)} "
         f"(≤ {th.rhat_max:g}), min bulk ESS {fmt_number(d.min_ess_bulk, 0)} and min tail ESS "
         f"{fmt_number(d.min_ess_tail, 0)} (≥ {th.ess_min:g}), {int(d.divergences)} divergent transitions, "
         f"min E-BFMI {fmt_number(d.min_bfmi, 2)}, {int(d.treedepth_saturated)} draws at the maximum tree depth"
         + (f"; sampling took {fmt_number(d.sampling_seconds, 0)} s in {d.attempts} fit{'s' if d.attempts != 1 else ''}."
            if np.isfinite(d.sampling_seconds) else ".")
         + ("" if d.passed else " Problems: " + "; ".join(_problem_words(p, result) for p in d.problems) + "."))
    ]
    checks = result.checks or {}
    ppc = checks.get("ppc")
    if ppc:
        out.append(_ppc_text(ppc))
    elif "posterior_predictive" in result.tree.children:
        out.append("Posterior predictive check: graphical only (Figure ppc, one panel per group); no numeric "
                   "posterior predictive p-values were computed.")
    else:
        out.append("Posterior predictive check: not run.")
    pp = checks.get("prior_predictive")
    if isinstance(pp, dict) and pp:
        out.append(_prior_predictive_text(pp))
    loo = checks.get("loo")
    out.append("Leave-one-out cross-validation (PSIS-LOO): " + (_loo_text(loo) if loo else "not run."))
    sens = checks.get("sensitivity")
    out.append("Prior sensitivity: " + (_sensitivity_text(sens, result) if sens else "not run."))
    for key, value in checks.items():
        if key in ("ppc", "loo", "sensitivity", "prior_predictive"):
            continue
        if key == "bayes_factor" and isinstance(value, pd.DataFrame) and len(value):
            for cell, grp in value.groupby("cell", sort=False):
                main = grp[grp["prior_multiplier"] == 1.0]
                main = main.iloc[0] if len(main) else grp.iloc[0]
                others = grp[grp["prior_multiplier"] != 1.0]
                sens = "; ".join(f"prior scale ×{m:g}: {fmt_bf(v)}"
                                 for m, v in zip(others["prior_multiplier"], others["BF10"], strict=True))
                bf_value = fmt_bf(main["BF10"])
                out.append(f"Bayes factor of the interaction {main['contrast']}: BF10 "
                           f"{bf_value if bf_value[0] in '<>' else '= ' + bf_value}, "
                           f"{bf_category(main['BF10'], h1='an interaction', h0='no interaction')} (interaction "
                           f"prior Normal(0, {main['interaction_prior_sd']:.4g}); {_bf_method_words(main['method'])})"
                           + (f"; sensitivity to the prior scale: {sens}." if sens else "; prior sensitivity not run."))
            continue
        if key == "censoring" and isinstance(value, dict) and "observed_censored" in value:
            lo, hi = value["predicted_censored_90"]
            at = ("each replicate censored at its animal's own censoring time" if value.get("per_row_censoring_times")
                  else f"replicates censored at the cut-off ({fmt_number(value['cut_off'], 0)}"
                       f"{chr(160) + outcome_unit(result) if outcome_unit(result) else ''})")
            out.append(f"Censoring: {value['observed_censored']} values observed censored; the model predicts "
                       f"{fmt_number(value['predicted_censored_median'], 0)} (90% interval {fmt_number(lo, 0)}–"
                       f"{fmt_number(hi, 0)}; {fmt_p(value['p'])}, P(predicted ≥ observed)), {at}.")
            continue
        if key == "prior_scale" and isinstance(value, pd.DataFrame) and len(value):
            out.append(_prior_scale_text(value))
            continue
        if key == "model_comparison" and isinstance(value, pd.DataFrame) and len(value):
            out.append(_comparison_text(value))
            continue
        out.append(f"{key.replace('_', ' ').capitalize()}: {_describe(value)}")
    extra = result.frequentist_extra or {}
    mauchly = extra.get("mauchly")
    if isinstance(mauchly, pd.DataFrame) and len(mauchly):
        bits = [f"{str(r['effect']).replace(':', f' {TIMES} ')} W = {fmt_bounded(r['W'], 2)}, {fmt_p(r['p'])}"
                for r in mauchly.to_dict("records")]
        out.append("Frequentist assumptions: Mauchly's test of sphericity: " + "; ".join(bits) + ".")
    for key in ("assumptions", "assumption_checks"):
        a = extra.get(key)
        if isinstance(a, dict) and a:
            if "shapiro_W" in a:
                text = (f"Frequentist assumptions: Shapiro-Wilk of the residuals W = {fmt_number(a['shapiro_W'], 3)}, "
                        f"{fmt_p(a.get('shapiro_p'))}")
                if "levene_F" in a:
                    text += (f"; Levene (median-centred) {fmt_F(a.get('levene_df_num'), a.get('levene_df_den'), a['levene_F'])}, "
                             f"{fmt_p(a.get('levene_p'))}")
                out.append(text + "." + (f" {a['note']}" if a.get("note") else ""))
            else:
                out.append("Frequentist assumptions: " + _describe(a))
    return out


def _ppc_text(ppc: dict) -> str:
    stats = ppc.get("statistics") or []
    n = len(stats)
    extreme = [r for r in stats if _present(r.get("p")) and (float(r["p"]) < 0.025 or float(r["p"]) > 0.975)]
    names = list(dict.fromkeys(statistic_words(r.get("statistic")) for r in stats))
    what = ("the mean, SD, minimum and maximum" if set(names) <= {"mean", "SD", "minimum", "maximum"} else
            _list(names) if names else "statistics")
    censored = "censored" in str(ppc.get("scale", ""))
    text = (f"Posterior predictive check: posterior predictive p-values P(T(y_rep) ≥ T(y)) of {what} of each group "
            f"({n} statistics, on {ppc_scale_words(ppc.get('scale'))}"
            + ("; each replicate censored at its animal's own censoring time, as the data were" if censored else "")
            + "; see the table of posterior predictive p-values): ")
    if extreme:
        bits = [f"{_cell(r['group'])} {statistic_words(r['statistic'])} ({fmt_p(r['p'], symbol='p')})" for r in extreme]
        text += f"{len(extreme)} outside [.025, .975]: " + "; ".join(bits) + "."
    else:
        text += "none outside [.025, .975]."
    return text + " The posterior predictive check figure shows the densities."


def _prior_predictive_text(pp: dict) -> str:
    q = pp.get("quantiles") or {}
    text = (f"Prior predictive range: {fmt_number(100 * float(pp.get('share_outside', float('nan'))), 0)}% of the "
            f"values simulated from the priors fall outside the plausible range "
            f"{fmt_interval(pp.get('low'), pp.get('high'), 2)}")
    if pp.get("note"):
        text += f" ({pp['note']})"
    if q:
        text += (f"; 1%, 50% and 99% quantiles {fmt_number(q.get('q01'), 2)}, {fmt_number(q.get('q50'), 2)} and "
                 f"{fmt_number(q.get('q99'), 2)}")
    return text + "."


def _loo_text(loo: dict) -> str:
    if not isinstance(loo, dict) or "elpd_loo" not in loo:
        return _describe(loo)
    flagged = loo.get("animals_flagged") or []
    return (f"expected log pointwise predictive density elpd_loo = {fmt_number(loo['elpd_loo'], 1)} "
            f"(SE {fmt_number(loo.get('se'), 1)}), effective number of parameters p_loo = "
            f"{fmt_number(loo.get('p_loo'), 1)}; {loo.get('n_pareto_k_gt_0.7', '?')} of {loo.get('n_obs', '?')} "
            f"observations with Pareto k > 0.7 (max {fmt_number(loo.get('max_pareto_k'), 2)})"
            + (f"; animals flagged: {_list(flagged)}." if flagged else "; no animal flagged."))


def _sensitivity_text(sens: dict, result=None) -> str:
    if not isinstance(sens, dict) or "table" not in sens:
        return _describe(sens)
    table = sens.get("table") or []
    flagged = sens.get("flagged") or []
    method = str(sens.get("method", ""))
    threshold = re.search(r"threshold ([0-9.]+)", method)
    text = ("power-scaling of the prior and of the likelihood (Kallioinen et al. 2024)"
            + (f", an element flagged when its sensitivity exceeds {threshold[1]}" if threshold else "")
            + f": {len(flagged)} of {len(table)} estimand elements flagged")
    if flagged:
        text += ": " + "; ".join(
            f"{parameter_words(r['estimand'], result, symbol=False)}{(' ' + _cell(r['element']).replace('|', ', ')) if str(r.get('element') or '').strip() else ''} "
            f"(prior {fmt_number(r['prior'], 3)}, likelihood {fmt_number(r['likelihood'], 3)}: {r['diagnosis']})"
            for r in flagged[:8])
        if len(flagged) > 8:
            text += f"; and {len(flagged) - 8} more (tables/checks_sensitivity.csv)"
    return text + "."


def _problem_words(problem: str, result=None) -> str:
    """A diagnostics problem with the parameter in words: "R-hat 1.016 > 1.01 (cell_mean[saline, nAb, M])" ->
    "R-hat 1.016 > 1.01 (cell means, saline, nAb, M)"."""
    def words(m: re.Match) -> str:
        inside = m[2].strip()
        return f"({parameter_words(m[1], result, symbol=False)}{', ' + inside.replace('|', ', ') if inside else ''})"

    return re.sub(r"\(([A-Za-z_][\w:]*)\[([^\]]*)\]\)", words, str(problem))


def _bf_method_words(method) -> str:
    """The Savage-Dickey method as text, without nested parentheses."""
    text = str(method or "Savage-Dickey density ratio")
    return text.replace(" (null in its far tail)", ", the null being in its far tail")


def _describe(obj) -> str:
    """A short, generic text of a check's dict / frame / value (keys in words, numbers to 3 significant digits)."""
    if isinstance(obj, pd.DataFrame):
        return f"table of {len(obj)} rows (see results.json)."
    if isinstance(obj, dict):
        bits = []
        for k, v in obj.items():
            if isinstance(v, (dict, list, pd.DataFrame)):
                continue
            key = str(k).replace("_", " ")
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                bits.append(f"{key}: {v}")
            elif k == "p" or str(k).endswith("_p"):
                bits.append(f"{key} {fmt_p_value(v)}" if fmt_p_value(v)[0] in "<>" else f"{key} = {fmt_p_value(v)}")
            else:
                bits.append(f"{key} = {fmt_num(v)}")
        return "; ".join(bits) + "." if bits else "see results.json."
    return f"{obj}."


# -------------------------------------------------------------------------- checklist


def _bf_sensitivity(checks: dict) -> bool:
    bf = checks.get("bayes_factor")
    return isinstance(bf, pd.DataFrame) and "prior_multiplier" in bf and bf["prior_multiplier"].nunique() > 1


def checklist(result, *, figures: bool = True, store: str = "posterior.nc") -> list[tuple[str, str, str]]:
    """(guideline, item, where it is answered / "not done ...") for the BARG and ARRIVE 2.0 statistics items."""
    S = SECTIONS
    checks = result.checks or {}
    rope = _present(result.settings.get("rope"))
    has_ppc = "posterior_predictive" in result.tree.children
    has_prior = "prior_predictive" in result.tree.children
    rope_unit = get_design(result.design).rope_unit(result) if rope else ""
    rows = [
        ("BARG", "Preamble: why a Bayesian analysis, its goals", f"{S['methods']} (first sentence)"),
        ("BARG", "Model: likelihood and structure, with formulas", f"{S['methods']} (model text and formulas)"),
        ("BARG", "Priors: every prior stated and justified",
         f"{S['methods']} (priors, scaled to the data)"
         + (f"; prior predictive range: {S['figures']}" if has_prior and figures else "")
         + (f", {S['checks']}" if "prior_predictive" in checks else "")),
        ("BARG", "MCMC computation: sampler, chains, draws, tuning, seed", f"{S['methods']}"),
        ("BARG", "MCMC diagnostics: R-hat, ESS, divergences",
         f"{S['checks']} and the diagnostics tables in {S['tables']}"
         + ("" if result.diagnostics.passed else " (gate FAILED: see the banner)")),
        ("BARG", "Posterior summaries with credible intervals", f"{S['results']}; {S['tables']}"),
        ("BARG", "Decision criteria (ROPE, Bayes factor)",
         f"{S['results']}, {S['tables']} (ROPE ±{result.settings.get('rope'):g}{rope_unit})" if rope else
         (f"Bayes factor of the interaction: {S['results']}, {S['checks']}; no ROPE set" if "bayes_factor" in checks else
          "not done: no ROPE or Bayes factor in this result (P(direction) is descriptive, not a decision rule)")),
        ("BARG", "Posterior predictive check",
         (f"{S['checks']} (posterior predictive p-values)" + (f"; {S['figures']}" if has_ppc and figures else "")
          if "ppc" in checks else
          (f"{S['figures']} (graphical)" if has_ppc and figures else "not done"))),
        ("BARG", "Sensitivity analysis of the priors",
         f"{S['checks']} (power-scaling sensitivity of every reported estimand)" if "sensitivity" in checks else
         (f"{S['checks']} (Bayes factor only: cell-mean prior scale halved and doubled); not done for the estimates"
          if _bf_sensitivity(checks) else "not done: no prior sensitivity analysis in this result")),
        ("BARG", "Reproducibility: data, code, settings, software versions",
         f"{S['methods']} (seed, versions); results.json (settings); {store} (every draw)"),
        ("ARRIVE\u00a02.0", "1b Experimental unit", f"{S['data']} (the animal)"),
        ("ARRIVE\u00a02.0", "2a Sample size per group and in total", f"{S['data']}"),
        ("ARRIVE\u00a02.0", "2b How the sample size was decided", "not in this result: the authors must state it"),
        ("ARRIVE\u00a02.0", "3 Inclusion / exclusion criteria, exclusions with reasons, n analysed",
         f"{S['data']} (row ledger; animals the ANOVA left out)"),
        ("ARRIVE\u00a02.0", "7a Statistical methods for each analysis", f"{S['methods']}"),
        ("ARRIVE\u00a02.0", "7b Assumptions checked",
         f"{S['checks']} (" + ", ".join(
             [w for w, on in (("posterior predictive checks", has_ppc or "ppc" in checks),
                              ("PSIS-LOO", "loo" in checks),
                              ("sphericity (Mauchly)", "mauchly" in (result.frequentist_extra or {})),
                              ("normality and equal variances", "assumptions" in (result.frequentist_extra or {})))
              if on]) + ")"),
        ("ARRIVE\u00a02.0", "10 Results: effect sizes with intervals, for every analysis", f"{S['results']}; {S['tables']}"),
    ]
    return rows
