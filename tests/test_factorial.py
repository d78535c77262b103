"""Tests of the factorial (A x B between-animal) design: bayes_igf1.designs.factorial.

Fast: the graph builds with finite log-p and gradient for every variant, contrast maths on
hand-made posteriors, the Savage-Dickey prior density, validation, two tiny end-to-end fits
(one row per animal; several rows per animal) checked against bayes_igf1.frequentist.between.
Slow: recovery of simulated truth with proper draws.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_igf1.designs import factorial as fx
from bayes_igf1.errors import DesignError
from bayes_igf1.frequentist import between
from bayes_igf1.results import ESTIMATE_COLUMNS, AnalysisResult
from bayes_igf1.simulate import simulate_factorial

FIXTURES = Path(__file__).parent / "fixtures"
A, B = "treatment", "antibody"
TRUE_MEANS = {("saline", "IgG"): 150.0, ("saline", "nAb"): 153.0, ("ketamine", "IgG"): 90.0, ("ketamine", "nAb"): 146.0}
ANIMAL_DIM = "animal"
TINY = dict(draws=200, tune=200, chains=2, retry=False)


# ------------------------------------------------------------------------------ helpers


def make_frame(levels_a=("saline", "ketamine"), levels_b=("IgG", "nAb"), n=4, rows_per_animal=1,
               cohorts=0, censor_at=None, positive=False, seed=1) -> pd.DataFrame:
    """A validated-looking tidy frame (the columns io.read_factorial returns)."""
    rng = np.random.default_rng(seed)
    recs = []
    k = 0
    for i, la in enumerate(levels_a):
        for j, lb in enumerate(levels_b):
            for _ in range(n):
                k += 1
                level = 100 + 10 * i - 5 * j + rng.normal(0, 8)
                for _ in range(rows_per_animal):
                    v = level + rng.normal(0, 5)
                    recs.append({"animal": f"m{k:03d}", A: la, B: lb, "value": abs(v) if positive else v,
                                 "cohort": str(1 + k % cohorts) if cohorts else None})
    f = pd.DataFrame(recs)
    f.insert(0, "row", np.arange(len(f)) + 2)
    f[A] = pd.Categorical(f[A], categories=list(levels_a))
    f[B] = pd.Categorical(f[B], categories=list(levels_b))
    if censor_at is not None:
        f["censored"] = f["value"] >= censor_at
        f.loc[f["censored"], "value"] = censor_at
    else:
        f["censored"] = False
    if not cohorts:
        f = f.drop(columns="cohort")
    return f


def hand_posterior(cell: np.ndarray, levels_a, levels_b, sigma, **extra) -> xr.Dataset:
    """Posterior with chain 1 and the draws of ``cell`` (draw, A, B)."""
    cell = np.asarray(cell, dtype=float)
    ds = xr.Dataset(
        {"cell_mean": (("chain", "draw", A, B), cell[None]),
         "sigma": (("chain", "draw"), np.asarray(sigma, dtype=float)[None])},
        coords={"chain": [0], "draw": np.arange(cell.shape[0]), A: list(levels_a), B: list(levels_b)},
    )
    for name, v in extra.items():
        ds[name] = (("chain", "draw"), np.asarray(v, dtype=float)[None])
    return ds


def data_for(levels_a, levels_b, family="normal", blocker=B, **kw) -> fx.FactorialData:
    frame = make_frame(levels_a, levels_b, positive=family == "lognormal", **kw)
    return fx.prepare(frame, [A, B], fx.FactorialOptions(family=family, blocker=blocker))


# ------------------------------------------------------------------------------ graph builds


CASES = {
    "2x2 normal": dict(),
    "2x3 normal": dict(levels_b=("IgG", "nAb", "BDNF nAb")),
    "3x2 student": dict(levels_a=("saline", "ket 10", "ket 30"), family="student"),
    "student censored": dict(family="student", censor_at=105.0),
    "lognormal censored": dict(family="lognormal", censor_at=105.0),
    "normal censored": dict(censor_at=105.0),
    "cohort fixed": dict(cohorts=3),
    "cohort random": dict(cohorts=6),
    "animal centred + cohort": dict(rows_per_animal=6, cohorts=2),
    "animal non-centred": dict(rows_per_animal=2, family="student"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_graph_builds_with_finite_logp_and_gradient(case):
    kw = dict(CASES[case])
    family = kw.pop("family", "normal")
    frame = make_frame(positive=family == "lognormal", **kw)
    options = fx.FactorialOptions(family=family)
    data = fx.prepare(frame, [A, B], options)
    priors = fx.resolve_priors(data, options)
    model = fx.build_model(data, priors, options)
    assert model.named_vars_to_dims["cell_mean"] == (A, B)
    assert list(model.coords[A]) == list(frame[A].cat.categories)
    assert list(model.coords[B]) == list(frame[B].cat.categories)
    free = {v.name for v in model.free_RVs}
    assert free == set(fx.free_parameters(data))
    assert ("y_censored" in model.named_vars) == bool(frame["censored"].any())
    if frame["censored"].any():
        assert len(model.coords["obs_censored"]) == frame["censored"].sum()
        assert len(model.coords["obs"]) == (~frame["censored"]).sum()
    assert (ANIMAL_DIM in model.coords) == data.animal_effect
    assert data.animal_effect == (kw.get("rows_per_animal", 1) > 1)
    if kw.get("cohorts"):
        assert data.cohort_kind == ("fixed" if kw["cohorts"] < 5 else "random")
    point = model.initial_point()
    logp = model.compile_logp()(point)
    grad = model.compile_dlogp()(point)
    assert np.isfinite(logp)
    assert np.all(np.isfinite(grad))


def test_centring_follows_observations_per_animal():
    assert data_for(("s", "k"), ("I", "n"), rows_per_animal=6).centred
    assert not data_for(("s", "k"), ("I", "n"), rows_per_animal=2).centred
    assert not data_for(("s", "k"), ("I", "n")).animal_effect


def test_priors_scale_with_data_and_prior_scale_and_user_override():
    data = data_for(("s", "k"), ("I", "n"), family="student")
    s = float(np.std(data.y, ddof=1))
    p1 = fx.resolve_priors(data, fx.FactorialOptions(family="student"))
    p2 = fx.resolve_priors(data, fx.FactorialOptions(family="student", prior_scale=2.0))
    assert p1["cell_mean"]["mu"] == pytest.approx(np.mean(data.y), rel=1e-5)
    assert p1["cell_mean"]["sigma"] == pytest.approx(2.5 * s, rel=1e-5)
    assert p1["sigma"]["sigma"] == pytest.approx(s, rel=1e-5)
    assert p1["nu"] == {"dist": "Gamma", "alpha": 2.0, "beta": 0.1}
    assert p2["cell_mean"]["sigma"] == pytest.approx(2 * p1["cell_mean"]["sigma"], rel=1e-5)
    assert p2["nu"]["beta"] == pytest.approx(0.05)
    user = fx.resolve_priors(data, fx.FactorialOptions(family="student"),
                             {"sigma": {"sigma": 3.0}, "nu": {"dist": "Exponential", "lam": 1 / 30}})
    assert user["sigma"] == {"dist": "HalfNormal", "sigma": 3.0}
    assert user["nu"] == {"dist": "Exponential", "lam": 1 / 30}
    with pytest.raises(DesignError, match="no prior called 'sigma_animal'"):
        fx.resolve_priors(data, fx.FactorialOptions(), {"sigma_animal": {"sigma": 1}})
    with pytest.raises(DesignError, match="must be Normal"):
        fx.resolve_priors(data, fx.FactorialOptions(), {"cell_mean": {"dist": "StudentT", "nu": 3, "mu": 0, "sigma": 1}})


# ------------------------------------------------------------------------------ contrast maths


def test_contrasts_on_hand_made_posterior_2x3():
    la, lb = ("saline", "ketamine"), ("IgG", "nAb", "other")
    data = data_for(la, lb)
    # Two draws of the 2 x 3 cell means, worked by hand below.
    cell = np.array([
        [[10.0, 11.0, 12.0], [4.0, 9.0, 13.0]],
        [[20.0, 20.0, 20.0], [12.0, 18.0, 16.0]],
    ])
    sigma = np.array([2.0, 4.0])
    post = hand_posterior(cell, la, lb, sigma)
    d = fx.estimand_draws(post, data)
    sel = lambda da, **c: da.isel(chain=0).sel(c).values  # noqa: E731
    # simple effects of A (ketamine - saline) within each B level
    np.testing.assert_allclose(sel(d["simple_a"], treatment="ketamine", antibody="IgG"), [-6, -8])
    np.testing.assert_allclose(sel(d["simple_a"], treatment="ketamine", antibody="nAb"), [-2, -2])
    np.testing.assert_allclose(sel(d["simple_a"], treatment="ketamine", antibody="other"), [1, -4])
    # simple effects of B within each A level
    np.testing.assert_allclose(sel(d["simple_b"], treatment="saline", antibody="nAb"), [1, 0])
    np.testing.assert_allclose(sel(d["simple_b"], treatment="ketamine", antibody="other"), [9, 4])
    # interaction: (ket - sal | b) - (ket - sal | IgG)
    np.testing.assert_allclose(sel(d["interaction"], treatment="ketamine", antibody="nAb"), [4, 6])
    np.testing.assert_allclose(sel(d["interaction"], treatment="ketamine", antibody="other"), [7, 4])
    # blockade: 100 (1 - effect under b / effect under IgG)
    np.testing.assert_allclose(sel(d["blockade_pct"], treatment="ketamine", antibody="nAb"), [100 * (1 - 2 / 6), 75.0])
    np.testing.assert_allclose(sel(d["blockade_pct"], treatment="ketamine", antibody="other"), [100 * (1 + 1 / 6), 50.0])
    # Cohen's d on the residual SD
    np.testing.assert_allclose(sel(d["d_simple_a"], treatment="ketamine", antibody="IgG"), [-3, -2])
    np.testing.assert_allclose(sel(d["d_interaction"], treatment="ketamine", antibody="nAb"), [2, 1.5])
    assert "dtot_simple_a" not in d  # no random effects
    # sum-to-zero main effects: row means minus grand mean
    np.testing.assert_allclose(sel(d["main_a"], treatment="saline"), [11 - (11 + 26 / 3) / 2, 20 - (20 + 46 / 3) / 2])
    np.testing.assert_allclose(d["main_b"].sum(B).values, 0.0, atol=1e-12)


def test_total_sd_effect_size_and_lognormal_ratios():
    la, lb = ("s", "k"), ("I", "n")
    cell = np.array([[[1.0, 1.5], [0.0, 1.2]]])
    post = hand_posterior(cell, la, lb, [0.3], sigma_animal=[0.4])
    data = data_for(la, lb)
    d = fx.estimand_draws(post, data)
    np.testing.assert_allclose(d["dtot_simple_a"].sel({A: "k", B: "I"}).values.ravel(), [-1.0 / 0.5])
    log = data_for(la, lb, family="lognormal")
    r = fx.estimand_draws(post, log)
    np.testing.assert_allclose(r["cell"].values.ravel(), np.exp([1.0, 1.5, 0.0, 1.2]))
    np.testing.assert_allclose(r["simple_a"].sel({A: "k", B: "I"}).values.ravel(), [math.exp(-1.0)])
    np.testing.assert_allclose(r["pct_change_a"].sel({A: "k", B: "n"}).values.ravel(), [100 * (math.exp(-0.3) - 1)])
    np.testing.assert_allclose(r["interaction"].sel({A: "k", B: "n"}).values.ravel(), [math.exp(0.7)])
    np.testing.assert_allclose(r["blockade_pct"].sel({A: "k", B: "n"}).values.ravel(), [70.0])  # log scale
    np.testing.assert_allclose(r["d_simple_a"].sel({A: "k", B: "I"}).values.ravel(), [-1.0 / 0.3])


def test_estimates_table_structure_and_rope():
    la, lb = ("saline", "ketamine"), ("IgG", "nAb")
    data = data_for(la, lb)
    rng = np.random.default_rng(0)
    cell = np.array([[150, 153], [90, 146]])[None] + rng.normal(0, 5, (400, 2, 2))
    post = hand_posterior(cell, la, lb, np.full(400, 30.0))
    options = fx.FactorialOptions(rope=5.0)
    tab = fx.estimates_table(fx.estimand_draws(post, data), data, options)
    assert list(tab.columns) == ESTIMATE_COLUMNS
    assert set(tab["name"]) == {"cell_mean", "main_effect", "simple_effect", "interaction", "blockade_pct", "cohens_d"}
    head = tab[tab["headline"]]
    assert set(head["name"]) == {"simple_effect", "interaction", "blockade_pct"}
    assert set(head.loc[head["name"] == "simple_effect", "group"]) == {A}
    row = tab[(tab["name"] == "simple_effect") & (tab["cell"] == "ketamine|IgG")].iloc[0]
    assert row["label"] == "ketamine vs saline within IgG"
    assert row["reference"] == "saline|IgG"
    assert row["median"] == pytest.approx(-60, abs=2)
    assert (row["rope_low"], row["rope_high"]) == (-5.0, 5.0)
    inter = tab[tab["name"] == "interaction"].iloc[0]
    assert inter["cell"] == "ketamine|nAb" and inter["median"] == pytest.approx(53, abs=3)
    blk = tab[tab["name"] == "blockade_pct"].iloc[0]
    draws = 100 * (1 - (cell[:, 1, 1] - cell[:, 0, 1]) / (cell[:, 1, 0] - cell[:, 0, 0]))
    assert blk["prob_above"] == pytest.approx(np.mean(draws > 50))
    assert np.isnan(blk["rope_low"])
    assert tab.loc[tab["name"] == "cell_mean", "cell"].tolist() == ["saline|IgG", "saline|nAb", "ketamine|IgG", "ketamine|nAb"]


def test_bayesian_anova_on_hand_made_posterior():
    la, lb = ("s", "k"), ("I", "n")
    data = data_for(la, lb)
    cell = np.array([[[0.0, 2.0], [4.0, 10.0]]])
    post = hand_posterior(cell, la, lb, [1.0])
    parts = fx.bayesian_anova(post, data)
    # row means 1, 7 -> main A +-3 -> SD (ddof 1) sqrt(18); column means 2, 6 -> SD sqrt(8);
    # interaction residuals +-1 -> sqrt(4 / 1) = 2
    assert parts["sd"][A].item() == pytest.approx(math.sqrt(18))
    assert parts["sd"][B].item() == pytest.approx(math.sqrt(8))
    assert parts["sd"][f"{A}:{B}"].item() == pytest.approx(2.0)
    fitted = np.array([[0.0, 2.0], [4.0, 10.0]])[tuple(data.obs_cells.T)]
    assert parts["sd"]["residual"].item() == pytest.approx(np.std(data.y - fitted, ddof=1))
    # partial eta squared: effect variance = mean over the 4 cells of the squared effect
    # (A: 3^2 = 9, B: 2^2 = 4, A:B: 1), error variance = mean squared residual per animal
    # (one row per animal here).
    e2 = np.mean((data.y - fitted) ** 2)
    assert parts["partial_eta_sq"][A].item() == pytest.approx(9 / (9 + e2))
    assert parts["partial_eta_sq"][B].item() == pytest.approx(4 / (4 + e2))
    assert parts["partial_eta_sq"][f"{A}:{B}"].item() == pytest.approx(1 / (1 + e2))
    table = fx.bayesian_anova_table(post, data, ci_prob=0.95, ci_kind="hdi")
    assert table["source"].tolist() == [A, B, f"{A}:{B}", "residual"]
    assert list(table.columns) == ["source", "sd_median", "sd_ci_low", "sd_ci_high", "eta_median", "eta_ci_low", "eta_ci_high"]


# ------------------------------------------------------------------------------ Savage-Dickey


def test_interaction_prior_is_normal_zero_two_s():
    s = 7.5
    assert fx.interaction_prior_sd(s) == 15.0
    assert fx.interaction_prior_density_at_zero(s) == pytest.approx(1 / (math.sqrt(2 * math.pi) * 2 * s))
    rng = np.random.default_rng(3)
    cells = rng.normal(40.0, s, size=(200_000, 2, 2))
    contrast = cells[:, 1, 1] - cells[:, 0, 1] - cells[:, 1, 0] + cells[:, 0, 0]
    assert np.std(contrast) == pytest.approx(2 * s, rel=0.01)
    assert np.mean(contrast) == pytest.approx(0.0, abs=0.1)


def test_interaction_bayes_factor_from_draws():
    la, lb = ("s", "k"), ("I", "n")
    data = data_for(la, lb)
    rng = np.random.default_rng(5)
    # Posterior of the interaction ~ Normal(0, 1): BF01 = phi(0; 0, 1) / phi(0; 0, 2 s).
    base = rng.normal(0, 0.5, (20_000, 2, 2))
    post = hand_posterior(base, la, lb, np.ones(20_000))
    s = 10.0
    bf = fx.interaction_bayes_factors(post["cell_mean"], data, s)
    assert bf["cell"].tolist() == ["k|n"]
    assert bf["prior_density"].iloc[0] == pytest.approx(fx.interaction_prior_density_at_zero(s))
    expected_bf01 = (1 / math.sqrt(2 * math.pi)) / fx.interaction_prior_density_at_zero(s)
    assert bf["BF01"].iloc[0] == pytest.approx(expected_bf01, rel=0.05)
    assert bf["BF10"].iloc[0] == pytest.approx(1 / bf["BF01"].iloc[0])


# ------------------------------------------------------------------------------ validation


def test_options_and_data_validation():
    with pytest.raises(DesignError, match="family must be one of"):
        fx.FactorialOptions(family="poisson")
    with pytest.raises(DesignError, match="prior_scale"):
        fx.FactorialOptions(prior_scale=0)
    with pytest.raises(DesignError, match="ss_type"):
        fx.FactorialOptions(ss_type=1)
    with pytest.raises(DesignError, match="rope"):
        fx.FactorialOptions(rope=-1)
    frame = make_frame()
    with pytest.raises(DesignError, match="at least two columns"):
        fx.prepare(frame, [A], fx.FactorialOptions())
    with pytest.raises(DesignError, match="factor 'treatment' is given twice"):
        fx.prepare(frame, [A, B, A], fx.FactorialOptions())
    with pytest.raises(DesignError, match="cannot be called 'sigma'"):
        fx.prepare(frame.rename(columns={A: "sigma"}), ["sigma", B], fx.FactorialOptions())
    neg = frame.copy()
    neg.loc[3, "value"] = -1.0
    with pytest.raises(DesignError, match="row 5: the value -1 is not above zero"):
        fx.prepare(neg, [A, B], fx.FactorialOptions(family="lognormal"))
    two_cells = make_frame(rows_per_animal=2)
    two_cells.loc[1, A] = "ketamine"
    with pytest.raises(DesignError, match="each animal belongs to one cell"):
        fx.prepare(two_cells, [A, B], fx.FactorialOptions())
    all_cens = frame.assign(censored=True)
    with pytest.raises(DesignError, match="every value is censored"):
        fx.prepare(all_cens, [A, B], fx.FactorialOptions())
    df, _ = simulate_factorial(cell_means=TRUE_MEANS, n_per_cell=3, residual_sd=30, factor_names=(A, B), seed=1)
    with pytest.raises(DesignError, match="draws"):
        fx.analyse_factorial(df, outcome="value", factors=[A, B], draws=0)
    with pytest.raises(DesignError, match="reference must map"):
        fx.analyse_factorial(df, outcome="value", factors=[A, B], reference="saline")


def test_notes_say_the_choices():
    fixed = data_for(("s", "k"), ("I", "n"), cohorts=3, censor_at=105.0)
    notes = " ".join(fx.design_notes(fixed, fx.FactorialOptions()))
    assert "fixed block effect" in notes and "cannot be told apart from the residual" in notes
    assert "right-censored at the 105 cut-off" in notes
    with_unit = " ".join(fx.design_notes(fixed, fx.FactorialOptions(), unit="s"))
    n = int(fixed.censored.sum())
    assert f"{n} {'value was' if n == 1 else 'values were'} right-censored at the 105 s cut-off" in with_unit
    assert "a random cohort effect needs at least 5 cohorts" in notes and "3-level" not in notes
    rnd = data_for(("s", "k"), ("I", "n"), cohorts=6, rows_per_animal=5)
    notes = " ".join(fx.design_notes(rnd, fx.FactorialOptions()))
    assert "random effect" in notes and "animal-level random intercept, centred" in notes
    assert "Cohen's d on the total SD divides by √(σ² + σ_animal² + σ_cohort²)" in notes


# ------------------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def small_fit() -> tuple[AnalysisResult, pd.DataFrame, dict]:
    df, truth = simulate_factorial(cell_means=TRUE_MEANS, n_per_cell=10, residual_sd=30.0, factor_names=(A, B),
                                   cohorts=2, cohort_sd=5.0, seed=11)
    res = fx.analyse_factorial(df, outcome="value", factors=[A, B], animal="mouse", cohort="cohort", rope=10.0,
                               blocker=B, seed=7, **TINY)
    return res, df, truth


def test_end_to_end_structure(small_fit):
    res, df, truth = small_fit
    assert res.design == "factorial"
    assert list(res.estimates.columns) == ESTIMATE_COLUMNS
    assert {"cell_mean", "simple_effect", "interaction", "blockade_pct", "cohens_d"} <= set(res.estimates["name"])
    for key in ("outcome", "factors", "family", "rope", "ss_type", "ci_prob", "ci_kind", "prior_scale", "draws",
                "tune", "chains", "seed", "reference", "where", "censor_at"):
        assert key in res.settings
    assert res.settings["reference"] == {A: "saline", B: "IgG"}
    assert {"cell_mean", "sigma", "cohort_effect"} <= set(res.priors)
    assert "Normal(0, 2 × " in res.model_text and "cohort_effect" in res.model_text
    assert "between-animal model of value with one mean per treatment × antibody cell" in res.model_text
    assert any("fixed block effect" in n for n in res.notes)
    # the Bayes factor is reported in Results and Model checking (checks), not again in the Data notes
    assert not any("Savage-Dickey" in n for n in res.notes)
    assert res.bayes_anova["source"].tolist() == [A, B, f"{A}:{B}", "cohort", "residual"]
    post = res.tree["posterior"]
    assert post["cell_mean"].dims == ("chain", "draw", A, B)
    assert {"posterior", "sample_stats", "log_likelihood", "posterior_predictive", "prior"} <= set(res.tree.children)
    bf = res.checks["bayes_factor"]
    assert bf["prior_multiplier"].tolist() == [0.5, 1.0, 2.0]
    assert np.all(np.isfinite(bf["BF10"]))
    # The truth is inside the 95% HDI of the interaction.
    inter = res.estimates[res.estimates["name"] == "interaction"].iloc[0]
    true_inter = truth["interaction"]["(ketamine - saline) x (nAb - IgG)"]
    assert inter["ci_low"] <= true_inter <= inter["ci_high"]
    assert inter["ci_prob"] == 0.95 and inter["ci_kind"] == "hdi"
    assert res.to_json().startswith("{")


def test_end_to_end_frequentist_twin_matches_between(small_fit):
    # The Bayesian model has a 2-level cohort block, so the twin adjusts for it too; the lab's
    # plain ANOVA stays beside it.
    res, df, _ = small_fit
    direct = between.factorial_anova(df, dv="value", factors=[A, B], ss_type=3, subject="mouse",
                                     block="cohort").table
    assert res.anova["effect"].tolist() == direct["effect"].tolist() == [A, B, f"{A}:{B}", "cohort"]
    for col in ("df_num", "df_den", "F", "p", "partial_eta_sq"):
        np.testing.assert_allclose(res.anova[col], direct[col], rtol=1e-12)
    plain = between.factorial_anova(df, dv="value", factors=[A, B], ss_type=3, subject="mouse").table
    np.testing.assert_allclose(res.frequentist_extra["anova_plain"]["F"], plain["F"], rtol=1e-12)
    assert res.anova_data["block"] == "cohort" and "fixed block" in res.anova_data["note"]
    simple = between.simple_effects(df, dv="value", factors=[A, B], block="cohort")
    est = res.estimates
    for r in simple.to_dict("records"):
        within = r["within"].split("=", 1)[1]
        cell = f"{r['level']}|{within}" if r["effect"] == A else f"{within}|{r['level']}"
        row = est[(est["name"] == "simple_effect") & (est["group"] == r["effect"]) & (est["cell"] == cell)].iloc[0]
        assert row["freq_estimate"] == pytest.approx(r["estimate"])
        assert row["freq_se"] == pytest.approx(r["se"])
        assert row["freq_p_adjusted"] == pytest.approx(r["p_adjusted"])
        assert row["freq_ci_low"] == pytest.approx(r["ci_low"])
        assert row["freq_ci_low_adjusted"] == pytest.approx(r["ci_low_adjusted"])
        assert row["freq_ci_low_adjusted"] < row["freq_ci_low"]  # Sidak over 4 is wider
        assert "Sidak" in row["freq_method"] and "fixed block" in row["freq_method"]
    ic = between.interaction_contrasts(df, dv="value", factors=[A, B], block="cohort").iloc[0]
    row = est[est["name"] == "interaction"].iloc[0]
    assert row["freq_estimate"] == pytest.approx(ic["estimate"])
    assert row["freq_se"] == pytest.approx(ic["se"])
    assert row["freq_p"] == pytest.approx(ic["p"])
    assert set(res.frequentist_extra) >= {"tukey", "simple_effects", "assumptions", "interaction_contrasts",
                                          "anova_plain"}
    assert res.mixed_model["method"] is None
    assert res.anova_data["aggregated"] is False
    doc = res.to_json_dict()
    sim = next(e for e in doc["estimates"] if e["name"] == "simple_effect")
    assert sim["frequentist"]["se"] is not None and sim["frequentist"]["ci_low_adjusted"] is not None


def test_cohort_confounded_with_a_factor_is_rejected_before_fitting():
    frame = make_frame(cohorts=2)
    frame["cohort"] = np.where(frame[A] == "saline", "1", "2")
    with pytest.raises(DesignError, match="cohort.*confounded.*treatment.*Fix:"):
        fx.prepare(frame, [A, B], fx.FactorialOptions())


def test_end_to_end_several_rows_per_animal_aggregates_for_anova():
    raw = pd.read_csv(FIXTURES / "fst_minutes.csv")
    res = fx.analyse_factorial(FIXTURES / "fst_minutes.csv", outcome="immobility", factors=[A, B], animal="mouse",
                               bf_sensitivity=False, seed=3, **TINY)
    assert res.settings["model"]["animal_effect"] is True
    assert res.sheet.frame["animal"].nunique() == raw["mouse"].nunique() == 25
    assert "animal" in res.tree["posterior"]["animal_effect"].dims
    assert res.bayes_anova["source"].tolist() == [A, B, f"{A}:{B}", "animal", "residual"]
    assert any("several observations" in n for n in res.notes)
    # the ANOVA is on the per-animal means, as between.factorial_anova computes it ...
    direct = between.factorial_anova(raw, dv="immobility", factors=[A, B], subject="mouse")
    assert direct.aggregated and res.anova_data["aggregated"] and res.anova_data["n_analysed"] == 25
    np.testing.assert_allclose(res.anova["F"], direct.table["F"], rtol=1e-10)
    # ... which is the ANOVA of the means computed by hand
    means = raw.groupby(["mouse", A, B], as_index=False, sort=False)["immobility"].mean()
    means[A] = pd.Categorical(means[A], categories=["saline", "ketamine"])
    means[B] = pd.Categorical(means[B], categories=["IgG", "nAb"])
    by_hand = between.factorial_anova(means, dv="immobility", factors=[A, B])
    np.testing.assert_allclose(res.anova["F"], by_hand.table["F"], rtol=1e-10)
    # the REML mixed model uses every row
    mm = between.factorial_mixed_model(raw, dv="immobility", factors=[A, B], subject="mouse")
    assert res.mixed_model["n_obs"] == len(raw)
    assert res.mixed_model["sd_animal"] == pytest.approx(mm.sd_animal)
    assert res.mixed_model["method"] == "REML"


def test_end_to_end_censored_lognormal_keeps_censored_rows():
    raw = pd.read_csv(FIXTURES / "nsf_latency.csv")
    res = fx.analyse_factorial(FIXTURES / "nsf_latency.csv", outcome="latency", factors=[A, B], animal="mouse",
                               censor_at=600, family="lognormal", blocker=B, bf_sensitivity=False, seed=5, **TINY)
    n_cens = int((~raw["ate"]).sum())
    assert n_cens > 0 and int(res.sheet.frame["censored"].sum()) == n_cens
    loglik = res.tree["log_likelihood"]
    assert loglik["y_censored"].sizes["obs_censored"] == n_cens
    assert loglik["y"].sizes["obs"] == len(raw) - n_cens
    names = set(res.estimates["name"])
    assert {"cell_median", "simple_effect", "pct_change", "interaction", "blockade_pct"} <= names
    ratio = res.estimates[(res.estimates["name"] == "simple_effect") & (res.estimates["cell"] == "ketamine|IgG")].iloc[0]
    assert ratio["scale"] == "ratio" and ratio["median"] > 0
    assert any("right-censored at the 600 cut-off" in n for n in res.notes)
    km = between.censored_tests(raw, time="latency", event="ate", factors=[A, B])
    pd.testing.assert_frame_equal(res.frequentist_extra["km_median"].reset_index(drop=True),
                                  km["km_median"].reset_index(drop=True), check_dtype=False, check_categorical=False)
    np.testing.assert_allclose(res.frequentist_extra["logrank"]["p"], km["logrank"]["p"])
    # the ANOVA is on log latencies (censored at the cut-off)
    direct = between.factorial_anova(raw.assign(log_latency=np.log(raw["latency"])), dv="log_latency",
                                     factors=[A, B], subject="mouse")
    np.testing.assert_allclose(res.anova["F"], direct.table["F"], rtol=1e-10)


# ------------------------------------------------------------------------------ slow


@pytest.mark.slow
def test_recovery_normal_and_lognormal_censored():
    df, truth = simulate_factorial(cell_means=TRUE_MEANS, n_per_cell=12, residual_sd=30.0, factor_names=(A, B),
                                   seed=101)
    res = fx.analyse_factorial(df, outcome="value", factors=[A, B], animal="mouse", draws=1000, tune=1000, chains=4)
    assert res.passed
    est = res.estimates
    for key, true in truth["cell_means"].items():
        row = est[(est["name"] == "cell_mean") & (est["cell"] == key)].iloc[0]
        assert row["ci_low"] <= true <= row["ci_high"]
    inter = est[est["name"] == "interaction"].iloc[0]
    assert inter["ci_low"] <= 53.0 <= inter["ci_high"]

    medians = {("saline", "IgG"): 360.0, ("saline", "nAb"): 370.0, ("ketamine", "IgG"): 180.0, ("ketamine", "nAb"): 345.0}
    df, truth = simulate_factorial(cell_means=medians, n_per_cell=12, residual_sd=0.5, factor_names=(A, B),
                                   family="lognormal", censor_at=600.0, seed=202)
    assert df["censored"].any()
    res = fx.analyse_factorial(df, outcome="value", factors=[A, B], animal="mouse", family="lognormal",
                               censored="censored", draws=1000, tune=1000, chains=4)
    assert res.passed
    est = res.estimates
    for key, true in truth["cell_means"].items():
        row = est[(est["name"] == "cell_median") & (est["cell"] == key)].iloc[0]
        assert row["ci_low"] <= true <= row["ci_high"]
    ratio = est[(est["name"] == "simple_effect") & (est["cell"] == "ketamine|IgG")].iloc[0]
    assert ratio["ci_low"] <= 0.5 <= ratio["ci_high"]
    assert "km_median" in res.frequentist_extra


# ------------------------------------------------------------------------------ partial eta squared vs afex


def test_bayesian_partial_eta_squared_equals_anova_at_the_least_squares_cell_means():
    # Closed form: on balanced data (ToothGrowth, 2 x 3, n = 10) SS_effect = N x the mean over
    # cells of the squared sum-to-zero effect and SS_error = N x the mean squared residual, so
    # a posterior draw at the least-squares cell means gives afex's partial eta squared exactly.
    tg = pd.read_csv(FIXTURES / "toothgrowth.csv", dtype={"dose": str})
    frame = pd.DataFrame({"row": np.arange(len(tg)) + 2, "animal": [f"a{i}" for i in range(len(tg))],
                          A: pd.Categorical(tg["supp"], categories=["VC", "OJ"]),
                          B: pd.Categorical(tg["dose"], categories=["0.5", "1", "2"]),
                          "value": tg["len"], "censored": False})
    data = fx.prepare(frame, [A, B], fx.FactorialOptions())
    means = frame.groupby([A, B], observed=True)["value"].mean().unstack().loc[["VC", "OJ"], ["0.5", "1", "2"]]
    post = hand_posterior(means.to_numpy()[None], ("VC", "OJ"), ("0.5", "1", "2"), [3.0])
    eta = fx.bayesian_anova(post, data)["partial_eta_sq"]
    # afex::aov_ez(..., type = 3) pes on ToothGrowth (tests/fixtures/between_golden.R)
    pes = [0.223825447759893, 0.773109176760619, 0.132027912362495]
    got = [eta[k].item() for k in (A, B, f"{A}:{B}")]
    assert got == pytest.approx(pes, rel=1e-10)


def test_posterior_partial_eta_squared_is_within_003_of_afex_on_unbalanced_real_data():
    # carData::Moore, unbalanced 2 x 3 (tests/fixtures/reviewer_golden.R): afex type III pes.
    afex_pes = {"partner_status": 0.2265737292335, "fcategory": 0.0421872064565677,
                "partner_status:fcategory": 0.176681014284529}
    res = fx.analyse_factorial(FIXTURES / "moore.csv", outcome="conformity", factors=["partner_status", "fcategory"],
                               animal="id", bf_sensitivity=False, seed=2, draws=500, tune=500, chains=2, retry=False)
    ba = res.bayes_anova.set_index("source")
    for effect, pes in afex_pes.items():
        assert abs(ba.loc[effect, "eta_median"] - pes) < 0.03, (effect, ba.loc[effect, "eta_median"], pes)
    # the frequentist table beside it is afex's
    np.testing.assert_allclose(res.anova["partial_eta_sq"], list(afex_pes.values()), rtol=1e-9)


def test_blockade_only_with_a_named_blocker_and_either_factor_can_block():
    la, lb = ("saline", "ketamine"), ("IgG", "nAb")
    cell = np.array([[[150.0, 153.0], [90.0, 146.0]]])
    post = hand_posterior(cell, la, lb, [30.0])
    none = fx.estimand_draws(post, data_for(la, lb, blocker=None))
    assert "blockade_pct" not in none  # e.g. genotype x treatment: no antagonist, no % blockade
    tab = fx.estimates_table(none, data_for(la, lb, blocker=None), fx.FactorialOptions())
    assert "blockade_pct" not in set(tab["name"])
    # B blocks A: 100 (1 - (146 - 153) / (90 - 150)) = 88.33...
    by_b = fx.estimand_draws(post, data_for(la, lb, blocker=B))["blockade_pct"]
    assert by_b.sel({A: "ketamine", B: "nAb"}).item() == pytest.approx(100 * (1 - (146 - 153) / (90 - 150)))
    # A blocks B: the effect of nAb vs IgG under ketamine (56) against under saline (3)
    by_a = fx.estimand_draws(post, data_for(la, lb, blocker=A))["blockade_pct"]
    assert by_a.sel({A: "ketamine", B: "nAb"}).item() == pytest.approx(100 * (1 - (146 - 90) / (153 - 150)))
    with pytest.raises(DesignError, match="blocker 'cohort' is not one of the factors.*Fix:"):
        data_for(la, lb, blocker="cohort")


# ------------------------------------------------------------------------------ censored outcomes


def test_censored_priors_are_scaled_from_a_censored_normal_fit_like_survreg():
    # R: survreg(Surv(time, status) ~ 1, dist = "lognormal") on survival::rats and on the NSF
    # fixture (tests/fixtures): intercept and scale of log time.
    rats = pd.read_csv(FIXTURES / "rats.csv")
    m, s = fx.location_scale(np.log(rats["time"].to_numpy()), (rats["status"] == 0).to_numpy())
    assert (m, s) == pytest.approx((5.15916131593943, 0.557253917574082), rel=1e-7)
    nsf = pd.read_csv(FIXTURES / "nsf_latency.csv")
    m, s = fx.location_scale(np.log(nsf["latency"].to_numpy()), (~nsf["ate"]).to_numpy())
    assert (m, s) == pytest.approx((5.41736498445956, 1.57390244485799), rel=1e-7)
    # no censoring: the sample mean and SD, as before
    y = np.array([1.0, 2.0, 4.0])
    assert fx.location_scale(y, np.zeros(3, bool)) == pytest.approx((7 / 3, np.std(y, ddof=1)))


def test_per_animal_censoring_end_to_end_on_the_rats_study():
    # survival::rats: tumour onset (weeks), each rat followed for its own time; 258 of 300
    # censored; no tumour at all among rx = 1 males.
    res = fx.analyse_factorial(FIXTURES / "rats.csv", outcome="time", factors=["rx", "sex"], event="status",
                               family="lognormal", bf_sensitivity=False, seed=3, **TINY)
    cens = res.checks["censoring"]
    assert cens["observed_censored"] == 258 and cens["per_row_censoring_times"]
    lo, hi = cens["predicted_censored_90"]
    assert lo <= 258 <= hi and 0.05 < cens["p"] < 0.95  # each rat censored at its own time fits
    stats_ = pd.DataFrame(res.checks["ppc"]["statistics"])
    assert set(stats_["statistic"]) == {"share censored", "Kaplan-Meier median", "restricted mean to 104"}
    assert res.priors["cell_mean"]["mu"] == pytest.approx(5.15916131593943, rel=1e-5)  # survreg's, not the naive mean
    doc = res.to_json_dict()
    assert "cox" not in doc["survival"]  # no model with the interaction was fitted
    assert [t["term"] for t in doc["survival"]["cox_main"]] == ["rx1", "sexm"]
    inter = next(e for e in doc["estimates"] if e["name"] == "interaction")
    surv = inter["frequentist"]["survival"]
    assert surv["estimable"] is False and "rx = 1, sex = m" in surv["reason"]
    simple = next(e for e in doc["estimates"] if e["name"] == "simple_effect" and e["cell"] == "1|f")
    assert simple["frequentist"]["survival"]["test"] == "log-rank"
    assert simple["frequentist"]["survival"]["chisq"] == pytest.approx(8.60618176766222, rel=1e-6)  # survdiff
    assert "ignores censoring" in simple["frequentist"]["method"]
    # the survival figure: one Kaplan-Meier step curve per cell, its first drop where the cell's first event is
    from bayes_igf1.designs.base import get_design

    figs = get_design("factorial").figures(res)
    assert "survival" in figs
    ax = figs["survival"][0].axes[0]
    f = res.sheet.frame
    cell = (f["rx"].astype(str) == "1") & (f["sex"].astype(str) == "f")
    first_event = f.loc[cell & ~f["censored"], "value"].min()
    step = next(ln for ln in ax.get_lines() if ln.get_label() == "1, f")
    x, y = step.get_xdata(), step.get_ydata()
    assert x[1] == pytest.approx(first_event) and y[0] == 1.0 and y[1] < 1.0
    # a lognormal outcome's bars are geometric means (what the posterior cell medians estimate)
    bars = figs["factorial"][0].axes[0].patches
    first = (f["rx"].astype(str) == str(f["rx"].cat.categories[0])) & (f["sex"].astype(str) == str(f["sex"].cat.categories[0]))
    assert bars[0].get_height() == pytest.approx(float(np.exp(np.log(f.loc[first, "value"]).mean())), rel=1e-12)


def test_bayesian_partial_eta_squared_with_a_block_equals_car_at_the_least_squares_fit():
    # datasets::npk: 6 blocks, each holding every N x P cell once (balanced), so at the
    # least-squares fit of y ~ block + N * P each source's effect variance x N is its type III
    # SS: the posterior formula gives car::Anova's SS / (SS + SS_resid) exactly
    # (tests/fixtures/reviewer_golden.R, NPK_BLOCK_TYPE3).
    npk = pd.read_csv(FIXTURES / "npk_block.csv", dtype={"block": str, "N": str, "P": str})
    frame = pd.DataFrame({"row": np.arange(len(npk)) + 2, "animal": npk["plot"].astype(str),
                          A: pd.Categorical(npk["N"], categories=["0", "1"]),
                          B: pd.Categorical(npk["P"], categories=["0", "1"]),
                          "value": npk["yield"], "censored": False, "cohort": npk["block"]})
    data = fx.prepare(frame, [A, B], fx.FactorialOptions())
    cells = frame.groupby([A, B], observed=True)["value"].mean().unstack().loc[["0", "1"], ["0", "1"]]
    block = frame.groupby("cohort")["value"].mean() - frame["value"].mean()
    post = hand_posterior(cells.to_numpy()[None], ("0", "1"), ("0", "1"), [3.0])
    post["cohort_effect"] = (("chain", "draw", "cohort"), block.loc[list(data.cohorts)].to_numpy()[None, None])
    post = post.assign_coords(cohort=list(data.cohorts))
    eta = fx.bayesian_anova(post, data)["partial_eta_sq"]
    car = {A: 0.376016448588229, B: 0.0260511410616834, f"{A}:{B}": 0.063454122604755, "cohort": 0.522201095223608}
    assert {k: eta[k].item() for k in car} == pytest.approx(car, rel=1e-9)


def test_prior_estimands_are_the_contrasts_of_the_prior_draws(small_fit):
    """posterior.nc's prior_estimands group: the same contrasts under the prior (the report's prior-vs-posterior
    panel), here the interaction worked by hand from the prior's cell means."""
    res, _, _ = small_fit
    cm = res.tree["prior"]["cell_mean"]
    levels_a, levels_b = (list(cm[f].values) for f in (A, B))
    (a0, a1), (b0, b1) = levels_a[:2], levels_b[:2]
    by_hand = (cm.sel({A: a1, B: b1}) - cm.sel({A: a0, B: b1}) - cm.sel({A: a1, B: b0}) + cm.sel({A: a0, B: b0}))
    stored = res.tree["prior_estimands"]["interaction"].sel(interaction_cell=f"{a1}|{b1}")
    np.testing.assert_allclose(stored.values, by_hand.values, rtol=1e-12)
    draws = fx.Factorial().headline_draws(res, "prior_estimands")
    label = res.estimates.query("name == 'interaction' and headline")["label"].iloc[0]
    np.testing.assert_allclose(draws[label][0], by_hand.values.ravel(), rtol=1e-12)
    assert draws[label][1] == "difference of differences"
    # the posterior's panel reads the same rows from the estimands group
    post = fx.Factorial().headline_draws(res)
    assert set(post) == set(draws) and len(post[label][0]) == res.tree["posterior"].sizes["draw"] * 2
