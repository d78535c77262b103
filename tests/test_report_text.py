"""Manuscript text (issue 14, item 7): the APA results paragraph, and text without internal words.

Two small fits (few draws; their diagnostics gate may fail at these settings, which these tests
do not mind): the shipped time course (a repeated-measures ANOVA with Greenhouse-Geisser
corrected df, mixed-model contrasts with Satterthwaite df) and the shipped NSFT latencies (a
censored outcome: log-rank tests beside the t contrasts). Every number the paragraph prints is
compared with the result's own tables, formatted by hand here (not with the package's helpers).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from bayes_igf1.report import text as T
from bayes_igf1.report.format import fmt_apa_interval, fmt_bounded, fmt_chisq, fmt_t
from bayes_igf1.report.tables import anova_table, parameter_words, ppc_scale_words, survival_table, tables

DATA = Path(__file__).resolve().parent.parent / "data"
MINUS = "\u2212"
NUM = r"[\u2212+]?\d+(?:\.\d+)?"


@pytest.fixture(scope="module")
def timecourse():
    from bayes_igf1.designs.timecourse import analyse_timecourse

    return analyse_timecourse(DATA / "microdialysis_igf1.csv", animal="mouse", group="treatment", time="hour",
                              value="igf1_pg_ml", lloq=8.0, time_unit="h", draws=200, tune=200, chains=2,
                              seed=11, retry=False)


@pytest.fixture(scope="module")
def censored():
    from bayes_igf1.designs.factorial import analyse_factorial

    return analyse_factorial(DATA / "behaviour_battery.csv", outcome="nsft_latency_s", factors=["treatment", "antibody"],
                             animal="mouse", cohort="cohort", censored="nsft_censored", family="lognormal",
                             blocker="antibody", label="latency to feed", unit="s", draws=200, tune=200, chains=2,
                             seed=12, bf_sensitivity=False, retry=False)


# ------------------------------------------------------------------------- by hand


def two(x: float) -> str:
    return f"{x:.2f}".replace("-", MINUS)


def no_zero(x: float) -> str:
    """APA: a statistic bounded by 1 without its leading zero."""
    text = f"{x:.2f}"
    return text.replace("0.", ".", 1).replace("-", MINUS) if abs(x) < 1 else text


def df_text(df: float) -> str:
    return str(int(round(df))) if abs(df - round(df)) < 1e-9 else f"{df:.2f}"


def apa_p(p: float) -> str:
    if p < 0.001:
        return "p < .001"
    text = f"{p:.3f}"
    return "p > .999" if text == "1.000" else "p = " + text[1:]


def item_of(paragraph: str, label: str) -> str:
    """The sentence of the paragraph that starts with ``label`` (capitalised as the paragraph writes it)."""
    start = paragraph.index(label)
    return paragraph[start:paragraph.index(". ", start) + 1] if ". " in paragraph[start:] else paragraph[start:]


def close_to_shown(text: str, value: float) -> bool:
    """The printed number equals ``value`` rounded to the decimals it is printed with."""
    x = float(text.replace(MINUS, "-").lstrip("+"))
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(x - value) <= 0.5 * 10 ** -decimals + 1e-12


# ------------------------------------------------------------------------ format helpers


def test_apa_helpers_by_hand():
    assert fmt_bounded(0.8317) == ".83" and fmt_bounded(-0.28) == MINUS + ".28" and fmt_bounded(0.004) == ".00"
    assert fmt_bounded(1.0) == "1.00" and fmt_bounded(float("nan")) == "\u2014"
    assert fmt_t(56.108, 3.0012) == "t(56.11) = 3.00" and fmt_t(32.0, -6.9295) == f"t(32) = {MINUS}6.93"
    assert fmt_chisq(1.0, 7.1635) == "\u03c7\u00b2(1) = 7.16"
    assert fmt_apa_interval(59.2, 121.4, 0, unit="%") == "[59%, 121%]"
    assert fmt_apa_interval(-98.1, -53.2, 0) == f"[{MINUS}98, {MINUS}53]"


# --------------------------------------------------------------------- APA paragraph


def test_apa_paragraph_time_course_gg_corrected_df_and_t(timecourse):
    res = timecourse
    para = T.apa_paragraph(res)
    assert para and "\n" not in para
    assert para in T.results_paragraph(res) and para not in T.results_paragraph(res, apa=False)
    # the F table, Greenhouse-Geisser corrected where the twin corrected it
    a = res.anova.to_dict("records")
    corrected = [r for r in a if r.get("epsilon_gg") is not None and not math.isnan(r["epsilon_gg"])]
    assert corrected and all(r["epsilon_gg"] < 1 for r in corrected)  # the test below is not vacuous
    for r in a:
        eff = r["effect"].replace(":", " \u00d7 ")
        eta = no_zero(r["partial_eta_sq"])
        if r in corrected:
            eps = r["epsilon_gg"]
            want = (f"{eff}, F({df_text(eps * r['df_num'])}, {df_text(eps * r['df_den'])}) = {two(r['F'])}, "
                    f"{apa_p(r['p_gg'])}, \u03b7\u00b2p = {eta} (Greenhouse-Geisser \u03b5 = {no_zero(eps)})")
            assert f"{eff}, F({df_text(r['df_num'])}, {df_text(r['df_den'])})" not in para
            assert "." in df_text(eps * r["df_num"])  # corrected df are not whole numbers here
        else:
            want = f"{eff}, F({df_text(r['df_num'])}, {df_text(r['df_den'])}) = {two(r['F'])}, {apa_p(r['p'])}, " \
                   f"\u03b7\u00b2p = {eta}"
        assert want in para, want
    # each group's largest effect over time, with its mixed-model t: t = log(1 + % change / 100) / SE, on the
    # contrast's Satterthwaite df (an independent route from the paragraph's, which inverts the p)
    e = res.estimates[res.estimates["name"] == "effect_vs_reference"]
    contrasts = res.frequentist_extra["contrasts"]
    for group, rows in e.groupby("group"):
        peak = rows.loc[rows["median"].abs().idxmax()]
        label = f"{str(peak['label'])[:1].upper()}{str(peak['label'])[1:]} (the largest of {len(rows)} times): "
        item = item_of(para, label)
        c = contrasts[(contrasts["group"] == group) & (contrasts["time"] == peak["time"])].iloc[0]
        t = math.log1p(c["estimate"] / 100.0) / c["se"]
        assert f"t({df_text(c['df'])}) = {two(t)}, Sidak-adjusted {apa_p(c['p_adjusted'])}." in item, item
        m = re.search(rf": (?P<est>{NUM})%, 95% HDI \[(?P<lo>{NUM})%, (?P<hi>{NUM})%\], P\((?:increase|decrease)\) "
                      rf"(?:> \.999|= \.\d{{3}})", item)
        assert m, item
        assert close_to_shown(m["est"], peak["median"]) and close_to_shown(m["lo"], peak["ci_low"])
        assert close_to_shown(m["hi"], peak["ci_high"])


def test_apa_paragraph_censored_outcome_survival_test_first(censored):
    res = censored
    para = T.apa_paragraph(res)
    extra = res.frequentist_extra
    simple = extra["simple_effects"]
    n_checked = 0
    for lr in extra["logrank"].to_dict("records"):
        within = lr["within"].split("=", 1)[1]
        label = f"{lr['level']} vs {lr['reference']} within {within}"
        label = label[:1].upper() + label[1:]
        if label not in para:  # only the headline simple effects are in the paragraph
            continue
        item = item_of(para, label)
        survival = f"log-rank \u03c7\u00b2({df_text(lr['df'])}) = {two(lr['chisq'])}, Sidak-adjusted {apa_p(lr['p_adjusted'])}"
        tw = simple[(simple["level"] == lr["level"]) & (simple["within"] == lr["within"])].iloc[0]
        t_text = f"t({df_text(tw['df'])}) = {two(tw['t'])}, Sidak-adjusted {apa_p(tw['p_adjusted'])}"
        assert survival in item and t_text in item, item
        assert item.index(survival) < item.index(t_text)  # the test that respects the censoring comes first
        assert "censored values taken at the cut-off" in item
        n_checked += 1
    assert n_checked == 2  # both simple effects of the treatment (within IgG, within the nAb)
    # the interaction: its Savage-Dickey BF10 (3 significant figures) and the t contrast of the twin
    bf = res.checks["bayes_factor"]
    bf10 = float(bf.loc[bf["prior_multiplier"] == 1.0, "BF10"].iloc[0])
    assert 0.01 <= bf10 <= 100
    assert f"BF10 = {float(f'{bf10:.3g}'):g}" in para
    ic = extra["interaction_contrasts"].iloc[0]
    assert f"t({df_text(ic['df'])}) = {two(ic['t'])}, {apa_p(ic['p'])}" in para
    # the F table without sphericity corrections (between-animal factors)
    for r in res.anova.to_dict("records"):
        eff = r["effect"].replace(":", " \u00d7 ")
        assert (f"{eff}, F({df_text(r['df_num'])}, {df_text(r['df_den'])}) = {two(r['F'])}, {apa_p(r['p'])}, "
                f"\u03b7\u00b2p = {no_zero(r['partial_eta_sq'])}") in para
    assert "Greenhouse-Geisser" not in para


# ------------------------------------------------------------------- no internal words


def test_text_and_tables_have_no_internal_words(timecourse, censored):
    for res in (timecourse, censored):
        prose = "\n".join([T.data_paragraph(res), T.methods_paragraph(res), T.results_paragraph(res),
                           *T.checks_text(res)])
        cells = "\n".join(caption + "\n" + frame.astype(str).to_csv(index=False)
                          for frame, caption in tables(res).values())
        for word in ("fit(s)", "arviz-stats", "'auto'", "Figure 'ppc'", "identity scale", "cell_mean[",
                     "estimand:", "observed scale", ") (interaction prior"):
            assert word not in prose + cells, word
        # priors: every parameter in words, its model name only in parentheses; 4 significant digits
        for line in T.priors_text(res):
            assert "_" not in re.sub(r"\([^()]*\)", "", line.split(" ~ ")[0]), line
            assert not re.search(r"\d\.\d{5,}", line), line
        # statistics bounded by 1 without a leading zero (APA)
        a = anova_table(res)
        assert not a["partial \u03b7\u00b2"].str.startswith("0.").any()
        # diagnostics per parameter: words, the model's names only in parentheses
        for name in tables(res)["diagnostics_by_parameter"][0]["Parameter"]:
            assert "_" not in re.sub(r"\([^()]*\)", "", name) and "estimand:" not in name, name
    stats = tables(timecourse)["ppc"][0]["Statistic"]
    assert "SD" in set(stats) and "sd" not in set(stats)
    terms = survival_table(censored)["Term"]
    assert terms.str.contains("within IgG").any() and not terms.str.contains("=").any()


def test_huynh_feldt_df_use_epsilon_at_most_one(timecourse):
    a = anova_table(timecourse).set_index("Effect")
    for r in timecourse.anova.to_dict("records"):
        eps = r.get("epsilon_hf")
        if eps is None or math.isnan(eps):
            continue
        used = min(eps, 1.0)
        cell = a.loc[r["effect"].replace(":", " \u00d7 "), "HF: df, p (\u03b5)"]
        assert cell.startswith(f"{df_text(used * r['df_num'])}, {df_text(used * r['df_den'])}; "), cell


# ------------------------------------------------------------------ parameter words


def test_parameter_words():
    res = SimpleNamespace(settings={"outcomes": ["fst_s", "fust_s"], "labels": {"fst_s": "FST", "fust_s": "FUST"}},
                          sheet=SimpleNamespace(factors=["treatment", "antibody", "sex"]))
    assert parameter_words("sigma_animal") == "between-animal SD (sigma_animal)"
    assert parameter_words("cell_mean", symbol=False) == "cell means"
    assert parameter_words("estimand:simple_b", res) == "simple effects of antibody (reported)"
    assert parameter_words("estimand:interaction_ac", res) == "treatment \u00d7 sex interaction (reported)"
    assert parameter_words("estimand:blockade_pct_c", res, symbol=False) == "% blockade of the sex effect"
    assert parameter_words("estimand:o1_interaction", res) == "FUST: interaction (reported)"
    assert parameter_words("sigma[fst_s]", res) == "residual SD of FST (sigma)"
    assert parameter_words("some_new_thing") == "some_new_thing"  # unknown names are kept
    assert T._problem_words("R-hat 1.016 > 1.01 (cell_mean[saline, nAb, M])") == \
        "R-hat 1.016 > 1.01 (cell means, saline, nAb, M)"
    assert T._problem_words("bulk ESS 219 < 400 (sigma_animal[])") == "bulk ESS 219 < 400 (between-animal SD)"


@pytest.mark.parametrize("scale, words", [
    ("identity", "the measured scale"),
    ("log", "the log scale"),
    ("log, below-limit values at the limit on both sides", "the log scale (below-limit values at the limit on both sides)"),
    ("outcome, censored as observed", "the measured scale (censored as observed)"),
    ("model (log for lognormal); a censored outcome censored as observed",
     "the modelled scale (log for lognormal; a censored outcome censored as observed)"),
])
def test_ppc_scale_words(scale, words):
    assert ppc_scale_words(scale) == words
