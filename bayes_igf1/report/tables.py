"""Side-by-side tables: contrasts, F table beside the Bayesian ANOVA, diagnostics.

Each ``*_table`` function returns a DataFrame of display strings (numbers formatted by
`bayes_igf1.report.format`); `write_tables` writes each as ``tables/<name>.csv`` and
``tables/<name>.tex`` (booktabs) and the full numeric estimates as ``tables/estimates.csv``.

Every CSV is written by `write_csv`, which guards against CSV (formula) injection by the OWASP
rule: a text cell (or header) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading single quote, so that a spreadsheet shows it as text instead of running it
(a level named ``-IgG`` is written ``'-IgG``, ``=SUM(A1)`` as ``'=SUM(A1)``). Numbers are left
as they are: numeric columns, and text cells that hold only a number as the tables print it
(``-3.2``, ``+12%``, ``−0.5 [−1.2, 0.3]``, ``1.2e-05``), since digits, signs and brackets
cannot make a formula that reaches outside the sheet. ``results.json`` is not escaped.
"""

from __future__ import annotations

from pathlib import Path

import re

import numpy as np
import pandas as pd

from bayes_igf1.designs.base import get_design
from bayes_igf1.report.format import (
    MISSING,
    TIMES,
    decimals_for,
    fmt_bounded,
    fmt_df,
    fmt_estimate,
    fmt_number,
    fmt_p_value,
    fmt_prob,
    outcome_axis,
)

__all__ = [
    "CONTRAST_NAMES",
    "descriptives_table",
    "anova_table",
    "contrast_table",
    "diagnostics_by_variable",
    "diagnostics_table",
    "effect_name",
    "latex_escape",
    "csv_safe",
    "parameter_words",
    "ppc_scale_words",
    "statistic_words",
    "to_latex",
    "write_csv",
    "write_tables",
]

#: Estimands shown in the contrast table, in this order (both designs).
CONTRAST_NAMES = (
    "effect_vs_reference", "between_treatments", "auc_difference", "sustained",
    "simple_effect", "pct_change", "simple_interaction", "interaction", "blockade_pct", "blockade_auc_pct",
    "covariate_slope", "cohens_d", "cohens_d_total",
)


def _ci_words(result) -> tuple[str, str]:
    """("95%", "HDI") from the result's settings."""
    prob = float(result.settings.get("ci_prob", 0.95))
    kind = str(result.settings.get("ci_kind", "hdi")).upper()
    return f"{100 * prob:g}%", kind


def unit_of(scale) -> str:
    """"%" for estimands reported in percent, "" otherwise."""
    s = str(scale) if scale is not None and not (isinstance(scale, float) and np.isnan(scale)) else ""
    return "%" if s.startswith(("%", "percent")) or "% change" in s or s.endswith("(%)") else ""


def _present(x) -> bool:
    return x is not None and not (isinstance(x, float) and np.isnan(x)) and x is not pd.NA


def frequentist_scale_note(result) -> str:
    """"" when the frequentist contrasts share the Bayesian reporting scale, else the scale they are on."""
    return get_design(result.design).frequentist_scale_note(result)


def _adjust_word(method) -> str:
    m = str(method or "").lower()
    for word, out in (("sidak", "Sidak"), ("tukey", "Tukey"), ("holm", "Holm"), ("bonferroni", "Bonferroni")):
        if word in m:
            return out
    return ""


def contrast_table(result) -> pd.DataFrame:
    """Headline contrasts: posterior median [HDI], P(direction), P(ROPE), frequentist estimate [CI], adjusted p."""
    ci, kind = _ci_words(result)
    e = result.estimates
    rows = []
    any_adjusted = False
    for name in CONTRAST_NAMES:
        sub = e[e["name"] == name]
        if name == "effect_vs_reference" or name == "between_treatments":
            sub = sub.sort_values(["label"], kind="stable") if "time" not in sub else sub
        for r in sub.to_dict("records"):
            unit = unit_of(r.get("scale"))
            if name == "sustained":
                post, pdir = MISSING, fmt_prob(r.get("mean"))
            elif name == "blockade_pct":
                post = fmt_estimate(r.get("median"), r.get("ci_low"), r.get("ci_high"), unit=unit)
                pdir = fmt_prob(r.get("prob_above"))
            else:
                post = fmt_estimate(r.get("median"), r.get("ci_low"), r.get("ci_high"), unit=unit)
                pdir = fmt_prob(r.get("prob_direction"))
            has_freq = _present(r.get("freq_estimate"))
            # The interval beside an adjusted p is adjusted the same way (Sidak), where there is one.
            adjusted = _present(r.get("freq_ci_low_adjusted"))
            lo, hi = (r.get("freq_ci_low_adjusted"), r.get("freq_ci_high_adjusted")) if adjusted else (
                r.get("freq_ci_low"), r.get("freq_ci_high"))
            any_adjusted = any_adjusted or adjusted
            freq_d = decimals_for(lo, hi) if _present(lo) else decimals_for(r.get("ci_low"), r.get("ci_high"))
            freq = fmt_estimate(r.get("freq_estimate"), lo, hi, unit=unit, decimals=freq_d) if has_freq else MISSING
            p_adj = r.get("freq_p_adjusted") if _present(r.get("freq_p_adjusted")) else r.get("freq_p")
            rows.append({
                "Contrast": _display_label(r, result),
                f"Posterior median [{ci} {kind}]": post,
                "P(direction)": pdir,
                "P(in ROPE)": fmt_prob(r.get("prob_in_rope")) if _present(r.get("prob_in_rope")) else MISSING,
                f"Frequentist estimate [{ci} CI]": freq,
                "p (adjusted)": fmt_p_value(p_adj) if has_freq else MISSING,
                "_method": r.get("freq_method"),
            })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    if (out["P(in ROPE)"] == MISSING).all():
        out = out.drop(columns="P(in ROPE)")
    note = frequentist_scale_note(result)
    if note:
        out = out.rename(columns={f"Frequentist estimate [{ci} CI]": f"Frequentist estimate [{ci} CI] (on {note})"})
    adjust = {_adjust_word(m) for m in out["_method"].dropna()} - {""}
    word = adjust.pop() if len(adjust) == 1 else ""
    if word:
        out = out.rename(columns={"p (adjusted)": f"p ({word})"})
    if any_adjusted:
        freq_col = next(c for c in out.columns if c.startswith("Frequentist estimate"))
        out = out.rename(columns={freq_col: freq_col.replace(f"[{ci} CI]", f"[{ci} CI, {word or 'adjusted'} as p]")})
    return out.drop(columns="_method")


def _display_label(r: dict, result) -> str:
    label = str(r.get("label") or r.get("name"))
    name = r.get("name")
    if name == "sustained":
        return f"{str(r.get('group')).replace('|', ', ')} > {str(r.get('reference')).replace('|', ', ')} at every time"
    if name in ("blockade_pct", "blockade_auc_pct"):
        return f"{label} [P: blockade > 50%]"
    if name in ("simple_effect", "interaction", "simple_interaction") and "ratio" in str(r.get("scale") or ""):
        return f"{label} ({r.get('scale')})"
    if name in ("auc", "auc_difference"):
        unit = result.sheet.time_unit or str(result.settings.get("time", "time"))
        traj = result.estimates.loc[result.estimates["name"] == "trajectory", "scale"]
        what = str(traj.iloc[0]) if len(traj) else "value"
        return f"{label} ({what} {TIMES} {unit})"
    return label.replace("|", "/")


def fmt_large_bf(bf) -> str:
    """An inclusion Bayes factor to 3 significant figures, powers of ten beyond 10^±3 ("3.26 × 10^14")."""
    bf = float(bf)
    if not np.isfinite(bf) or bf <= 0:
        return MISSING if not np.isfinite(bf) else "0"
    exponent = int(np.floor(np.log10(bf)))
    if -3 <= exponent < 3:
        return f"{bf:.3g}"
    return f"{bf / 10.0 ** exponent:.3g} {TIMES} 10^{exponent}"


def effect_name(source: str, result) -> str:
    """The F table's name of a Bayesian ANOVA source ("group:time" -> "treatment:hour")."""
    return get_design(result.design).effect_name(source, result)


def anova_table(result) -> pd.DataFrame:
    """The frequentist F table beside the Bayesian ANOVA (finite-population SD and partial eta squared), row by row."""
    ci, kind = _ci_words(result)
    freq = result.anova.copy() if result.anova is not None else pd.DataFrame()
    bayes = result.bayes_anova.copy() if result.bayes_anova is not None else pd.DataFrame()
    if len(bayes):
        bayes["effect"] = [effect_name(s, result) for s in bayes["source"]]
    effects = list(freq["effect"]) if len(freq) else []
    effects += [b for b in (bayes["effect"] if len(bayes) else []) if b not in effects]
    rows = []
    for eff in effects:
        f = freq[freq["effect"] == eff].iloc[0].to_dict() if len(freq) and (freq["effect"] == eff).any() else {}
        b = bayes[bayes["effect"] == eff].iloc[0].to_dict() if len(bayes) and (bayes["effect"] == eff).any() else {}
        row = {"Effect": eff.replace(":", f" {TIMES} ")}
        if f:
            row["df"] = f"{fmt_df(f.get('df_num'))}, {fmt_df(f.get('df_den'))}"
            row["F"] = fmt_number(f.get("F"), 2)
            row["p"] = fmt_p_value(f.get("p"))
            for tag in ("gg", "hf"):
                eps, p = f.get(f"epsilon_{tag}"), f.get(f"p_{tag}")
                # the corrected test: df x epsilon (at most 1: the df its p was computed on), its p, and epsilon
                used = min(float(eps), 1.0) if _present(eps) else eps
                row[f"{tag.upper()}: df, p (ε)"] = (
                    f"{fmt_df(used * f['df_num'])}, {fmt_df(used * f['df_den'])}; {fmt_p_value(p)} "
                    f"({fmt_bounded(eps, 2)})" if _present(eps) and _present(p) else MISSING)
            row["partial η²"] = fmt_bounded(f.get("partial_eta_sq"), 2)
            row["generalized η²"] = fmt_bounded(f.get("generalized_eta_sq"), 2)
        if b:
            row[f"Bayesian SD [{ci} {kind}]"] = fmt_estimate(b.get("sd_median"), b.get("sd_ci_low"), b.get("sd_ci_high"),
                                                            decimals=max(decimals_for(b.get("sd_ci_low"), b.get("sd_ci_high")), 2))
            row[f"Bayesian partial η² [{ci} {kind}]"] = (
                f"{fmt_bounded(b.get('eta_median'), 2)} [{fmt_bounded(b.get('eta_ci_low'), 2)}\u2013"
                f"{fmt_bounded(b.get('eta_ci_high'), 2)}]" if _present(b.get("eta_median")) else MISSING)
            if _present(b.get("BF_incl")):  # JASP-style inclusion BF (all models; matched models), relative error
                row["BF inclusion (± error)"] = (f"{fmt_large_bf(b['BF_incl'])} (±{float(b['BF_incl_error']):.1%}); "
                                                 f"matched {fmt_large_bf(b['BF_incl_matched'])}")
        rows.append(row)
    out = pd.DataFrame(rows).fillna(MISSING)
    for col in ("GG: df, p (ε)", "HF: df, p (ε)"):
        if col in out and (out[col] == MISSING).all():
            out = out.drop(columns=col)
    return out


def _model_term(term: str, factors: list[str]) -> str:
    """An R model term in words: "treatmentketamine:antibodyIGF-1 nAb" -> "treatment ketamine × antibody IGF-1 nAb"."""
    parts = []
    for piece in term.split(":"):
        f = next((f for f in sorted(factors, key=len, reverse=True) if piece.startswith(f)), None)
        parts.append(f"{f} {piece[len(f):]}" if f else piece)
    return f" {TIMES} ".join(parts)


def _within_words(within) -> str:
    """The frequentist tables' "antibody=IgG, sex=F" as the contrast labels write it: "IgG, F"."""
    return ", ".join(part.split("=", 1)[-1].strip() for part in str(within).split(","))


def survival_table(result) -> pd.DataFrame:
    """Censored outcome: Kaplan-Meier median per cell, log-rank test per simple effect (Sidak), Cox model."""
    extra = result.frequentist_extra or {}
    if "logrank" not in extra:
        return pd.DataFrame()
    factors = list(result.sheet.factors)
    rows = []
    for r in extra["km_median"].to_dict("records"):
        rows.append({"Analysis": "Kaplan-Meier median", "Term": "/".join(str(r[f]) for f in factors),
                     "Estimate": str(r["median_label"]) if r["median_reached"] else f"not reached ({r['median_label']})",
                     "Test": f"{int(r['events'])} events of {int(r['n'])}", "p": MISSING})
    for r in extra["logrank"].to_dict("records"):
        rows.append({"Analysis": "Log-rank (Sidak)", "Term": f"{r['level']} vs {r['reference']} within {_within_words(r['within'])}",
                     "Estimate": MISSING, "Test": f"χ²({fmt_df(r['df'])}) = {fmt_number(r['chisq'], 2)}",
                     "p": fmt_p_value(r["p_adjusted"])})
    cox = extra.get("cox") if "cox" in extra else extra.get("cox_main")
    label = "Cox, with interaction" if "cox" in extra else "Cox, main effects only"
    if isinstance(cox, pd.DataFrame):
        for r in cox.to_dict("records"):
            rows.append({"Analysis": label, "Term": _model_term(str(r["term"]), factors),
                         "Estimate": f"HR {fmt_number(r['hazard_ratio'], 2)}",
                         "Test": f"z = {fmt_number(r['z'], 2)}", "p": fmt_p_value(r["p"])})
    return pd.DataFrame(rows)


def _plain_anova_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Effect": [str(e).replace(":", f" {TIMES} ") for e in frame["effect"]],
        "df": [f"{fmt_df(a)}, {fmt_df(b)}" for a, b in zip(frame["df_num"], frame["df_den"], strict=True)],
        "F": [fmt_number(x, 2) for x in frame["F"]],
        "p": [fmt_p_value(x) for x in frame["p"]],
        "partial η²": [fmt_bounded(x, 2) for x in frame["partial_eta_sq"]],
    })


#: What a model parameter or reported estimand of the models is, in words (their names in the model text).
PARAMETER_WORDS = {
    "cell_mean": "cell means", "sigma": "residual SD", "sigma_animal": "between-animal SD",
    "sd_animal": "between-animal SD", "sd_residual": "residual SD", "alpha": "animal intercepts",
    "animal_z": "standardised animal intercepts", "animal_effect": "animal intercepts",
    "beta": "group effects at each time", "mu": "grand mean", "nu": "Student-t degrees of freedom",
    "cohort_effect": "cohort effects", "cohort_z": "standardised cohort effects", "sigma_cohort": "between-cohort SD",
    "covariate_slope": "covariate slope", "chol_cov": "Cholesky factor of the residual covariance",
    "correlation": "residual correlations", "rho": "within-animal correlation",
    "trajectory": "trajectories", "effect_vs_reference": "effects vs the reference group",
    "between_treatments": "differences between treatments", "auc": "areas under the curve",
    "auc_difference": "differences in the area under the curve", "peak_value": "peak values",
    "peak_time": "peak times", "sustained": "sustained effect", "simple": "simple effects",
    "simple_effect": "simple effects", "pct_change": "% changes", "interaction": "interaction",
    "simple_interaction": "interactions within levels", "blockade_pct": "% blockade",
    "blockade_auc_pct": "% blockade over the AUC", "main_effect": "main effects", "grand_mean": "grand mean",
    "cohens_d": "Cohen's d", "cohens_d_total": "Cohen's d (total SD)", "cell_median": "cell medians",
    "mahalanobis_interaction": "length of the interaction vector (Mahalanobis)",
    "min_blockade_pct": "smallest % blockade over the outcomes", "residual_sd": "residual SD",
}

_FACTOR_LETTERS = "abcdefgh"


def parameter_words(name: str, result=None, *, symbol: bool = True) -> str:
    """A parameter or estimand of the model in words: "cell_mean" -> "cell means (cell_mean)",
    "estimand:simple_a" -> "simple effects of treatment (reported)", "estimand:o1_interaction" ->
    "FUST sniffing: interaction (reported)", "sigma[fst_immobility_s]" -> "residual SD of FST immobility (sigma)".

    Names it does not know are kept. ``symbol=False`` leaves out what is in parentheses.
    """
    name = str(name)
    reported = name.startswith("estimand:")
    base = name.removeprefix("estimand:")
    settings = getattr(result, "settings", None) or {}
    factors = list(getattr(getattr(result, "sheet", None), "factors", None) or settings.get("factors") or [])
    outcomes = list(settings.get("outcomes") or [])
    labels = dict(settings.get("labels") or {})
    prefix = ""
    m = re.match(r"^o(\d+)_(.+)$", base)
    if m and int(m[1]) < len(outcomes):
        out = outcomes[int(m[1])]
        prefix, base = f"{labels.get(out, out)}: ", m[2]
    inside = ""
    m = re.match(r"^([^\[]+)\[(.*)\]$", base)
    if m:
        base, inside = m[1], m[2]
    words = PARAMETER_WORDS.get(base)
    if words is None:
        stem, _, letters = base.rpartition("_")
        idx = [_FACTOR_LETTERS.find(ch) for ch in letters] if stem else []
        if stem in PARAMETER_WORDS and idx and all(0 <= i < len(factors) for i in idx):
            names = [factors[i] for i in idx]
            if stem in ("interaction", "simple_interaction"):
                words = f" {TIMES} ".join(names) + " interaction"
            elif stem.startswith("blockade"):
                words = f"{PARAMETER_WORDS[stem]} of the {names[0]} effect"
            else:
                words = f"{PARAMETER_WORDS[stem]} of {', '.join(names)}"
    if words is None:
        return name
    if inside:
        words += f" of {labels.get(inside, inside)}" if inside in labels or inside in outcomes else f" {inside}"
    text = prefix + words
    if not symbol:
        return text
    return text + (" (reported)" if reported else f" ({base})")


#: Posterior predictive statistics as a reader writes them.
STATISTIC_WORDS = {"mean": "mean", "sd": "SD", "min": "minimum", "max": "maximum"}


def statistic_words(name) -> str:
    """A posterior predictive statistic in words: "sd" -> "SD", "min" -> "minimum"."""
    return STATISTIC_WORDS.get(str(name), str(name))


_SCALE_HEAD = {"identity": "measured", "outcome": "measured", "model": "modelled", "log": "log"}


def ppc_scale_words(scale) -> str:
    """A predictive check's scale as text: "identity" -> "the measured scale", "log, below-limit values at the
    limit on both sides" -> "the log scale (below-limit values at the limit on both sides)", "model (log for
    lognormal); a censored outcome censored as observed" -> "the modelled scale (log for lognormal; a censored
    outcome censored as observed)"."""
    text = str(scale or "modelled").strip()
    head, _, rest = re.sub(r"[,;] ", "\0", text, count=1).partition("\0")
    word, _, extra = head.partition(" ")
    notes = [x for x in (extra.strip().strip("()"), rest.strip()) if x]
    return f"the {_SCALE_HEAD.get(word, word)} scale" + (f" ({'; '.join(notes)})" if notes else "")


def diagnostics_table(result) -> pd.DataFrame:
    """The diagnostics gate: criterion, value, threshold, pass."""
    d = result.diagnostics
    t = d.thresholds

    def ok(flag: bool) -> str:
        return "yes" if flag else "NO"

    rows = [
        ("max R-hat (rank-normalised split)", fmt_number(d.max_rhat, 3), f"≤ {t.rhat_max:g}", ok(d.max_rhat <= t.rhat_max)),
        ("min bulk ESS", fmt_number(d.min_ess_bulk, 0), f"≥ {t.ess_min:g}", ok(d.min_ess_bulk >= t.ess_min)),
        ("min tail ESS", fmt_number(d.min_ess_tail, 0), f"≥ {t.ess_min:g}", ok(d.min_ess_tail >= t.ess_min)),
        ("divergent transitions", str(int(d.divergences)), f"≤ {t.max_divergences}", ok(d.divergences <= t.max_divergences)),
        ("min E-BFMI", fmt_number(d.min_bfmi, 2), f"≥ {t.bfmi_min:g}",
         ok(not np.isfinite(d.min_bfmi) or d.min_bfmi >= t.bfmi_min)),
        ("draws at maximum tree depth", str(int(d.treedepth_saturated)), "reported (efficiency, not validity)", MISSING),
    ]
    return pd.DataFrame(rows, columns=["Criterion", "Value", "Threshold", "Passed"])


def diagnostics_by_variable(result) -> pd.DataFrame:
    """Worst R-hat and smallest ESS of each gated parameter."""
    t = result.diagnostics.table
    if t is None or t.empty:
        return pd.DataFrame(columns=["Parameter", "Elements", "max R-hat", "min bulk ESS", "min tail ESS"])
    g = t.groupby("variable", sort=False).agg(
        elements=("rhat", "size"), rhat=("rhat", "max"), bulk=("ess_bulk", "min"), tail=("ess_tail", "min"))
    return pd.DataFrame({
        "Parameter": [parameter_words(v, result) for v in g.index],
        "Elements": g["elements"].astype(int).astype(str).to_numpy(),
        "max R-hat": [fmt_number(x, 3) for x in g["rhat"]],
        "min bulk ESS": [fmt_number(x, 0) for x in g["bulk"]],
        "min tail ESS": [fmt_number(x, 0) for x in g["tail"]],
    })


# ------------------------------------------------------------------------------ LaTeX

_TEX = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$",
    "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"$<$", ">": r"$>$", "|": r"\textbar{}",
    "\u2212": r"$-$", "\u2013": "--", "\u2014": "---", "\u00b1": r"$\pm$", "\u00d7": r"$\times$",
    "\u2264": r"$\leq$", "\u2265": r"$\geq$", "\u03b7": r"$\eta$", "\u03b5": r"$\varepsilon$",
    "\u00b2": r"$^2$", "\u00b7": r"$\cdot$", "\u03bd": r"$\nu$", "\u03c3": r"$\sigma$", "\u03bc": r"$\mu$",
    "\u221a": r"$\surd$", "\u2032": r"$'$", "\u00e9": r"\'e", "\u00fc": r"\"u", "\u2248": r"$\approx$",
    "\u221e": r"$\infty$", "\u2192": r"$\rightarrow$", "\u2026": r"\ldots{}", "\u2260": r"$\neq$",
    **{ch: rf"${name}$" for ch, name in zip(
        "\u03b1\u03b2\u03b3\u03b4\u0394\u03b6\u03b8\u03ba\u03bb\u03be\u03c0\u03c1\u03a3\u03c4\u03c6\u03c7\u03c8\u03c9\u03a9",
        (r"\alpha", r"\beta", r"\gamma", r"\delta", r"\Delta", r"\zeta", r"\theta", r"\kappa", r"\lambda",
         r"\xi", r"\pi", r"\rho", r"\Sigma", r"\tau", r"\phi", r"\chi", r"\psi", r"\omega", r"\Omega"),
        strict=True)},
}


def latex_escape(text: object) -> str:
    """Escape a cell for LaTeX (%, _, &, ... and the typographic characters the tables use)."""
    out = "".join(_TEX.get(ch, ch) for ch in str(text))
    return out.replace("$$", "")


#: Header cells longer than this wrap onto several lines (LaTeX tables that fit an A4 page).
LATEX_HEADER_WIDTH = 14


def _latex_header(text: object) -> str:
    """A header cell: p in italics, and long headers stacked on lines of at most LATEX_HEADER_WIDTH characters."""
    words = str(text).split()
    lines, line = [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > LATEX_HEADER_WIDTH:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    cells = [latex_escape(x) for x in lines]
    cells = [re.sub(r"(?<![A-Za-z])p(?![A-Za-z])", r"\\textit{p}", c) for c in cells]  # p in italics
    if len(cells) == 1:
        return cells[0]
    # \relax: a line that starts with "[" is not read as the optional argument of \\\\
    return r"\begin{tabular}[b]{@{}c@{}}" + r" \\\relax ".join(cells) + r"\end{tabular}"


def to_latex(frame: pd.DataFrame, *, caption: str | None = None, label: str | None = None) -> str:
    """A booktabs table as wide as the text (``tabularx``): the first column wraps (ragged right),
    the others are right-aligned, long headers are stacked, and p is in italics. Needs the
    booktabs and tabularx packages; fits an A4 page with 2.5 cm margins (checked with pdflatex
    on every shipped analysis's tables)."""
    cols = list(frame.columns)
    # numeric columns with long cells ("7.47, 59.75; .003 (0.75)") may wrap at their spaces too
    wide = [frame[c].astype(str).str.len().max() > LATEX_HEADER_WIDTH if len(frame) else False for c in cols[1:]]
    align = r">{\raggedright\arraybackslash}X" + "".join(
        r">{\raggedleft\arraybackslash}X" if w else "r" for w in wide)
    size = r"\scriptsize" if len(cols) > 7 else r"\footnotesize"
    lines = [r"\begin{table}[htbp]", r"\centering", size, r"\setlength{\tabcolsep}{3pt}"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabularx}}{{\linewidth}}{{{align}}}", r"\toprule",
              " & ".join(_latex_header(c) for c in cols) + r" \\", r"\midrule"]
    for rec in frame.itertuples(index=False):
        # a cell may break after a colon (model terms, "GG: df")
        lines.append(" & ".join(latex_escape(v).replace(":", r":\allowbreak{}") for v in rec) + r" \\")
    lines += [r"\bottomrule", r"\end{tabularx}", r"\end{table}", ""]
    return "\n".join(lines)


def descriptives_table(result) -> pd.DataFrame:
    """Descriptive statistics of the outcome as measured, per group or cell (and per time).

    Columns: the group (cell), the time (time courses), animals, n (values), mean, SD, SEM
    (SD / sqrt(n)), median, minimum, maximum and, when some values are censored, how many (a
    censored value counts at its censoring time or limit, as recorded).
    """
    own = getattr(get_design(result.design), "descriptives", None)
    if own is not None:  # a design without animal rows (summary statistics) describes its own cells
        return own(result)
    f = result.sheet.frame.reset_index(drop=True)
    groups = get_design(result.design).row_groups(result).reset_index(drop=True)
    keys = {"Group": groups.str.replace("|", ", ", regex=False)}
    if "time" in f.columns:
        keys["Time"] = f["time"]
    frame = pd.DataFrame({**keys, "animal": f["animal"].astype(str), "value": f["value"].astype(float),
                          "censored": f["censored"].astype(bool) if "censored" in f else False})
    order = {g.replace("|", ", "): i for i, g in enumerate(get_design(result.design).groups(result))}
    rows = []
    for key, g in frame.groupby(list(keys), sort=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        v = g["value"].to_numpy()
        sd = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
        row = dict(zip(keys, key, strict=True))
        row.update({"Animals": int(g["animal"].nunique()), "n": len(v), "Mean": fmt_number(np.mean(v), 3),
                    "SD": fmt_number(sd, 3), "SEM": fmt_number(sd / np.sqrt(len(v)), 3),
                    "Median": fmt_number(np.median(v), 3), "Min": fmt_number(np.min(v), 3),
                    "Max": fmt_number(np.max(v), 3)})
        if frame["censored"].any():
            row["Censored"] = int(g["censored"].sum())
        rows.append((order.get(row["Group"], len(order)), row.get("Time", 0), row))
    rows.sort(key=lambda t: (t[0], t[1]))
    out = pd.DataFrame([r for *_, r in rows])
    if "Time" in out:
        unit = result.sheet.time_unit
        out["Time"] = [f"{float(t):g}".replace("-", "\u2212") for t in out["Time"]]
        out = out.rename(columns={"Time": f"Time ({unit})" if unit else "Time"})
    return out


def tables(result) -> dict[str, tuple[pd.DataFrame, str]]:
    """Every table of an analysis: name -> (display frame, caption)."""
    ci, kind = _ci_words(result)
    out = {}
    value = outcome_axis(result)
    out["descriptives"] = (descriptives_table(result), (
        f"Descriptive statistics of {value} as measured, per {get_design(result.design).unit_word}"
        + (" and time" if "time" in result.sheet.frame.columns else "")
        + ": animals, values (n), mean, SD, SEM (SD / √n), median, minimum and maximum"
        + ("; censored values count at their censoring time or limit, and how many there are is given"
           if bool(result.sheet.frame.get("censored", pd.Series(dtype=bool)).any()) else "") + "."))
    c = contrast_table(result)
    if len(c):
        methods = sorted({str(m) for m in result.estimates["freq_method"].dropna()})
        out["contrasts"] = (c, (
            f"Contrasts: posterior median with {ci} {kind}, posterior probability of the direction of the median "
            "(and of the ROPE when set) beside the frequentist estimate with its "
            f"{ci} confidence interval and p, the interval adjusted for multiplicity as the p is." + (f" Frequentist method: {'; '.join(methods)}." if methods else "")))
    # A design's own tables (optional hook): report_tables(result) -> [(name, caption, display frame)].
    for name, caption, frame in getattr(get_design(result.design), "report_tables", lambda _: [])(result):
        out[name] = (frame, caption)
    a = anova_table(result)
    if len(a):
        within = any(c.startswith("GG") for c in a.columns)
        out["anova"] = (a, (
            "Frequentist ANOVA (F with uncorrected df"
            + ("; Greenhouse-Geisser (GG) and Huynh-Feldt (HF) corrected df (df × ε, ε at most 1), p and the "
               "sphericity correction ε for within-animal effects (the Huynh-Feldt ε as estimated, which may "
               "exceed 1)" if within else "")
            + (f"; adjusted for {result.anova_data['block']} as a fixed block, as the Bayesian model is"
               if (result.anova_data or {}).get("block") else "")
            + ") beside the Bayesian ANOVA: Gelman's finite-population SD of each source's effects on the "
            "modelled scale (a summary of its own), and the posterior partial η² defined as the ANOVA's "
            "(variance of the source's effects over the cells / (that + error variance)), "
            f"posterior median [{ci} {kind}]."))
    plain = (result.frequentist_extra or {}).get("anova_plain")
    if isinstance(plain, pd.DataFrame) and len(plain):
        out["anova_plain"] = (_plain_anova_table(plain), (
            "The lab's ANOVA as the paper ran it (no cohort term), for comparison with the published analysis; "
            "the table above, adjusted for the cohort as the Bayesian model is, is the one to compare with the "
            "posterior."))
    surv = survival_table(result)
    if len(surv):
        note = str((result.frequentist_extra or {}).get("survival_note", ""))
        out["survival"] = (surv, (
            "Analyses that respect the censoring: Kaplan-Meier median per cell, log-rank test of each simple effect "
            "(Sidak-adjusted p), and the Cox proportional-hazards model (hazard ratio, Wald z). " + note))
    ppc = (result.checks or {}).get("ppc")
    if isinstance(ppc, dict) and ppc.get("statistics"):
        frame = pd.DataFrame(ppc["statistics"])
        out["ppc"] = (pd.DataFrame({
            "Group": [str(g).replace("|", "/") for g in frame["group"]],
            "Statistic": [statistic_words(x) for x in frame["statistic"]],
            "Observed": [fmt_number(x, 3) for x in frame["observed"]],
            "Predicted (median)": [fmt_number(x, 3) for x in frame["predicted_median"]],
            "p": [fmt_p_value(x) for x in frame["p"]],
        }), ("Posterior predictive p-values, P(T(y_rep) ≥ T(y)), of each group's statistics on "
             f"{ppc_scale_words(ppc.get('scale'))}; values near 0 or 1 flag what the model does not reproduce."))
    out["diagnostics"] = (diagnostics_table(result), "MCMC diagnostics gate.")
    out["diagnostics_by_parameter"] = (diagnostics_by_variable(result),
                                       "Worst R-hat and smallest effective sample sizes per parameter.")
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Only digits, signs, decimal points, separators, %, brackets and spaces (after removing the
# exponent of scientific notation): a number as printed, with or without its interval.
_NUMBER_TEXT = re.compile(r"^[+\-\u2212]?[\d.,%\[\]() \u2212\u2013+\-;]*\d[\d.,%\[\]() \u2212\u2013+\-;]*$")
_EXPONENT = re.compile(r"(?<=\d)[eE](?=[+\-]?\d)")


def csv_safe(value):
    """One cell made safe for a spreadsheet (OWASP CSV injection rule; see the module docstring)."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _NUMBER_TEXT.match(_EXPONENT.sub("", value)):
        return value
    return "'" + value


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as UTF-8 CSV (no index), text cells and headers escaped by `csv_safe`."""
    path = Path(path)
    out = frame.rename(columns=lambda c: csv_safe(c) if isinstance(c, str) else c)
    text_cols = [c for c in out.columns if out[c].dtype == object or isinstance(out[c].dtype, pd.StringDtype)
                 or isinstance(out[c].dtype, pd.CategoricalDtype)]
    if text_cols:
        out = out.copy()
        for c in text_cols:
            out[c] = out[c].astype(object).map(csv_safe)
    out.to_csv(path, index=False, encoding="utf-8")
    return path


def write_tables(result, out_dir: str | Path) -> dict[str, Path]:
    """Write every table as CSV (UTF-8) and booktabs LaTeX, and the numeric estimates as CSV."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, (frame, caption) in tables(result).items():
        csv = write_csv(frame, out_dir / f"{name}.csv")
        tex = out_dir / f"{name}.tex"
        tex.write_text(to_latex(frame, caption=caption, label=f"tab:{name.replace('_', '-')}"), encoding="utf-8")
        paths[f"tables/{name}.csv"] = csv
        paths[f"tables/{name}.tex"] = tex
    est = write_csv(result.estimates, out_dir / "estimates.csv")
    paths["tables/estimates.csv"] = est
    # Every other frequentist / check table, numeric, for pipelines and supplements.
    others = [(f"frequentist_{k}", v) for k, v in (result.frequentist_extra or {}).items()]
    for k, v in (result.checks or {}).items():
        if isinstance(v, dict):  # e.g. {"table": [records], "flagged": [...]} or {"statistics": [records]}
            for sub in ("table", "statistics"):
                if isinstance(v.get(sub), list) and v[sub]:
                    others.append((f"checks_{k}", pd.DataFrame(v[sub])))
        else:
            others.append((f"checks_{k}", v))
    for name, frame in others:
        if isinstance(frame, pd.DataFrame) and len(frame):
            path = write_csv(frame, out_dir / f"{name}.csv")
            paths[f"tables/{name}.csv"] = path
    return paths
