"""Time courses from summaries (issue 16, item 4): `bayes_igf1.designs.summary_timecourse`, the design
``summary-timecourse`` and its report."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from bayes_igf1.designs import base
from bayes_igf1.designs import summary_timecourse as st
from bayes_igf1.errors import BayesIGF1Error, DataError, DesignError
from bayes_igf1.report.format import fmt_estimate

N, TIMES, RHO, SIGMA = 10, (0, 7, 14, 21), 0.5, 2.0
TRUE = {"control": np.array([10.0, 10.0, 10.0, 10.0]), "drug": np.array([10.0, 12.0, 14.0, 16.0])}
SAMPLER = {"draws": 500, "tune": 500, "chains": 2, "seed": 20240611}
COLUMNS = {"group": "group", "time": "day", "mean": "mean", "n": "n", "sem": "sem"}
LABELS = {"label": "IGF-1", "unit": "ng/mL", "time_unit": "day"}


def _animals(seed: int = 1) -> pd.DataFrame:
    """N animals per group, T = 4 times, compound-symmetry correlation RHO, common SD SIGMA.

    Data seed 1: over data seeds 1-39 the 95% HDIs of the 7 estimands covered the truth in 95.2% of
    the 273 intervals (all 7 inside for 28 of the 39 seeds), so one seeded data set is checked here.
    """
    rng = np.random.default_rng(seed)
    t = len(TIMES)
    cov = SIGMA**2 * ((1 - RHO) * np.eye(t) + RHO * np.ones((t, t)))
    rows = []
    for g, mu in TRUE.items():
        y = rng.multivariate_normal(mu, cov, size=N)
        for a in range(N):
            rows.extend({"group": g, "animal": f"{g}{a}", "day": d, "y": y[a, i]} for i, d in enumerate(TIMES))
    return pd.DataFrame(rows)


def _summaries(animals: pd.DataFrame) -> pd.DataFrame:
    out = animals.groupby(["group", "day"], sort=False)["y"].agg(mean="mean", sd=lambda v: v.std(ddof=1),
                                                                 n="size").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    return out[["group", "day", "mean", "sem", "sd", "n"]]


@pytest.fixture(scope="module", autouse=True)
def registered():
    """The design in the registry (until its line is in `bayes_igf1.designs.base.DESIGNS`)."""
    if st.DESIGN in base.DESIGNS:
        yield
        return
    target = "bayes_igf1.designs.summary_timecourse:SummaryTimeCourse"
    entry = getattr(base, "Registered", None)
    base.DESIGNS[st.DESIGN] = entry(target, st.SummaryTimeCourse.help) if entry else target
    yield
    del base.DESIGNS[st.DESIGN]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _summaries(_animals())


@pytest.fixture(scope="module")
def result(table):
    """The analysis at rho = 0.5 with its rho sensitivity (refits at 0.2 and 0.8)."""
    return st.analyse_summary_timecourse(table, **COLUMNS, rho=RHO, reference="control", **LABELS, **SAMPLER)


@pytest.fixture(scope="module")
def sensitivity(table):
    return st.rho_sensitivity(table, **COLUMNS, rhos=(0.2, 0.5, 0.8), reference="control", **SAMPLER)


@pytest.fixture(scope="module")
def report(result, tmp_path_factory):
    from bayes_igf1.report.writer import write_report

    folder = tmp_path_factory.mktemp("stc") / "report"
    write_report(result, folder)
    return folder


# ------------------------------------------------------------------------------ recovery


def test_true_differences_lie_inside_the_95_hdis(result):
    assert result.diagnostics.passed, result.diagnostics.problems
    assert result.design == "summary-timecourse"
    est = result.estimates
    assert set(est["name"]) == {"group_mean", "difference", "change_difference", "sigma"}
    contrasts = est[est["name"].isin(["difference", "change_difference"])]
    assert (contrasts["group"] == "drug").all() and (contrasts["reference"] == "control").all()
    assert (est["ci_kind"] == "hdi").all() and np.allclose(est["ci_prob"], 0.95)
    assert list(est.loc[est["headline"], "name"].unique()) == ["change_difference"]
    truth_diff = TRUE["drug"] - TRUE["control"]
    for i, day in enumerate(TIMES):
        row = est[(est["name"] == "difference") & (est["time"] == day)].iloc[0]
        assert row["ci_low"] <= truth_diff[i] <= row["ci_high"], (day, row.to_dict())
    change = est[est["name"] == "change_difference"]
    assert list(change["time"]) == list(TIMES[1:])  # no row at the baseline itself
    for i, day in enumerate(TIMES[1:], start=1):
        row = change[change["time"] == day].iloc[0]
        truth = truth_diff[i] - truth_diff[0]
        assert row["ci_low"] <= truth <= row["ci_high"], (day, row.to_dict())
    sig = est[est["name"] == "sigma"].iloc[0]
    assert sig["ci_low"] <= SIGMA <= sig["ci_high"]
    assert result.settings["rho"] == RHO
    assert "cannot be reproduced exactly from the summaries" in result.notes[0]
    assert "within-animal correlation" in result.notes[0]
    assert any("approximation" in note for note in result.notes)
    assert any("SEM x sqrt(n)" in note for note in result.notes)


def test_sem_and_sd_give_the_same_table(table):
    by_sem = st.read_summary_timecourse(table, **COLUMNS)
    cols = dict(COLUMNS, sem=None, sd="sd")
    by_sd = st.read_summary_timecourse(table, **cols)
    np.testing.assert_allclose(by_sem.sd, by_sd.sd, rtol=1e-12)
    assert by_sem.groups == ("control", "drug") and by_sem.times == TIMES
    assert by_sem.sd_from_sem and not by_sd.sd_from_sem
    # the sheet counts each animal once (not once per time)
    assert by_sem.sheet.summary()["n_animals"] == 2 * N
    assert by_sem.sheet.summary()["n_per_group"] == {"control": N, "drug": N}


def test_location_scale_is_exact_from_the_summaries(table):
    animals = _animals()
    data = st.read_summary_timecourse(table, **COLUMNS)
    m, s = data.location_scale()
    assert m == pytest.approx(animals["y"].mean(), rel=1e-12)
    assert s == pytest.approx(animals["y"].std(ddof=1), rel=1e-12)


# ------------------------------------------------------------------------------ the likelihood check


def test_change_difference_sd_follows_the_closed_form_in_rho(sensitivity):
    """Var(m_t - m_0) = 2 sigma^2 (1 - rho) / n: the posterior SD falls as rho rises, ratio ~ sqrt(0.8 / 0.2)."""
    assert len(sensitivity) == len(TIMES) - 1
    assert list(sensitivity["time"]) == list(TIMES[1:])
    assert all(d.passed for d in sensitivity.attrs["diagnostics"].values())
    sd02, sd05, sd08 = (sensitivity[f"rho={r} sd"].to_numpy() for r in ("0.2", "0.5", "0.8"))
    assert np.all(sd02 > sd05) and np.all(sd05 > sd08)
    ratio = sd02 / sd08
    expected = np.sqrt((1 - 0.2) / (1 - 0.8))
    assert np.all(np.abs(ratio / expected - 1) < 0.25), ratio
    for r in ("0.2", "0.5", "0.8"):
        assert np.all(sensitivity[f"rho={r} ci_low"] < sensitivity[f"rho={r} median"])
        assert np.all(sensitivity[f"rho={r} median"] < sensitivity[f"rho={r} ci_high"])
    assert "cannot be reproduced exactly" in sensitivity.attrs["notes"][-1]


def test_change_difference_sd_equals_the_closed_form_given_sigma(result):
    """Given sigma, a change difference's sampling variance is 2 x 2 sigma^2 (1 - rho) / n (two groups), and its
    estimate does not depend on sigma, so (flat-ish prior on mu) its posterior variance is 4 (1 - rho) E[sigma^2] / n."""
    sigma2 = float((result.tree["posterior"]["sigma"] ** 2).mean())
    head = result.estimates[result.estimates["headline"]]
    expected = np.sqrt(4 * (1 - RHO) * sigma2 / N)
    np.testing.assert_allclose(head["sd"], expected, rtol=0.06)  # MC error of a posterior SD at ~1000 ESS: ~2-3%


def test_the_rho_05_column_is_the_single_fit(result, sensitivity):
    """Same data, rho and seed: the sensitivity table's rho = 0.5 column is the analysis's headline."""
    head = result.estimates[result.estimates["headline"]].reset_index(drop=True)
    np.testing.assert_allclose(sensitivity["rho=0.5 median"], head["median"], rtol=1e-10)


def test_the_reports_sensitivity_table_holds_the_three_fits(result, sensitivity):
    """checks["rho_sensitivity"]: the rho = 0.5 rows are the analysis's own headline, the 0.2 and 0.8 rows
    the separate fits `rho_sensitivity` makes with the same data, settings and seed."""
    sens = result.checks["rho_sensitivity"]
    assert sorted(set(sens["rho"])) == [0.2, 0.5, 0.8]
    assert sens["passed"].all() and list(sens.loc[sens["main"], "rho"].unique()) == [0.5]
    head = result.estimates[result.estimates["headline"]].reset_index(drop=True)
    main = sens[sens["rho"] == 0.5].reset_index(drop=True)
    for col in ("median", "ci_low", "ci_high"):
        np.testing.assert_array_equal(main[col].to_numpy(), head[col].to_numpy())
    for r in (0.2, 0.5, 0.8):
        part = sens[sens["rho"] == r].reset_index(drop=True)
        assert list(part["time"]) == [float(t) for t in TIMES[1:]]
        for col in ("median", "ci_low", "ci_high", "sd"):
            np.testing.assert_allclose(part[col], sensitivity[f"rho={r:g} {col}"], rtol=1e-10, err_msg=f"{r} {col}")


def test_joint_calibration_model_has_the_analysis_likelihood(table):
    """The calibration model's rotated likelihood (independent normals on sqrt(n) Q' ybar) equals the analysis's
    multivariate normal one up to a constant: the log density difference is the same at any parameter point."""
    data = st.read_summary_timecourse(table, **COLUMNS)
    priors = st.resolve_priors(data)
    a = st.build_model(data, 0.3, priors=priors)
    b = st.build_model(data, 0.3, priors=priors, joint=True)
    la, lb = a.compile_logp(), b.compile_logp()
    rng = np.random.default_rng(5)
    diffs = []
    for _ in range(3):
        point = {"mu": rng.normal(12, 3, size=(2, 4)), "sigma_log__": rng.normal(0.7, 0.3)}
        diffs.append(la(point) - lb(point))
    np.testing.assert_allclose(diffs, diffs[0], rtol=0, atol=1e-8)
    assert np.isfinite(diffs[0])


def test_replicated_summaries_have_the_closed_form_laws(table):
    """Fixed mu and sigma (one draw repeated): the replicated means of a group have covariance
    sigma^2 R(rho) / n, and the replicated SD^2 has mean sigma^2 and variance 2 sigma^4 / (n - 1)."""
    data = st.read_summary_timecourse(table, **COLUMNS)
    draws, sigma, rho = 40000, 2.0, 0.6
    mu = np.broadcast_to(np.arange(8.0).reshape(1, 1, 2, 4), (1, draws, 2, 4))
    post = __import__("xarray").Dataset({"mu": (("chain", "draw", "group", "time"), mu),
                                         "sigma": (("chain", "draw"), np.full((1, draws), sigma))})
    mean_rep, sd_rep = st.replicate_summaries(post, data, rho, seed=11)
    corr = (1 - rho) * np.eye(4) + rho * np.ones((4, 4))
    expected = sigma**2 * corr / N
    np.testing.assert_allclose(np.cov(mean_rep[:, 1, :].T), expected, atol=0.006)  # MC SD of each (co)variance ~0.0025
    np.testing.assert_allclose(mean_rep.mean(axis=0), mu[0, 0], atol=0.01)
    np.testing.assert_allclose((sd_rep**2).mean(axis=0), sigma**2, rtol=0.02)
    np.testing.assert_allclose((sd_rep**2).var(axis=0), 2 * sigma**4 / (N - 1), rtol=0.06)


def test_ppc_and_prior_sensitivity_are_in_the_checks(result):
    ppc = pd.DataFrame(result.checks["ppc"]["statistics"])
    assert len(ppc) == 2 * 2 * len(TIMES) + 1
    row = ppc[(ppc["group"] == "drug at 7 d") & (ppc["statistic"] == "sd")].iloc[0]
    assert row["observed"] == pytest.approx(_summaries(_animals()).set_index(["group", "day"]).loc[("drug", 7), "sd"],
                                            rel=1e-12)
    assert ppc["p"].between(0, 1).all()
    sens = pd.DataFrame(result.checks["sensitivity"]["table"])
    assert set(sens["estimand"]) == {"difference", "change_difference"} and len(sens) == len(TIMES) * 2 - 1


# ------------------------------------------------------------------------------ the report


def test_report_states_rho_and_shows_the_sensitivity_table(result, report):
    md = (report / "report.md").read_text(encoding="utf-8")
    assert "The paper's repeated-measures ANOVA cannot be reproduced exactly from the summaries" in md
    assert "assumes a compound-symmetry correlation rho = 0.5" in md
    assert "treated as independent across times (an approximation" in md
    assert "Rho sensitivity" in md and "ρ = 0.5 (assumed)" in md
    assert "Bayesian ANOVA" not in md  # there is none
    for name in ("rho_sensitivity", "differences", "descriptives"):
        assert (report / "tables" / f"{name}.csv").is_file() and (report / "tables" / f"{name}.tex").is_file()
    assert (report / "figures" / "summary_timecourse.png").is_file()
    shown = pd.read_csv(report / "tables" / "rho_sensitivity.csv")
    sens = result.checks["rho_sensitivity"]
    assert len(shown) == len(TIMES) - 1
    assert list(shown.columns[2:]) == [f"ρ = {r}{' (assumed)' if r == '0.5' else ''}: median [95% HDI]"
                                       for r in ("0.2", "0.5", "0.8")]
    for i, t in enumerate(TIMES[1:]):
        assert shown.loc[i, "Time"] == f"{t} d"
        for j, r in enumerate((0.2, 0.5, 0.8)):
            rec = sens[(sens["rho"] == r) & (sens["time"] == t)].iloc[0]
            expected = fmt_estimate(rec["median"], rec["ci_low"], rec["ci_high"], unit=" ng/mL")
            assert shown.iloc[i, 2 + j] == expected
            assert "ng/mL" in expected
    doc = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert doc["design"] == "summary-timecourse" and doc["settings"]["rho"] == 0.5
    assert len(doc["checks"]["rho_sensitivity"]) == 3 * (len(TIMES) - 1)
    assert doc["data"]["n_animals"] == 2 * N


def test_reloaded_report_is_the_same(report, tmp_path):
    from bayes_igf1.report.writer import write_report
    from bayes_igf1.results import load_result

    back = load_result(report)
    pd.testing.assert_frame_equal(back.checks["rho_sensitivity"], load_result(report).checks["rho_sensitivity"])
    write_report(back, tmp_path / "again")
    texts = {p.relative_to(report).as_posix() for p in report.rglob("*") if p.suffix in (".md", ".html", ".json",
                                                                                        ".csv", ".tex")}
    assert "tables/rho_sensitivity.csv" in texts
    for rel in sorted(texts):
        assert (tmp_path / "again" / rel).read_text(encoding="utf-8") == (report / rel).read_text(encoding="utf-8"), rel


def test_a_sensitivity_fit_that_failed_its_gate_is_flagged(result, table):
    from types import SimpleNamespace

    sens = result.checks["rho_sensitivity"].copy()
    sens.loc[sens["rho"] == 0.8, "passed"] = False
    fake = SimpleNamespace(checks={"rho_sensitivity": sens}, settings=result.settings, sheet=result.sheet)
    shown = st.sensitivity_display(fake)
    assert list(shown.columns[2:]) == ["ρ = 0.2: median [95% HDI]", "ρ = 0.5 (assumed): median [95% HDI]",
                                       "ρ = 0.8 (gate FAILED): median [95% HDI]"]
    data = st.read_summary_timecourse(table, **COLUMNS)
    notes = st._notes(data, 0.5, SimpleNamespace(passed=True, problems=()), sens, "day", "d")
    assert any(n.startswith("FAILED diagnostics gate of the sensitivity fit at rho = 0.8") for n in notes)


def test_design_answers_the_report(result):
    design = base.get_design(st.DESIGN)
    assert isinstance(design, base.Design) and design.name == st.DESIGN
    assert design.groups(result) == ["control", "drug"]
    verdict, words = design.verdict(result, "raised")
    assert verdict == "supported" and "rho 0.8" in words
    assert "rho = 0.5" in design.finding(result)
    with pytest.raises(DesignError, match="plan timecourse"):
        design.plan_targets(None)


# ------------------------------------------------------------------------------ command line


def _parse(argv):
    parser = argparse.ArgumentParser()
    st.SummaryTimeCourse().add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_options_build_the_analysis(table):
    design = st.SummaryTimeCourse()
    args = _parse(["--group", "group", "--time", "day", "--mean", "mean", "--sem", "sem", "--n", "n", "--rho", "0.3",
                   "--reference", "drug", "--unit", "ng/mL", "--time-unit", "day", "--level", "group=drug=drug 5 mg"])
    opts = design.options_from_args(args)
    assert opts["rho"] == 0.3 and opts["reference"] == "drug" and opts["sem"] == "sem" and opts["sd"] is None
    assert opts["unit"] == "ng/mL" and opts["time_unit"] == "day"
    # what the CLI passes besides: the reading and fitting options
    res = design.analyse(table, **opts, sheet=None, where=[], decimal=None, thousands=None, rope=1.0, ci_prob=0.9,
                         ci_kind="eti", prior_scale=1.0, draws=200, tune=200, chains=2, seed=3, progress=False,
                         retry=False, **st.SummaryTimeCourse.refit_options)
    est = res.estimates
    assert res.settings["rho"] == 0.3 and res.settings["reference"] == "drug 5 mg" and "rho_sensitivity" not in res.checks
    head = est[est["headline"]]
    assert (head["group"] == "control").all() and (head["ci_kind"] == "eti").all() and np.allclose(head["ci_prob"], 0.9)
    assert np.allclose(head["rope_high"], 1.0) and head["prob_in_rope"].notna().all()


@pytest.mark.parametrize("argv, match", [
    (["--sem", "sem", "--sd", "sd"], "both --sd 'sd' and --sem 'sem'.*Fix:"),
    ([], "neither --sd nor --sem.*Fix:"),
    (["--sem", "sem", "--rho", "1.5"], r"--rho 1.5 .*Fix:"),
])
def test_cli_bad_options_name_the_flag(argv, match):
    args = _parse(["--group", "g", "--time", "t", "--mean", "m", "--n", "n", *argv])
    with pytest.raises(BayesIGF1Error, match=match):
        st.SummaryTimeCourse().options_from_args(args)


def test_compare_is_not_available():
    with pytest.raises(BayesIGF1Error, match="--compare.*Fix: leave out --compare"):
        st.SummaryTimeCourse().compare_alternatives(argparse.Namespace())


# ------------------------------------------------------------------------------ bad input


def _raises(table, match, **kwargs):
    opts = dict(COLUMNS, **kwargs)
    with pytest.raises(DataError, match=match) as info:
        st.read_summary_timecourse(table, **opts)
    assert "Fix:" in str(info.value)
    return str(info.value)


def test_n_differing_over_time_names_the_rows(table):
    bad = table.copy()
    bad.loc[(bad["group"] == "drug") & (bad["day"] == 14), "n"] = 8
    msg = _raises(bad, "n differing over time")
    assert "'drug'" in msg and "n = 8" in msg and "row 8" in msg  # the 7th data row: spreadsheet row 8


def test_n_below_two_names_the_row(table):
    bad = table.copy()
    bad.loc[3, "n"] = 1
    msg = _raises(bad, "n must be a whole number >= 2")
    assert "row 5" in msg and "column 'n'" in msg


@pytest.mark.parametrize("value", [0.0, -0.3])
def test_a_non_positive_sem_is_an_error(table, value):
    bad = table.copy()
    bad.loc[2, "sem"] = value
    msg = _raises(bad, "must be above zero")
    assert "row 4" in msg


def test_sem_and_sd_both_or_neither(table):
    _raises(table, "exactly one of sem= and sd=", sd="sd")
    _raises(table, "exactly one of sem= and sd=", sem=None)


def test_a_missing_group_time_and_a_duplicate(table):
    _raises(table.drop(index=5), "no row for 'drug' at time 7")
    msg = _raises(pd.concat([table, table.iloc[[0]]], ignore_index=True), "given twice")
    assert "rows 2 and 10" in msg


def test_a_single_time_is_an_error(table):
    _raises(table[table["day"] == 7], "single time")


@pytest.mark.parametrize("rho", [-0.34, -0.5, 1.0, 1.2, float("nan")])
def test_rho_outside_the_compound_symmetry_range(table, rho):
    # T = 4 times: a valid compound-symmetry correlation lies in (-1/3, 1)
    with pytest.raises(DesignError, match=r"outside \(-0.3333, 1\).*Fix:"):
        st.analyse_summary_timecourse(table, **COLUMNS, rho=rho, **SAMPLER)
    with pytest.raises(DesignError, match="Fix:"):
        st.rho_sensitivity(table, **COLUMNS, rhos=(0.5, rho), **SAMPLER)


def test_reads_a_csv_and_orders_numeric_times(table, tmp_path):
    path = tmp_path / "fig.csv"
    table.sample(frac=1.0, random_state=3).to_csv(path, index=False)
    data = st.read_summary_timecourse(path, **COLUMNS, reference="drug")
    assert data.groups == ("drug", "control") and data.times == TIMES
    np.testing.assert_array_equal(data.n, [N, N])
    with pytest.raises(DataError, match="not a group"):
        st.read_summary_timecourse(path, **COLUMNS, reference="saline")


def test_decimal_commas_and_units_in_the_time_cells(table, tmp_path):
    text = table.assign(day=[f"{d} d" for d in table["day"]]).to_csv(sep=";", index=False, decimal=",")
    path = tmp_path / "comma.csv"
    path.write_text(text, encoding="utf-8")
    data = st.read_summary_timecourse(path, **COLUMNS, decimal=",")
    ref = st.read_summary_timecourse(table, **COLUMNS)
    np.testing.assert_allclose(data.mean, ref.mean, rtol=1e-12)
    assert data.times == TIMES and data.sheet.time_unit == "d"


def test_where_selects_the_rows_and_the_ledger_keeps_the_others(table, tmp_path):
    other = table.assign(group=table["group"] + " (exp 2)", experiment="2")
    both = pd.concat([table.assign(experiment="1"), other], ignore_index=True)
    path = tmp_path / "two.csv"
    both.to_csv(path, index=False)
    data = st.read_summary_timecourse(path, **COLUMNS, where=["experiment=1"])
    assert data.groups == ("control", "drug")
    led = data.sheet.ledger
    assert led.rows_read == 16 and led.rows_used == 8
    assert {e["row"] for e in led.excluded} == set(range(10, 18))
    with pytest.raises(DataError, match="no row has experiment=3"):
        st.read_summary_timecourse(path, **COLUMNS, where=["experiment=3"])
