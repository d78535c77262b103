"""Report package: number formatting, tables, text, figures and the report folder.

One small time-course fit and one small factorial fit (few draws) are shared by the module;
their diagnostics may well fail at these settings, which the report must say and these tests
do not mind. The formatting tests are worked by hand.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_igf1.report import figures as F
from bayes_igf1.report import text as T
from bayes_igf1.report.format import (
    decimals_for,
    fmt_estimate,
    fmt_F,
    fmt_interval,
    fmt_num,
    fmt_number,
    fmt_p,
    fmt_prob,
    parse_number,
)
from bayes_igf1.report.tables import anova_table, contrast_table, latex_escape, to_latex
from bayes_igf1.report.writer import netcdf_ready, write_report

DATA = Path(__file__).resolve().parent.parent / "data"
NUM = r"[\u2212+\-]?\d+(?:\.\d+)?"


@pytest.fixture(scope="module")
def result():
    from bayes_igf1.designs.timecourse import analyse_timecourse

    return analyse_timecourse(DATA / "microdialysis_igf1.csv", animal="mouse", group="treatment", time="hour",
                              value="igf1_pg_ml", lloq=8.0, time_unit="h", rope=10.0, draws=200, tune=200, chains=2)


@pytest.fixture(scope="module")
def report(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    files = write_report(result, out)
    return out, files


@pytest.fixture(scope="module")
def factorial(tmp_path_factory):
    from bayes_igf1.designs.factorial import analyse_factorial

    res = analyse_factorial(DATA / "fst_igf1_nab.csv", outcome="immobility_s", factors=["treatment", "antibody"],
                            animal="mouse", cohort="cohort", blocker="antibody", draws=100, tune=100, chains=2,
                            bf_sensitivity=False, retry=False)
    out = tmp_path_factory.mktemp("factorial")
    return res, out, write_report(res, out, figures=False)  # figures drawn (not saved) below: saving costs seconds


# --------------------------------------------------------------------- formatting (by hand)


@pytest.mark.parametrize("p, text", [
    (0.0004, "p < .001"), (0.00099, "p < .001"), (0.001, "p = .001"), (0.0312, "p = .031"),
    (0.05, "p = .050"), (0.0495, "p = .050"), (0.5, "p = .500"), (0.9994, "p = .999"), (0.9996, "p > .999"),
    (1.0, "p > .999"), (float("nan"), "p = \u2014"),
])
def test_apa_p(p, text):
    assert fmt_p(p) == text


def test_apa_statistics_and_intervals():
    assert fmt_F(2, 16, 39.5345) == "F(2, 16) = 39.53"
    assert fmt_F(3.7345, 59.752, 2.5) == "F(3.73, 59.75) = 2.50"
    assert fmt_prob(1.0, event="increase") == "P(increase) > .999"
    assert fmt_prob(0.9825, event="increase") == "P(increase) = .983"
    assert fmt_prob(0.9825) == ".983"
    # interval 131.2-198.4: spread (198.4 - 131.2) / 4 = 16.8 -> 0 decimals
    assert fmt_interval(131.2, 198.4, unit="%") == "131\u2013198%"
    assert fmt_interval(-12.3, 30.4, unit="%") == "\u221212 to 30%"
    assert fmt_interval(-0.5, -0.1) == "\u22120.50 to \u22120.10"  # spread 0.1 -> 2 decimals
    assert fmt_estimate(69.24, 41.4, 99.2, unit="%") == "69% [41\u201399%]"
    assert decimals_for(41, 99) == 0 and decimals_for(0.25, 0.52) == 3 and decimals_for(1, 5) == 1
    assert fmt_number(-0.0004, 2) == "0.00"
    assert fmt_number(3.14159, 2, sign=True) == "+3.14"
    assert fmt_num(69.24) == "69.2" and fmt_num(150.1) == "150" and fmt_num(0.12345) == "0.123"
    assert parse_number("\u221212%") == -12.0 and parse_number("+74%") == 74.0


def test_latex_escape_and_booktabs():
    assert latex_escape("a_b & 50% <") == r"a\_b \& 50\% $<$"
    assert latex_escape("41\u201399% \u00d7 \u03b7\u00b2") == r"41--99\% $\times$ $\eta^2$"
    import pandas as pd

    tex = to_latex(pd.DataFrame({"x": ["1%"], "y_z": ["\u22122"]}), caption="c_1")
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert rule in tex
    assert r"y\_z" in tex and r"$-$2" in tex and r"\caption{c\_1}" in tex


def test_latex_tables_are_as_wide_as_the_text_and_wrap():
    import pandas as pd

    frame = pd.DataFrame({"Contrast": ["ketamine vs saline within IgG"], "p (Sidak)": [".010"],
                          "Bayesian SD [95% HDI]": ["0.401 [0.333-0.452]"], "GG: df, p": ["7.47, 59.75; .003 (0.75)"]})
    tex = to_latex(frame, caption="c")
    # the whole text width, the label column wrapping, a long numeric column wrapping too
    assert r"\begin{tabularx}{\linewidth}{>{\raggedright\arraybackslash}Xr" in tex
    assert tex.count(r">{\raggedleft\arraybackslash}X") == 2
    # long headers stacked; a line starting with "[" guarded from \\'s optional argument; p in italics
    assert r"Bayesian SD \\\relax [95\% HDI]" in tex
    assert r"\textit{p} (Sidak)" in tex
    assert r"GG:\allowbreak{} df" not in tex and r"7.47, 59.75; .003 (0.75)" in tex


# ---------------------------------------------------------------------------- the folder


def test_files_exist(report):
    out, files = report
    for name in ("report.md", "report.html", "results.json", "tables/contrasts.csv", "tables/contrasts.tex",
                 "tables/anova.csv", "tables/anova.tex", "tables/diagnostics.csv", "tables/diagnostics.tex",
                 "tables/estimates.csv", "figures/timecourse.png", "figures/timecourse.svg", "figures/ppc.png",
                 "figures/prior_predictive.svg"):
        assert name in files, name
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert "posterior.nc" in files


def test_png_is_300_dpi(report):
    from PIL import Image

    out, _ = report
    with Image.open(out / "figures" / "timecourse.png") as im:
        assert round(im.info["dpi"][0]) == 300


def test_results_json_has_design_keys(report, result):
    out, _ = report
    doc = json.loads((out / "results.json").read_text())
    for key in ("design", "package_version", "seed", "settings", "data", "diagnostics", "estimates", "anova",
                "anova_data", "mixed_model", "checks"):
        assert key in doc, key
    assert doc["design"] == "timecourse" and doc["seed"] == result.seed
    assert {"rows_read", "rows_used", "excluded", "n_animals", "n_per_group"} <= set(doc["data"])
    assert {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "passed"} <= set(doc["diagnostics"])
    est = doc["estimates"][0]
    assert {"name", "group", "reference", "time", "scale", "mean", "median", "sd", "ci_low", "ci_high", "ci_prob",
            "prob_direction", "rope", "prob_in_rope", "frequentist"} <= set(est)
    assert {"estimate", "se", "ci_low", "ci_high", "p", "p_adjusted", "method"} <= set(est["frequentist"])
    assert {"effect", "df_num", "df_den", "F", "p", "epsilon_gg", "p_gg", "epsilon_hf", "p_hf", "partial_eta_sq",
            "generalized_eta_sq"} <= set(doc["anova"][0])
    assert {"n_animals", "animals_dropped", "reason"} <= set(doc["anova_data"])


def _close(printed: str, value: float) -> bool:
    """``printed`` is ``value`` rounded to the decimals it shows."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(parse_number(printed) - value) <= 0.5 * 10 ** -decimals + 1e-9


def _p_text(p: float) -> str:
    return fmt_p(p).split(" ", 1)[1]


def test_results_paragraph_numbers_match_results_json(report, result):
    out, _ = report
    doc = json.loads((out / "results.json").read_text())
    text = T.results_paragraph(result, apa=False)
    md = (out / "report.md").read_text()
    assert text in md.replace("*", "")  # report.md writes the statistical symbols in italics
    assert "### Results paragraph (APA)" in md and "*F*(" in md and "*p* " in md
    assert (out / "results_paragraph.txt").read_text(encoding="utf-8") == T.apa_paragraph(result) + "\n"
    pattern = re.compile(
        rf"(?P<group>[\w ]+?) (?P<verb>raised|lowered) igf1_pg_ml by (?P<mag>{NUM})% relative to (?P<ref>[\w ]+?) "
        rf"at (?P<t>{NUM}) h, its largest posterior median effect \(posterior median; 95% HDI "
        rf"(?P<lo>{NUM})(?:\u2013| to )(?P<hi>{NUM})%; P\((?:increase|decrease)\) (?P<pd>[<>=] \.\d+); "
        rf"P\(in ROPE ±10%\) (?P<rope>[<>=] \.\d+)\); mixed model: (?P<fe>{NUM})% \(95% CI, Sidak-adjusted "
        rf"(?P<flo>{NUM})(?:\u2013| to )(?P<fhi>{NUM})%\), Sidak-adjusted p (?P<p>[<>=] \.\d+)\.")
    matches = list(pattern.finditer(text))
    assert len(matches) == 2  # one per non-reference group
    for m in matches:
        group = m["group"].lower() if m["group"].lower() in ("ketamine 10", "ketamine 30") else m["group"]
        rec = next(e for e in doc["estimates"] if e["name"] == "effect_vs_reference" and e["group"] == group
                   and e["time"] == float(m["t"]))
        assert m["ref"] == rec["reference"] == "saline"
        sign = 1 if m["verb"] == "raised" else -1
        assert _close(m["mag"], sign * rec["median"])
        assert _close(m["lo"], rec["ci_low"]) and _close(m["hi"], rec["ci_high"])
        assert m["pd"] == fmt_prob(rec["prob_direction"]) if rec["prob_direction"] >= 0.9995 or \
            rec["prob_direction"] < 0.001 else m["pd"] == "= " + fmt_prob(rec["prob_direction"])
        assert m["rope"].lstrip("<>= ") in fmt_prob(rec["prob_in_rope"])
        fq = rec["frequentist"]
        # the interval beside the Sidak-adjusted p is Sidak-adjusted too
        assert _close(m["fe"], fq["estimate"]) and _close(m["flo"], fq["ci_low_adjusted"])
        assert _close(m["fhi"], fq["ci_high_adjusted"]) and fq["ci_low_adjusted"] < fq["ci_low"]
        assert m["p"] == _p_text(fq["p_adjusted"])
        # the time is the one with the largest posterior median effect of that group
        same = [e for e in doc["estimates"] if e["name"] == "effect_vs_reference" and e["group"] == group]
        assert rec["median"] == max(same, key=lambda e: abs(e["median"]))["median"]
    f_pattern = re.compile(rf"(?P<effect>[\w ×]+?) (?P<gg>Greenhouse-Geisser corrected )?F\((?P<d1>{NUM}), "
                           rf"(?P<d2>{NUM})\) = (?P<F>{NUM}), p (?P<p>[<>=] \.\d+)(?: \(ε = (?P<eps>\.\d+)\))?")  # ε at most 1: no leading zero (APA)
    found = {m["effect"].strip().replace(" × ", ":"): m for m in f_pattern.finditer(text)}
    assert set(found) == {r["effect"] for r in doc["anova"]}
    for r in doc["anova"]:
        m = found[r["effect"]]
        assert _close(m["F"], r["F"])
        if r["epsilon_gg"] is not None:  # the corrected test prints its corrected df
            assert m["gg"] and _close(m["eps"], r["epsilon_gg"]) and m["p"] == _p_text(r["p_gg"])
            assert _close(m["d1"], r["epsilon_gg"] * r["df_num"]) and _close(m["d2"], r["epsilon_gg"] * r["df_den"])
        else:
            assert not m["gg"] and m["p"] == _p_text(r["p"])
            assert float(m["d1"]) == r["df_num"] and float(m["d2"]) == r["df_den"]


def test_report_sections_in_order(report):
    out, _ = report
    md = (out / "report.md").read_text()
    heads = [T.SECTIONS[k] for k in ("data", "methods", "results", "tables", "figures", "checks", "checklist")]
    positions = [md.index("## " + h) for h in heads]
    assert positions == sorted(positions)
    for phrase in ("nutpie", "Abril-Pla", "Kumar", "Seabold", "Virtanen", "Satterthwaite", "Sidak",
                   "Greenhouse-Geisser", "seed 20220412", "M07", "ARRIVE", "BARG", "rows 26, 56, 124"):
        assert phrase in md, phrase
    loo = json.loads((out / "results.json").read_text())["checks"].get("loo")
    if loo:
        m = re.search(rf"elpd_loo = (?P<elpd>{NUM}) \(SE (?P<se>{NUM})\)", md)
        assert m and _close(m["elpd"], loo["elpd_loo"]) and _close(m["se"], loo["se"])
    else:
        assert "Leave-one-out cross-validation (PSIS-LOO): not run." in md


def test_html_is_self_contained(report):
    out, _ = report
    page = (out / "report.html").read_text()
    # time course, PPC, PPC per time, rank plots, prior vs posterior, prior predictive
    assert page.count("data:image/png;base64,") == 6
    assert "src='figures/" not in page and "<style>" in page


def test_failed_banner(result, tmp_path):
    bad = dataclasses.replace(result, diagnostics=dataclasses.replace(
        result.diagnostics, passed=False, problems=("R-hat 1.234 > 1.01 (beta[ketamine 30, 2.0])",)))
    write_report(bad, tmp_path / "bad", figures=False)
    md = (tmp_path / "bad" / "report.md").read_text()
    assert md.startswith("> **FAILED**") and "R-hat 1.234 > 1.01 (group effects at each time, ketamine 30, 2.0)" in md.split("\n")[0]
    page = (tmp_path / "bad" / "report.html").read_text()
    assert page.index("class='banner'") < page.index("<h1>")
    assert json.loads((tmp_path / "bad" / "results.json").read_text())["diagnostics"]["passed"] is False
    good = dataclasses.replace(result, diagnostics=dataclasses.replace(result.diagnostics, passed=True, problems=()))
    write_report(good, tmp_path / "good", figures=False)
    assert "FAILED" not in (tmp_path / "good" / "report.md").read_text().split("## 1 Data")[0]


def test_posterior_reloads(report, result):
    out, files = report
    ready = netcdf_ready(result.tree)
    assert not any(v.dtype == object for node in ready.subtree for v in node.to_dataset().variables.values())
    back = xr.open_datatree(out / "posterior.nc", engine="h5netcdf")
    assert set(result.tree.children) <= set(back.children)
    np.testing.assert_allclose(back["posterior"]["beta"].values, result.tree["posterior"]["beta"].values)
    assert list(back["posterior"]["group"].values) == list(result.tree["posterior"]["group"].values)


def test_tex_tables(report):
    out, _ = report
    for name in ("contrasts", "anova", "diagnostics", "diagnostics_by_parameter"):
        tex = (out / "tables" / f"{name}.tex").read_text()
        for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
            assert rule in tex, (name, rule)
        body = tex.replace(" & ", " ").replace(r"\\", "")  # drop the column and row separators
        assert not re.search(r"(?<!\\)[%_&]", body), name  # every %, _ and & in a cell escaped
    assert r"\%" in (out / "tables" / "contrasts.tex").read_text()
    assert r"sigma\_animal" in (out / "tables" / "diagnostics_by_parameter.tex").read_text()


def test_tables_side_by_side(result):
    c = contrast_table(result)
    row = c[c["Contrast"] == "ketamine 10 vs saline at 2 h"].iloc[0]
    rec = result.estimates[(result.estimates["name"] == "effect_vs_reference")
                           & (result.estimates["group"] == "ketamine 10") & (result.estimates["time"] == 2.0)].iloc[0]
    assert row["Posterior median [95% HDI]"] == fmt_estimate(rec["median"], rec["ci_low"], rec["ci_high"], unit="%")
    assert row["p (Sidak)"] == fmt_p(rec["freq_p_adjusted"]).split(" ", 1)[1].removeprefix("= ")
    a = anova_table(result)
    assert list(a["Effect"][:3]) == ["treatment", "hour", "treatment \u00d7 hour"]
    assert a.loc[0, "Bayesian SD [95% HDI]"] != "\u2014"  # Bayesian "group" matched to the F table's "treatment"


def test_panels_take_ax_and_leave_rcparams(result):
    from matplotlib.figure import Figure

    before = dict(mpl.rcParams)
    fig = Figure()
    ax = fig.add_subplot()
    for plot in (F.plot_timecourse_percent, F.plot_effect_vs_reference, F.plot_spaghetti, F.plot_ppc,
                 F.plot_prior_predictive):
        ax.clear()
        got_fig, got_ax = plot(result, ax=ax)
        assert got_fig is fig and got_ax is ax
    assert dict(mpl.rcParams) == before
    obs = F.observed_percent(result)
    from bayes_igf1.designs.timecourse import percent_of_baseline

    post, _ = percent_of_baseline(result.sheet.frame)
    np.testing.assert_allclose(np.sort(obs.loc[obs["time"] > 0, "pct"]), np.sort(post["pct"]))


# ----------------------------------------------------------------------------- factorial


def test_factorial_report(factorial):
    res, out, files = factorial
    for name in ("report.html", "tables/contrasts.tex", "tables/anova.tex", "tables/frequentist_tukey.csv"):
        assert name in files, name
    assert "Figures were not drawn (figures=False)." in (out / "report.md").read_text()
    md = (out / "report.md").read_text()
    assert "Savage-Dickey BF10" in md and "Shapiro-Wilk" in md and "Tukey" in md
    inter = res.estimates[res.estimates["name"] == "interaction"].iloc[0]
    d = decimals_for(inter["ci_low"], inter["ci_high"])
    assert f"{fmt_number(inter['median'], d, sign=True)} (posterior median; 95% HDI " \
           f"{fmt_interval(inter['ci_low'], inter['ci_high'], d)}" in md
    a = anova_table(res)
    assert list(a["Effect"][:3]) == ["treatment", "antibody", "treatment \u00d7 antibody"]
    assert (a["Bayesian SD [95% HDI]"][:3] != "\u2014").all()
    draws = F.estimand_draws(res, "interaction")
    assert draws is not None and math.isclose(float(np.median(draws)), float(inter["median"]), rel_tol=1e-9)
    figs = F.make_figures(res)
    assert set(figs) == {"factorial", "ppc", "ranks", "prior_posterior", "prior_predictive"}
    _, axes = F.factorial_figure(res)
    assert axes.shape == (2, 2) and all(ax.get_visible() for ax in axes.ravel())
    assert axes[1, 0].get_ylabel() == "Posterior density"  # the density of the draws, not the summary fallback


def test_blockade_is_not_stated_when_the_effect_it_divides_by_may_be_zero(factorial):
    from dataclasses import replace as dc_replace

    from bayes_igf1.report.text import results_sentences
    from bayes_igf1.results import blockade_base

    res = factorial[0]
    e = res.estimates
    block = e[e["name"] == "blockade_pct"].iloc[0].to_dict()
    base = blockade_base(e, block)
    # Shipped FST data: ketamine vs saline under IgG is credibly non-zero, so the blockade is stated.
    assert base is not None and base["label"] == "ketamine vs saline within IgG" and base["interpretable"]
    stated = [t for k, t in results_sentences(res) if k == "blockade_pct"]
    assert len(stated) == 1 and stated[0].startswith("Blockade:") and "not stated" not in stated[0]
    # The same result with that effect's interval widened across 0: the sentence withholds the number.
    row = (e["name"] == "simple_effect") & (e["cell"] == base["cell"]) & (e["reference"] == base["reference"])
    widened = e.copy()
    widened.loc[row, "ci_low"] = -5.0
    widened.loc[row, "ci_high"] = 7.0
    weak = dc_replace(res, estimates=widened)
    assert not blockade_base(widened, block)["interpretable"]
    text = [t for k, t in results_sentences(weak) if k == "blockade_pct"][0]
    assert "not stated" in text and f"{fmt_interval(-5.0, 7.0, 1)} includes 0" in text
    assert fmt_number(block["median"], decimals_for(block["ci_low"], block["ci_high"])) not in text


def test_descriptives_table_per_cell_and_per_time(result, factorial, report):
    from bayes_igf1.report.tables import descriptives_table

    res, _, files = factorial
    d = descriptives_table(res)
    raw = pd.read_csv(DATA / "fst_igf1_nab.csv")
    # worked from the sheet: the ketamine / IGF-1 nAb cell
    cell = raw[(raw["treatment"] == "ketamine") & (raw["antibody"] == "IGF-1 nAb")]["immobility_s"]
    row = d.set_index("Group").loc["ketamine, IGF-1 nAb"]
    assert row["n"] == len(cell) and row["Animals"] == len(cell)
    assert parse_number(row["Mean"]) == pytest.approx(cell.mean(), abs=5e-4)
    assert parse_number(row["SD"]) == pytest.approx(cell.std(ddof=1), abs=5e-4)
    assert parse_number(row["SEM"]) == pytest.approx(cell.std(ddof=1) / np.sqrt(len(cell)), abs=5e-4)
    assert parse_number(row["Median"]) == pytest.approx(cell.median(), abs=5e-4)
    assert d["Group"].tolist()[0] == "saline, IgG"  # reference cell first
    assert "tables/descriptives.csv" in files and "tables/descriptives.tex" in files
    tc = descriptives_table(result)
    assert list(tc.columns[:3]) == ["Group", "Time (h)", "Animals"]
    assert "Censored" in tc.columns  # below the assay limit
    assert tc["Censored"].sum() == int(result.sheet.frame["censored"].sum())
    assert tc["n"].sum() == len(result.sheet.frame)


def test_outcome_label_and_unit_reach_text_axes_and_tables(factorial):
    from bayes_igf1.report.figures import _value_label
    from bayes_igf1.report.tables import tables
    from bayes_igf1.report.text import factorial_sentences

    res, _, _ = factorial
    plain = " ".join(s for _, s in factorial_sentences(res))
    assert "difference in immobility_s" in plain and " s (" not in plain
    labelled = dataclasses.replace(res, settings={**res.settings, "label": "immobility", "unit": "s"})
    text = " ".join(s for _, s in factorial_sentences(labelled))
    assert "difference in immobility:" in text and "immobility_s" not in text
    # every difference carries the unit: the estimate and its interval
    assert re.search(rf"{NUM}\u00a0s \(posterior median; 95% HDI {NUM} (to|\u2013) ?{NUM}\u00a0s", text), text[:300]
    assert _value_label(labelled) == "immobility (s)"
    assert tables(labelled)["descriptives"][1].startswith("Descriptive statistics of immobility (s)")


def test_level_labels_relabel_the_sheet_and_are_checked():
    from bayes_igf1.errors import DataError
    from bayes_igf1.io import read_factorial, relabel_levels

    sheet = read_factorial(DATA / "fst_igf1_nab.csv", outcome="immobility_s", factors=["treatment", "antibody"],
                           animal="mouse")
    out = relabel_levels(sheet, {"treatment": {"ketamine": "ketamine 10 mg/kg"}, "antibody": {"igg": "control IgG"}})
    assert list(out.frame["treatment"].cat.categories) == ["saline", "ketamine 10 mg/kg"]
    assert list(out.frame["antibody"].cat.categories) == ["control IgG", "IGF-1 nAb"]  # order and reference kept
    assert (out.frame["treatment"] == "ketamine 10 mg/kg").sum() == (sheet.frame["treatment"] == "ketamine").sum()
    with pytest.raises(DataError, match="'dose', which is not a factor"):
        relabel_levels(sheet, {"dose": {"a": "b"}})
    with pytest.raises(DataError, match="'treatment' has no level 'ket'"):
        relabel_levels(sheet, {"treatment": {"ket": "k"}})
    with pytest.raises(DataError, match="the same label"):
        relabel_levels(sheet, {"treatment": {"ketamine": "saline"}})


def test_rank_plots_show_the_parameters_with_the_largest_rhat(factorial):
    from bayes_igf1.report.figures import rank_figure

    res, _, _ = factorial
    fig, axes = rank_figure(res)
    table = res.diagnostics.table
    free = table[~table["variable"].str.startswith("estimand:")].sort_values("rhat", ascending=False)
    worst = free.iloc[0]
    name = worst["variable"] + (f"[{worst['element']}]" if str(worst["element"]) else "")
    title = (axes[0].get_title(loc="left") or axes[0].get_title()).replace("\n", " ")
    assert title.startswith(f"{name} R-hat")
    # one step outline per chain over every bin (the last one included); its counts sum to the chain's draws
    from matplotlib.patches import StepPatch

    steps = [p for p in axes[0].patches if isinstance(p, StepPatch)]
    assert len(steps) == res.diagnostics.settings.chains
    assert all(len(p.get_data().values) == 20 and p.get_data().values.sum() == res.diagnostics.settings.draws
               for p in steps)


def test_time_course_ppc_per_time_shows_the_observed_means(result):
    from bayes_igf1.report.figures import ppc_over_time

    fig, axes = ppc_over_time(result)
    assert len(axes) == 3  # one panel per group
    line = next(ln for ln in axes[0].get_lines() if ln.get_label() == "observed mean")
    obs = result.tree["observed_data"]["y"]
    f = result.sheet.frame.reset_index(drop=True).iloc[obs["obs"].values]
    first = (f["group"].astype(str) == "saline").to_numpy() & (f["time"] == f["time"].min()).to_numpy()
    assert line.get_ydata()[0] == pytest.approx(float(obs.values[first].mean()), rel=1e-12)


# ------------------------------------------------------------------------ print size


def test_kde_is_scipys_gaussian_kde():
    from scipy import stats

    rng = np.random.default_rng(7)
    grid = np.linspace(-2.0, 9.0, 301)
    for n in (3, 12, 5000):  # 5000: more than one chunk of 2048
        d = rng.lognormal(size=n)
        np.testing.assert_allclose(F.kde(d, grid), stats.gaussian_kde(d)(grid), rtol=1e-10, atol=1e-14)


def _drawn_texts(fig, renderer):
    """Every text the figure draws: titles, labels, legends, annotations and the tick labels in view."""
    from matplotlib.text import Text

    tick_labels, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update((tick.label1, tick.label2))
                if ax.get_visible() and axis.get_visible() and lo <= tick.get_loc() <= hi:
                    drawn += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    for t in fig.findobj(Text):
        if t not in tick_labels and t.get_visible() and (t.axes is None or t.axes.get_visible()):
            drawn.append(t)
    return [t for t in drawn if t.get_text().strip()]


def _print_size_problems(fig) -> list[str]:
    """Text below `F.MIN_TEXT_PT` at the figure's own size, or (partly) outside its canvas (clipped when saved)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with mpl.rc_context(F.STYLE):
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
    renderer, box = canvas.get_renderer(), fig.bbox
    problems = []
    for t in _drawn_texts(fig, renderer):
        if t.get_fontsize() < F.MIN_TEXT_PT:
            problems.append(f"{t.get_text()!r}: {t.get_fontsize()} pt")
        bb = t.get_window_extent(renderer)
        if bb.x0 < box.x0 - 0.5 or bb.y0 < box.y0 - 0.5 or bb.x1 > box.x1 + 0.5 or bb.y1 > box.y1 + 0.5:
            problems.append(f"{t.get_text()!r}: outside the canvas")
    return problems


def test_figures_print_at_a_journal_width_with_readable_unclipped_text(result, report, factorial):
    """Every figure is one journal column (85 mm) or two (183 mm) wide, saved at exactly that size
    (PNG at 300 dpi, SVG in points), both files listed in the marker; at that size no text is
    smaller than 6 pt and none runs off the canvas (what a "tight" bounding box used to hide)."""
    from PIL import Image

    out, files = report
    marker = json.loads((out / ".bayes-igf1").read_text())["files"]
    widths_mm = {85.0, 183.0}
    figs = F.make_figures(result)
    for name, (fig, _) in figs.items():
        w_in, h_in = fig.get_size_inches()
        assert round(w_in * 25.4, 1) in widths_mm, (name, w_in * 25.4)
        with Image.open(out / "figures" / f"{name}.png") as im:
            assert abs(im.size[0] - w_in * 300) < 1 and abs(im.size[1] - h_in * 300) < 1, (name, im.size)
        svg = (out / "figures" / f"{name}.svg").read_text()
        m = re.search(r'<svg[^>]* width="([\d.]+)pt" height="([\d.]+)pt"', svg)
        assert m and float(m.group(1)) == pytest.approx(w_in * 72, abs=0.01), name
        assert float(m.group(2)) == pytest.approx(h_in * 72, abs=0.01), name
        assert {f"figures/{name}.png", f"figures/{name}.svg"} <= set(marker) & set(files), name
    res, _, _ = factorial
    figs.update({f"factorial {k}": v for k, v in F.make_figures(res).items()})
    problems = {name: p for name, (fig, _) in figs.items() if (p := _print_size_problems(fig))}
    assert not problems


def test_save_figure_writes_matplotlibs_pixels_and_restores_the_layout_engine(result, tmp_path):
    """The PNG (RGB, written with PIL) holds exactly the pixels of matplotlib's own PNG of the figure."""
    from PIL import Image

    fig, _ = F.timecourse_figure(result)
    engine = fig.get_layout_engine()
    png, svg = F.save_figure(fig, tmp_path / "tc")
    assert fig.get_layout_engine() is engine
    assert png.suffix == ".png" and svg.suffix == ".svg" and svg.read_text().lstrip().startswith("<?xml")
    twin, _ = F.timecourse_figure(result)
    with mpl.rc_context(F.STYLE):
        twin.savefig(tmp_path / "mpl.png", dpi=F.DPI, bbox_inches=None)
    with Image.open(png) as ours, Image.open(tmp_path / "mpl.png") as theirs:
        assert ours.mode == "RGB" and round(ours.info["dpi"][0]) == F.DPI
        np.testing.assert_array_equal(np.asarray(ours.convert("RGBA")), np.asarray(theirs.convert("RGBA")))


def test_the_prior_posterior_figure_draws_each_headline_estimand(report, result):
    """The report's prior-vs-posterior panel: one panel per headline estimand the design names (the time course:
    the AUC difference of each dose), its x axis labelled with the estimate and its unit, listed in report.md."""
    from bayes_igf1.report.figures import prior_posterior_figure

    out, files = report
    assert (out / "figures" / "prior_posterior.png").is_file() and "figures/prior_posterior.png" in files
    fig, axes = prior_posterior_figure(result)
    shown = [ax for ax in axes.flat if ax.get_visible()]
    rows = result.estimates[result.estimates["name"] == "auc_difference"]
    assert len(shown) == len(rows) == 2
    for ax, label in zip(shown, rows["label"], strict=True):
        assert ax.get_xlabel().replace("\n", " ").startswith(label)
        assert "baseline × h" in ax.get_xlabel().replace("\n", " ")
    assert "Prior (grey histogram" in (out / "report.md").read_text()


def test_every_tex_file_is_plain_ascii_latex_with_its_figure_captions(report):
    """tables/*.tex and figures/*.tex compile with pdflatex's default input encoding: every typographic character
    (×, −, η, χ, √, ...) written as a LaTeX command; each figure's .tex holds its PNG and its report caption."""
    out, _ = report
    texs = sorted(out.glob("tables/*.tex")) + sorted(out.glob("figures/*.tex"))
    assert len(list(out.glob("figures/*.tex"))) == len(list(out.glob("figures/*.png"))) > 0
    for tex in texs:
        text = tex.read_text(encoding="utf-8")
        bad = sorted({ch for ch in text if ord(ch) > 127})
        assert not bad, (tex.name, bad)
    md = (out / "report.md").read_text()
    fig = (out / "figures" / "ppc.tex").read_text()
    assert r"\includegraphics[width=\linewidth]{figures/ppc.png}" in fig
    assert "Posterior predictive check per group" in fig and "Posterior predictive check per group" in md
