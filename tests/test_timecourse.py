"""Time-course design: graph, estimand maths by hand, the shipped data's finding, recovery."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_igf1.designs import timecourse as tc
from bayes_igf1.errors import DesignError
from bayes_igf1.simulate import simulate_timecourse

DATA = Path(__file__).resolve().parent.parent / "data"


def _frame(groups=("saline", "ket"), animals=3, times=(-1, 0, 1, 2, 3), censor_first=False):
    rows, r = [], 2
    rng = np.random.default_rng(0)
    for g in groups:
        for k in range(animals):
            for t in times:
                v = float(np.exp(3 + rng.normal(0, 0.2) + (0.4 if (g != groups[0] and t > 0) else 0)))
                rows.append(dict(row=r, animal=f"{g}{k}", group=g, time=float(t), value=v, censored=False, limit=np.nan))
                r += 1
    f = pd.DataFrame(rows)
    if censor_first:
        f.loc[0, ["value", "censored", "limit"]] = [10.0, True, 10.0]
    f["group"] = pd.Categorical(f["group"], categories=list(groups))
    return f


@pytest.mark.parametrize("likelihood,ar1", [("student", False), ("normal", False), ("student", True)])
@pytest.mark.parametrize("baseline", ["auto", "none"])
def test_graph_builds_with_finite_logp_and_gradient(likelihood, ar1, baseline):
    opt = tc.TimecourseOptions(likelihood=likelihood, baseline=baseline, ar1=ar1)
    data = tc.prepare(_frame(censor_first=True), opt)
    model = tc.build_model(data, tc.default_priors(data, opt), opt)
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))
    assert set(model.named_vars_to_dims["beta"]) == {"group", "time"}
    assert "y_below_limit" in model.named_vars  # the censored fraction is its own term
    assert ("rho" in model.named_vars) == ar1
    expected_times = [1.0, 2.0, 3.0] if baseline == "auto" else [-1.0, 0.0, 1.0, 2.0, 3.0]
    assert list(model.coords["time"]) == expected_times


def test_previous_fraction_by_hand():
    # Animal a sampled at 0, 1, 3 (file order shuffled); animal b at 1 only.
    prev, dt = tc._previous_fraction(np.array(["a", "b", "a", "a"]), np.array([3.0, 1.0, 0.0, 1.0]))
    assert prev.tolist() == [3, -1, -1, 2]
    assert dt.tolist() == [2.0, 0.0, 0.0, 1.0]


def test_ar1_log_density_equals_the_conditional_normal_by_hand():
    """One animal, three fractions, normal AR(1): the y term is the product of conditional normals."""
    from scipy import stats

    f = pd.DataFrame({"row": [2, 3, 4, 5, 6, 7], "animal": ["a"] * 3 + ["b"] * 3,
                      "group": pd.Categorical(["s"] * 3 + ["k"] * 3, categories=["s", "k"]),
                      "time": [-1.0, 1.0, 3.0] * 2, "value": np.exp([1.0, 1.5, 1.2, 2.0, 2.2, 2.9]),
                      "censored": False, "limit": np.nan})
    opt = tc.TimecourseOptions(likelihood="normal", ar1=True)
    data = tc.prepare(f, opt)
    model = tc.build_model(data, tc.default_priors(data, opt), opt)
    point = model.initial_point()
    # Three fractions per animal: non-centred, alpha = mu + sigma_animal * alpha_z = alpha_z here.
    point.update({"beta": np.array([[0.3, 0.1], [0.6, 0.8]]), "mu": 0.0, "sigma_animal_log__": 0.0,
                  "alpha_z": np.array([1.1, 2.05]), "sigma_log__": np.log(0.4),
                  "rho_interval__": 0.0})  # rho = 0.5 on the logit scale
    got = model.compile_logp(vars=[model["y"]], jacobian=False)(point)
    # By hand: means alpha + beta (0 at baseline); residual chain with rho^dt, dt = 2 h after baseline.
    y = np.log(f["value"].to_numpy())
    mean = np.array([1.1, 1.1 + 0.3, 1.1 + 0.1, 2.05, 2.05 + 0.6, 2.05 + 0.8])
    expected = 0.0
    for animal in (slice(0, 3), slice(3, 6)):
        e, m = y[animal] - mean[animal], mean[animal]
        expected += stats.norm.logpdf(y[animal][0], m[0], 0.4)
        for j in (1, 2):
            d = 0.5 ** 2.0
            expected += stats.norm.logpdf(y[animal][j], m[j] + d * e[j - 1], 0.4 * np.sqrt(1 - d**2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_reference_must_be_a_level():
    with pytest.raises(DesignError, match="'saline', 'ket'"):
        tc.prepare(_frame(), tc.TimecourseOptions(reference="vehicle"))


def test_reference_reorders_groups():
    data = tc.prepare(_frame(), tc.TimecourseOptions(reference="ket"))
    assert data.groups == ("ket", "saline")


def test_auto_baseline_needs_pre_injection_fractions():
    with pytest.raises(DesignError, match="--baseline none"):
        tc.prepare(_frame(times=(1, 2, 3)), tc.TimecourseOptions())


def _hand_posterior(beta: np.ndarray, groups, times) -> xr.Dataset:
    """A posterior of 2 chains x 2 draws with the given beta (chain, draw, group, time)."""
    return xr.Dataset({"beta": (("chain", "draw", "group", "time"), beta)},
                      coords={"group": list(groups), "time": list(times)})


def test_estimands_worked_by_hand():
    data = tc.prepare(_frame(groups=("saline", "ket10", "ket30")), tc.TimecourseOptions())
    beta = np.zeros((2, 2, 3, 3))
    beta[..., 1, :] = [np.log(1.5), np.log(2.0), np.log(1.2)]     # ket10
    beta[..., 2, :] = [np.log(2.0), np.log(3.0), np.log(0.9)]     # ket30
    beta[0, 0, 0, :] = [np.log(1.1), 0.0, 0.0]                    # saline, one draw differs
    out = tc.estimand_draws(_hand_posterior(beta, data.groups, data.times), data)
    eff = out["effect_vs_reference"]
    # draw (1, 1): saline at 0 -> ket10 at 1 h is +50%.
    assert float(eff.sel(group="ket10", time=1.0)[1, 1]) == pytest.approx(50.0)
    # draw (0, 0): saline at 1.1x -> ket10 1.5/1.1 - 1 = 36.36...%.
    assert float(eff.sel(group="ket10", time=1.0)[0, 0]) == pytest.approx(100 * (1.5 / 1.1 - 1))
    # % of baseline trajectory and its trapezoidal AUC over hours 1..3: (150+200)/2 + (200+120)/2 = 335.
    assert float(out["trajectory"].sel(group="ket10")[1, 1, 0]) == pytest.approx(150.0)
    assert float(out["auc"].sel(group="ket10")[1, 1]) == pytest.approx(335.0)
    assert float(out["auc_difference"].sel(group="ket10")[1, 1]) == pytest.approx(335.0 - 200.0)
    # Peak: ket30 at 2 h, 300%.
    assert float(out["peak_time"].sel(group="ket30")[1, 1]) == 2.0
    assert float(out["peak_value"].sel(group="ket30")[1, 1]) == pytest.approx(300.0)
    # Sustained: ket10 > saline at every time; ket30 falls below at 3 h.
    assert float(out["sustained"].sel(group="ket10").mean()) == 1.0
    assert float(out["sustained"].sel(group="ket30").mean()) == 0.0
    # Dose comparison ket30 vs ket10 at 2 h: 3.0 / 2.0 - 1 = +50%.
    comp = out["between_treatments"].sel(comparison="ket30 vs ket10", time=2.0)
    assert float(comp[1, 1]) == pytest.approx(50.0)


def test_percent_of_baseline_by_hand():
    f = pd.DataFrame({
        "row": [2, 3, 4, 5, 6], "animal": ["a"] * 5, "group": pd.Categorical(["s"] * 5),
        "time": [-1.0, 0.0, 1.0, 2.0, 3.0], "value": [10.0, 30.0, 40.0, 8.0, 20.0],
        "censored": [False, False, False, True, False], "limit": [np.nan, np.nan, np.nan, 8.0, np.nan],
    })
    post, no_base = tc.percent_of_baseline(f)
    # baseline mean 20; the censored 8 enters as 4.
    assert post["pct"].tolist() == pytest.approx([200.0, 20.0, 100.0])
    assert no_base == []


@pytest.fixture(scope="module")
def shipped():
    return tc.analyse_timecourse(DATA / "microdialysis_igf1.csv", animal="mouse", group="treatment",
                                 time="hour", value="igf1_pg_ml", lloq=8.0, draws=300, tune=300, chains=2)


def test_shipped_data_show_the_finding(shipped):
    """Ketamine raises IGF-1 for at least 5 h, more at 30 mg/kg (the study's Fig. 1)."""
    e = shipped.estimates
    eff = e[e["name"] == "effect_vs_reference"].set_index(["group", "time"])
    for g in ("ketamine 10", "ketamine 30"):
        for t in (1.0, 2.0, 3.0, 4.0, 5.0):
            assert eff.loc[(g, t), "ci_low"] > 0, (g, t)
    auc = e[e["name"] == "auc_difference"].set_index("group")
    assert auc.loc["ketamine 30", "median"] > auc.loc["ketamine 10", "median"] > 0
    dose = e[e["name"] == "between_treatments"]
    assert (dose["median"] > 0).mean() >= 5 / 6


def test_shipped_result_structure(shipped):
    doc = json.loads(shipped.to_json())
    for key in ("design", "package_version", "seed", "settings", "data", "diagnostics", "estimates",
                "anova", "anova_data", "mixed_model", "checks"):
        assert key in doc
    assert doc["design"] == "timecourse"
    assert doc["data"]["rows_read"] == doc["data"]["rows_used"] + len(doc["data"]["excluded"])
    assert [a["effect"] for a in doc["anova"]] == ["treatment", "hour", "treatment:hour"]
    # The RM ANOVA drops the animals with a lost post-injection fraction (M04 lost a baseline
    # fraction only, so its % of baseline rests on the other one); the Bayesian model keeps them.
    assert sorted(doc["anova_data"]["animals_dropped"]) == ["M07", "M16"]
    assert doc["data"]["n_animals"] == 21
    est = [x for x in doc["estimates"] if x["name"] == "effect_vs_reference"]
    assert len(est) == 12 and all(x["frequentist"]["p_adjusted"] is not None for x in est)
    assert all(x["ci_prob"] == 0.95 for x in doc["estimates"])


def test_frequentist_twin_matches_the_frequentist_module(shipped):
    """The design passes % of baseline of complete animals to rm_anova unchanged."""
    from bayes_igf1.frequentist.repeated import rm_anova

    post, _ = tc.percent_of_baseline(shipped.sheet.frame)
    direct = rm_anova(post.assign(group=post["group"].astype(str)), subject="animal", between="group",
                      within="time", dv="pct")
    np.testing.assert_allclose(shipped.anova["F"].to_numpy(), direct.table["F"].to_numpy(), rtol=1e-12)


@pytest.mark.slow
def test_recovery_of_percent_change():
    """On simulated data with known truth, each 95% HDI of the % change covers the truth."""
    effects = {"saline": [0.0] * 6, "ketamine 10": [0.3, 0.5, 0.5, 0.4, 0.3, 0.2],
               "ketamine 30": [0.6, 0.8, 0.8, 0.7, 0.6, 0.6]}
    df, truth = simulate_timecourse(n_per_group=7, baseline_log_mean=np.log(20), animal_sd=0.4, residual_sd=0.13,
                                    residual_nu=5, effects=effects, seed=11)
    res = tc.analyse_timecourse(df, animal="mouse", group="treatment", time="hour", value="igf1_pg_ml",
                                draws=1000, tune=1000, chains=4)
    assert res.diagnostics.max_rhat <= 1.01
    e = res.estimates[res.estimates["name"] == "effect_vs_reference"]
    for rec in e.to_dict("records"):
        true = truth["pct_change_vs_reference"][rec["group"]][f"{rec['time']:g}"]
        assert rec["ci_low"] <= true <= rec["ci_high"], (rec["group"], rec["time"], true)


@pytest.mark.parametrize("baseline", ["auto", "none"])
def test_bayesian_partial_eta_squared_equals_rm_anova_at_the_least_squares_fit(baseline):
    # Closed form: a posterior draw at the least-squares fit (animal level = its baseline mean,
    # beta = the cell means of the log change from baseline) gives each stratum's
    # SS / (SS + SS_error) of the RM ANOVA of the same log values (R-pinned rm_anova), on
    # balanced data.
    from bayes_igf1.frequentist.repeated import rm_anova

    frame = _frame(groups=("saline", "k10", "k30"), animals=4, times=(-1, 0, 1, 2, 3))
    opt = tc.TimecourseOptions(baseline=baseline)
    data = tc.prepare(frame, opt)
    work = frame.assign(y=np.log(frame["value"]))
    if baseline == "auto":
        base = work[work["time"] <= 0].groupby("animal")["y"].mean()
        work = work[work["time"] > 0].assign(d=lambda f: f["y"] - f["animal"].map(base))
        level = base.reindex(list(data.animals)).to_numpy()
    else:
        work = work.assign(d=work["y"])
        level = np.zeros(len(data.animals))
    cells = work.groupby(["group", "time"], observed=True)["d"].mean().unstack().loc[list(data.groups), list(data.times)]
    post = xr.Dataset(
        {"beta": (("chain", "draw", "group", "time"), cells.to_numpy()[None, None]),
         "alpha": (("chain", "draw", "animal"), level[None, None])},
        coords={"chain": [0], "draw": [0], "group": list(data.groups), "time": list(data.times),
                "animal": list(data.animals)},
    )
    eta = tc.bayesian_anova(post, data)["partial_eta_sq"]
    aov = rm_anova(work.assign(group=work["group"].astype(str)), subject="animal", between="group",
                   within="time", dv="d").table.set_index("effect")
    assert eta["group"].item() == pytest.approx(aov.loc["group", "partial_eta_sq"], rel=1e-10)
    assert eta["time"].item() == pytest.approx(aov.loc["time", "partial_eta_sq"], rel=1e-10)
    assert eta["group:time"].item() == pytest.approx(aov.loc["group:time", "partial_eta_sq"], rel=1e-10)


def test_effect_prior_is_scaled_from_the_largest_observed_change():
    # Two animals per group; baseline log values 1 and 3 (means per animal); the treated group
    # rises by 1.9 at time 2: the largest mean change from baseline is 1.9, so beta's prior
    # scale is 2 x 1.9 = 3.8, not 2 x the SD of all values.
    rows, r = [], 2
    for g, rise in (("control", 0.0), ("treated", 1.9)):
        for k, level in enumerate((1.0, 3.0)):
            for t, d in ((-1, 0.0), (1, rise / 2), (2, rise)):
                rows.append(dict(row=r, animal=f"{g}{k}", group=g, time=float(t), value=float(np.exp(level + d)),
                                 censored=False, limit=np.nan))
                r += 1
    frame = pd.DataFrame(rows)
    frame["group"] = pd.Categorical(frame["group"], categories=["control", "treated"])
    opt = tc.TimecourseOptions()
    data = tc.prepare(frame, opt)
    assert tc.largest_change(data) == pytest.approx(1.9)
    s = np.std(np.log(frame["value"]), ddof=1)
    assert s < 1.9  # the old rule, 2 s, would have been narrower than the effect
    assert tc.default_priors(data, opt)["beta"]["sigma"] == pytest.approx(3.8, abs=1e-4)


def test_ar1_with_data_equals_a_fresh_compile_on_the_new_data(tmp_path, monkeypatch):
    """The AR(1) lag follows y_data: swapping data in gives the density and draws of a fresh compile."""
    import nutpie
    from test_compile import _logp

    from bayes_igf1.compile import compile_model

    monkeypatch.setenv("BAYES_IGF1_CACHE_DIR", str(tmp_path))
    opt = tc.TimecourseOptions(ar1=True, likelihood="normal")  # the lag is the same with Student-t; faster
    frame = _frame(censor_first=True)
    data = tc.prepare(frame, opt)
    priors = tc.default_priors(data, opt)  # fixed priors, as calibration and planning use
    measured = ~frame["censored"].to_numpy()
    new_frame = frame.copy()
    new_frame.loc[measured, "value"] *= np.exp(np.random.default_rng(5).normal(0.0, 0.3, measured.sum()))
    new = tc.prepare(new_frame, opt)
    assert new.lower[0] == data.lower[0] and np.isfinite(new.lower[0])  # the below-limit row is unchanged
    swapped = compile_model(tc.build_model(data, priors, opt)).with_data(y_data=new.y[measured])
    fresh = compile_model(tc.build_model(new, priors, opt))
    assert swapped.n_dim == fresh.n_dim
    for x in np.random.default_rng(2).normal(0.0, 0.5, size=(3, fresh.n_dim)):
        code, lp, grad = _logp(swapped, x)
        code_f, lp_f, grad_f = _logp(fresh, x)
        assert code == code_f == 0
        assert lp == pytest.approx(lp_f, rel=1e-12)
        np.testing.assert_allclose(grad, grad_f, rtol=1e-10, atol=1e-12)
    kw = dict(draws=25, tune=25, chains=1, cores=1, seed=7, progress_bar=False)
    a = nutpie.sample(swapped, **kw).posterior
    b = nutpie.sample(fresh, **kw).posterior
    for name in ("beta", "rho", "sigma"):
        np.testing.assert_allclose(a[name].values, b[name].values, rtol=1e-9)


@pytest.mark.parametrize("case", ["all below the limit", "constant"])
def test_an_outcome_with_nothing_to_estimate_is_a_design_error_before_any_fit(case, monkeypatch):
    import bayes_igf1.sampling

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted")

    monkeypatch.setattr(bayes_igf1.sampling, "fit", no_fit)
    rows = [dict(mouse=f"{g}{k}", treatment=g, hour=t)
            for g in ("saline", "ket") for k in range(3) for t in (-1, 0, 1, 2)]
    sheet = pd.DataFrame(rows).assign(igf1="<LLOQ" if case == "all below the limit" else "12.5")
    expected = "below the assay limit" if case == "all below the limit" else "values is 12.5"
    with pytest.raises(DesignError, match=expected) as err:
        tc.analyse_timecourse(sheet, animal="mouse", group="treatment", time="hour", value="igf1", lloq=8.0,
                              draws=10, tune=10, chains=2)
    assert "Fix:" in str(err.value)
    # prepare itself refuses the validated frame (the one place the check lives).
    frame = _frame()
    if case == "all below the limit":
        frame = frame.assign(value=10.0, censored=True, limit=10.0)
    else:
        frame = frame.assign(value=12.5)
    with pytest.raises(DesignError, match=expected):
        tc.prepare(frame, tc.TimecourseOptions())


def test_the_reported_draws_are_stored_with_the_result(shipped):
    store = shipped.tree["estimands"]
    e = shipped.estimates
    row = e[(e["name"] == "auc_difference")].iloc[0]
    auc = store["auc_difference"]
    group_dim = next(d for d in auc.dims if d not in ("chain", "draw"))
    draws = auc.sel({group_dim: row["group"]}).values.ravel()
    assert float(np.median(draws)) == pytest.approx(row["median"], rel=1e-9)


def test_prior_estimands_hold_the_auc_differences_under_the_prior(shipped):
    """The prior's AUC difference of each dose (the prior-vs-posterior panel) is the same function of the prior
    draws as the posterior's of the posterior draws: the prior one is far wider than the posterior one."""
    design = tc.TimeCourse()
    prior, post = design.headline_draws(shipped, "prior_estimands"), design.headline_draws(shipped)
    assert set(prior) == set(post) and len(post) == 2
    for label, (draws, scale) in post.items():
        row = shipped.estimates[shipped.estimates["label"] == label].iloc[0]
        assert float(np.median(draws)) == pytest.approx(row["median"], rel=1e-12)
        assert np.std(prior[label][0]) > 3 * np.std(draws)
