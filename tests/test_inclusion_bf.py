"""Inclusion Bayes factors of a between-animal factorial (issue 14, item 8), pinned to R.

Golden values: ``tests/fixtures/inclusion_bf_golden.R`` (BayesFactor 0.9.12-4.4 ``anovaBF``,
``whichModels = "withmain"``, rscaleFixed "medium", method "simple", three independent runs of
1e6 iterations averaged; bayestestR 0.13.0 ``bayesfactor_inclusion`` with ``match_models`` FALSE and TRUE)
stored in ``inclusion_bf_golden.json``. Every comparison allows 3 combined standard errors,
sqrt(err_ours^2 + err_R^2), each side's error being its own stated relative error of the BF (to
first order the standard error of log BF); R's is the larger of BayesFactor's stated error and
the spread of its three runs (see the R script).

Nuisance (block) terms: ``tests/fixtures/inclusion_bf_nuisance_golden.R`` (BayesFactor
``generalTestBF(..., neverExclude = block)`` divided by the block-only model, bayestestR on that
quotient; npk with its blocks, without three plots, with block and K; MASS::oats with its blocks)
stored in ``inclusion_bf_nuisance_golden.json``, compared by the same rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

from bayes_igf1.errors import DesignError
from bayes_igf1.inclusion_bf import inclusion_bayes_factors, model_space

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = json.loads((FIXTURES / "inclusion_bf_golden.json").read_text())
DATASETS = sorted(GOLDEN["datasets"])


def _canon(effect: str) -> str:
    """bayestestR sorts an interaction's factors (``dose:supp``); ours keeps formula order."""
    return ":".join(sorted(effect.split(":")))


def _frame(spec: dict) -> pd.DataFrame:
    frame = pd.read_csv(FIXTURES / spec["file"])
    dropped = spec["dropped_rows"]
    if dropped:
        frame = frame.drop(index=dropped).reset_index(drop=True)
    assert len(frame) == spec["n"]
    return frame


@pytest.fixture(scope="module")
def results() -> dict:
    out = {}
    for name in DATASETS:
        spec = GOLDEN["datasets"][name]
        out[name] = inclusion_bayes_factors(_frame(spec), outcome=spec["outcome"], factors=spec["factors"],
                                            seed=20220412)
    return out


def test_model_space_is_bayesfactors_withmain():
    for name in ("toothgrowth", "npk"):
        spec = GOLDEN["datasets"][name]
        ours = {frozenset(m) for m in model_space(spec["factors"])}
        r = {frozenset(m["model"].split(" + ")) for m in spec["models"]}
        assert ours == r
    # k = 4: the down-sets of the 15 terms' lattice = Dedekind number M(4) = 168, less the
    # empty Boolean function and the null model
    models = model_space(["a", "b", "c", "d"])
    assert len(models) == 166
    assert ("a", "b", "c", "d", "a:b:c:d") not in models


@pytest.mark.parametrize("name", DATASETS)
def test_model_bayes_factors_match_bayesfactor(results, name):
    spec = GOLDEN["datasets"][name]
    _, models = results[name]
    ours = {frozenset(t): row for t, (_, row) in zip(models["terms"], models.iterrows(), strict=True)}
    assert len(ours) == len(spec["models"]) + 1
    assert models.loc[0, "model"] == "1" and models.loc[0, "log_BF10"] == 0.0
    for r in spec["models"]:
        row = ours[frozenset(r["model"].split(" + "))]
        tol = 3.0 * np.hypot(row["error"], r["error"])
        assert abs(row["log_BF10"] - r["log_bf"]) <= tol, (r["model"], row["log_BF10"], r["log_bf"], tol)
        # the tolerance is the methods' errors, not a blanket one: every stated error is below 5%
        assert row["error"] < 0.02 and r["error"] < 0.05
    # posterior model probabilities: uniform prior over the models and the null
    assert np.isclose(models["p_posterior"].sum(), 1.0)
    assert np.allclose(models["p_prior"], 1.0 / len(models))


@pytest.mark.parametrize("name", DATASETS)
def test_inclusion_bayes_factors_match_bayestestr(results, name):
    spec = GOLDEN["datasets"][name]
    effects, _ = results[name]
    r = {_canon(e["effect"]): e for e in spec["inclusion"]}
    assert sorted(r) == sorted(_canon(e) for e in effects["effect"])
    for _, row in effects.iterrows():
        g = r[_canon(row["effect"])]
        assert row["p_prior_incl"] == pytest.approx(g["p_prior"], abs=1e-12)
        tol = 3.0 * np.hypot(row["error"], g["error"])
        assert abs(row["log_BF_incl"] - g["log_bf"]) <= tol, (row["effect"], row["log_BF_incl"], g["log_bf"])
        tol_m = 3.0 * np.hypot(row["error_matched"], g["error_matched"])
        assert abs(row["log_BF_incl_matched"] - g["log_bf_matched"]) <= tol_m, (
            row["effect"], row["log_BF_incl_matched"], g["log_bf_matched"])
        # posterior inclusion odds = BF_incl x prior odds: log odds carry the same error
        if 1e-12 < g["p_posterior"] < 1 - 1e-12:
            assert abs(special.logit(row["p_post_incl"]) - special.logit(g["p_posterior"])) <= tol
        assert np.isclose(np.log(row["BF_incl"]), row["log_BF_incl"])
        assert np.isclose(np.log(row["BF_incl_matched"]), row["log_BF_incl_matched"])


def test_toothgrowth_columns(results):
    effects, models = results["toothgrowth"]
    assert list(effects.columns) == ["effect", "p_prior_incl", "p_post_incl", "BF_incl", "log_BF_incl",
                                     "BF_incl_matched", "log_BF_incl_matched", "error", "error_matched"]
    assert list(effects["effect"]) == ["supp", "dose", "supp:dose"]
    assert list(models.columns) == ["model", "terms", "n_g", "method", "log_BF10", "error", "p_prior",
                                    "p_posterior"]
    assert list(models["model"]) == ["1", "supp", "dose", "supp + dose", "supp + dose + supp:dose"]
    # no nuisance: the null is the intercept-only model
    assert models.attrs == {"nuisance": (), "nuisance_log_BF10": 0.0, "nuisance_error": 0.0}
    assert effects.attrs == {"nuisance": ()}


# ----------------------------------------------------------------------------- closed forms


def _ig_half(g: float, r: float) -> float:
    """Inverse-Gamma(1/2, r^2/2) density."""
    b = r * r / 2.0
    return np.sqrt(b / np.pi) * g**-1.5 * np.exp(-b / g)


def _oneway_log_bf(f_stat: float, n: int, j: int, r: float) -> float:
    """Balanced one-way ANOVA JZS Bayes factor, Rouder et al. (2012): g-prior on J - 1
    orthonormal effects, so BF(g) = (1 + n g)^-(J-1)/2 (1 - R^2 n g / (1 + n g))^-(N-1)/2
    with R^2 = (J-1) F / ((J-1) F + N - J)."""
    big_n = n * j
    r2 = (j - 1) * f_stat / ((j - 1) * f_stat + big_n - j)

    def integrand(g):
        return ((1 + n * g) ** (-(j - 1) / 2) * (1 - r2 * n * g / (1 + n * g)) ** (-(big_n - 1) / 2)
                * _ig_half(g, r))

    val, err = integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-10, limit=200)
    return np.log(val)


def _ttest_log_bf(t: float, n1: int, n2: int, r: float) -> float:
    """JZS two-sample t test, Rouder et al. (2009) eq. 1 with scale r (delta ~ Cauchy(0, r))."""
    nu = n1 + n2 - 2
    n_eff = n1 * n2 / (n1 + n2)

    def integrand(g):
        a = 1 + n_eff * g * r * r
        return a**-0.5 * (1 + t * t / (a * nu)) ** (-(nu + 1) / 2) * _ig_half(g, 1.0)

    val, _ = integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-10, limit=200)
    return np.log(val) + (nu + 1) / 2 * np.log1p(t * t / nu)


def test_single_effect_models_match_the_closed_forms(results):
    tg = pd.read_csv(FIXTURES / "toothgrowth.csv")
    _, models = results["toothgrowth"]
    by = dict(zip(models["model"], zip(models["log_BF10"], models["error"], strict=True), strict=True))
    cf = GOLDEN["closed_form"]
    # dose: one-way F from the data, by hand
    grand = tg["len"].mean()
    groups = tg.groupby("dose")["len"]
    ssb = float((groups.count() * (groups.mean() - grand) ** 2).sum())
    ssw = float(((tg["len"] - groups.transform("mean")) ** 2).sum())
    f_stat = (ssb / 2) / (ssw / (60 - 3))
    assert f_stat == pytest.approx(cf["dose_oneway"]["F"], rel=1e-12)
    exact = _oneway_log_bf(f_stat, 20, 3, 0.5)
    ours, err = by["dose"]
    assert err < 1e-5
    assert abs(ours - exact) <= 3 * err + 1e-9
    assert abs(exact - cf["dose_oneway"]["log_bf"]) <= 1e-7  # R's oneWayAOV.Fstat
    # supp: pooled two-sample t, by hand; anovaBF's r = 1/2 on orthonormal codes is r sqrt(2)
    # on the difference of the two means
    a, b = (tg.loc[tg["supp"] == s, "len"].to_numpy() for s in ("OJ", "VC"))
    sp2 = (((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / 58
    t = (a.mean() - b.mean()) / np.sqrt(sp2 * (1 / 30 + 1 / 30))
    assert abs(t) == pytest.approx(abs(cf["supp_ttest"]["t"]), rel=1e-12)
    exact = _ttest_log_bf(t, 30, 30, 0.5 * np.sqrt(2))
    ours, err = by["supp"]
    assert err < 1e-4
    assert abs(ours - exact) <= 3 * err + 1e-9
    assert abs(exact - cf["supp_ttest"]["log_bf"]) <= 3 * cf["supp_ttest"]["error"]  # R's ttest.tstat
    # another prior scale, by BayesFactor's name: "wide" is r = sqrt(2)/2
    _, wide = inclusion_bayes_factors(tg, outcome="len", factors=["supp", "dose"], rscale_fixed="wide")
    row = wide.set_index("model").loc["dose"]
    exact = _oneway_log_bf(f_stat, 20, 3, np.sqrt(2) / 2)
    assert abs(row["log_BF10"] - exact) <= 3 * row["error"] + 1e-9
    assert abs(row["log_BF10"] - by["dose"][0]) > 0.1  # the scale matters


# ----------------------------------------------------------------------------- determinism, errors


def test_seeded_and_reproducible(results):
    spec = GOLDEN["datasets"]["npk"]
    frame = _frame(spec)
    _, first = results["npk"]
    _, again = inclusion_bayes_factors(frame, outcome="yield", factors=["N", "P", "K"], seed=20220412)
    pd.testing.assert_frame_equal(first, again)
    _, other = inclusion_bayes_factors(frame, outcome="yield", factors=["N", "P", "K"], seed=7)
    sampled = (first["method"] == "importance").to_numpy()
    assert sampled.sum() == 8  # the models with 4 to 7 g's
    assert not np.array_equal(first.loc[sampled, "log_BF10"], other.loc[sampled, "log_BF10"])
    np.testing.assert_array_equal(first.loc[~sampled, "log_BF10"], other.loc[~sampled, "log_BF10"])
    diff = np.abs(first["log_BF10"] - other["log_BF10"])[sampled]
    assert (diff <= 4 * np.hypot(first["error"], other["error"])[sampled]).all()


def _tg() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "toothgrowth.csv")


def test_fewer_than_two_factors_is_refused():
    with pytest.raises(DesignError, match="at least 2 crossed factors"):
        inclusion_bayes_factors(_tg(), outcome="len", factors=["supp"])


def test_empty_cell_is_named():
    frame = _tg()
    frame = frame[~((frame["supp"] == "VC") & (frame["dose"] == 2.0))]
    with pytest.raises(DesignError, match=r"Empty cell supp=VC, dose=2\.0 \(1 empty of 6\)"):
        inclusion_bayes_factors(frame, outcome="len", factors=["supp", "dose"])


def test_non_numeric_outcome_is_refused():
    frame = _tg()
    frame["len"] = frame["len"].astype(str)
    frame.loc[3, "len"] = "<LOD"
    with pytest.raises(DesignError, match="'len': the outcome must be numeric"):
        inclusion_bayes_factors(frame, outcome="len", factors=["supp", "dose"])


def test_missing_outcome_and_column_are_named():
    frame = _tg()
    frame.loc[5, "len"] = np.nan
    with pytest.raises(DesignError, match=r"rows \[5\]"):
        inclusion_bayes_factors(frame, outcome="len", factors=["supp", "dose"])
    with pytest.raises(DesignError, match="'Dose' is not in the data"):
        inclusion_bayes_factors(_tg(), outcome="len", factors=["supp", "Dose"])


def test_repeated_rows_of_an_animal_are_refused():
    frame = _tg()
    frame["animal"] = np.arange(len(frame))
    frame.loc[1, "animal"] = 0
    with pytest.raises(DesignError, match="within-animal"):
        inclusion_bayes_factors(frame, outcome="len", factors=["supp", "dose"], animal="animal")


# ----------------------------------------------------------------------------- nuisance (block) terms

NUISANCE = json.loads((FIXTURES / "inclusion_bf_nuisance_golden.json").read_text())
NUISANCE_SETS = sorted(NUISANCE["datasets"])


def _nuisance_frame(spec: dict) -> pd.DataFrame:
    """The CSV (less its dropped rows) or, for MASS::oats, the rows stored in the JSON."""
    frame = pd.DataFrame(spec["data"]) if "data" in spec else _frame(spec)
    assert len(frame) == spec["n"]
    return frame


@pytest.fixture(scope="module")
def nuisance_results() -> dict:
    out = {}
    for name in NUISANCE_SETS:
        spec = NUISANCE["datasets"][name]
        out[name] = inclusion_bayes_factors(_nuisance_frame(spec), outcome=spec["outcome"],
                                            factors=spec["factors"], nuisance=spec["nuisance"], seed=20220412)
    return out


@pytest.mark.parametrize("name", NUISANCE_SETS)
def test_nuisance_model_bayes_factors_match_bayesfactor(nuisance_results, name):
    """generalTestBF(..., neverExclude = nuisance) divided by its nuisance-only model."""
    spec = NUISANCE["datasets"][name]
    effects, models = nuisance_results[name]
    nuisance = tuple(spec["nuisance"])
    assert models.attrs["nuisance"] == nuisance and effects.attrs["nuisance"] == nuisance
    assert models.loc[0, "model"] == " + ".join(nuisance) and models.loc[0, "terms"] == ()
    assert models.loc[0, "log_BF10"] == 0.0
    assert all(m.startswith(" + ".join(nuisance) + " + ") for m in models["model"][1:])
    # the nuisance-only model against the intercept-only model
    r0 = spec["nuisance_only"]
    tol = 3.0 * np.hypot(models.attrs["nuisance_error"], r0["error"])
    assert abs(models.attrs["nuisance_log_BF10"] - r0["log_bf_vs_intercept"]) <= tol
    ours = {frozenset(t): row for t, (_, row) in zip(models["terms"], models.iterrows(), strict=True)}
    assert len(ours) == len(spec["models"]) + 1
    for r in spec["models"]:
        row = ours[frozenset(r["terms"])]
        tol = 3.0 * np.hypot(row["error"], r["error"])
        assert abs(row["log_BF10"] - r["log_bf"]) <= tol, (r["model"], row["log_BF10"], r["log_bf"], tol)
        assert row["error"] < 0.02 and r["error"] < 0.05
        assert row["n_g"] == len(r["terms"]) + len(nuisance)
    assert np.isclose(models["p_posterior"].sum(), 1.0)


@pytest.mark.parametrize("name", NUISANCE_SETS)
def test_nuisance_inclusion_bayes_factors_match_bayestestr(nuisance_results, name):
    spec = NUISANCE["datasets"][name]
    effects, _ = nuisance_results[name]
    r = {_canon(e["effect"]): e for e in spec["inclusion"]}
    # the nuisance is in every model: not an effect (bayestestR's P(prior) = 1 row is dropped)
    assert sorted(r) == sorted(_canon(e) for e in effects["effect"])
    for _, row in effects.iterrows():
        g = r[_canon(row["effect"])]
        assert row["p_prior_incl"] == pytest.approx(g["p_prior"], abs=1e-12)
        tol = 3.0 * np.hypot(row["error"], g["error"])
        assert abs(row["log_BF_incl"] - g["log_bf"]) <= tol, (row["effect"], row["log_BF_incl"], g["log_bf"])
        tol_m = 3.0 * np.hypot(row["error_matched"], g["error_matched"])
        assert abs(row["log_BF_incl_matched"] - g["log_bf_matched"]) <= tol_m, (
            row["effect"], row["log_BF_incl_matched"], g["log_bf_matched"])


def _study() -> pd.DataFrame:
    """Study size: 2 x 2 between animals, 40 animals in 3 cohorts (every cohort x cell filled)."""
    rng = np.random.default_rng(20220412)
    frame = pd.DataFrame({"A": np.repeat(["vehicle", "drug"], 20), "B": np.tile(np.repeat(["sham", "blocker"], 10), 2),
                          "cohort": np.tile(["c1", "c2", "c3", "c1", "c2"], 8)})
    frame["y"] = (rng.normal(size=40) + 0.9 * (frame["A"] == "drug") + 0.6 * (frame["cohort"] == "c2")
                  - 0.7 * ((frame["A"] == "drug") & (frame["B"] == "blocker")))
    return frame


def _npk_k() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "npk_block.csv")


@pytest.mark.parametrize(("make", "factors", "block"), [(_npk_k, ["N", "P"], "K"), (_study, ["A", "B"], "cohort")])
def test_nuisance_bf_is_the_ratio_of_the_plain_models(make, factors, block):
    """BF(M vs nuisance) = BF(M + nuisance vs 1) / BF(nuisance vs 1), the right-hand side from the
    analysis without the nuisance option, the nuisance a first factor (its full factorial must
    keep a residual degree of freedom: npk's K, not its blocks of 4 plots)."""
    frame = make()
    outcome = "yield" if "yield" in frame else "y"
    effects, models = inclusion_bayes_factors(frame, outcome=outcome, factors=factors, nuisance=[block],
                                              seed=20220412)
    _, plain = inclusion_bayes_factors(frame, outcome=outcome, factors=[block, *factors], seed=20220412)
    by = {frozenset(t): row for t, (_, row) in zip(plain["terms"], plain.iterrows(), strict=True)}
    base = by[frozenset([block])]
    assert base["log_BF10"] == pytest.approx(models.attrs["nuisance_log_BF10"], abs=1e-10)
    assert base["error"] == pytest.approx(models.attrs["nuisance_error"], rel=1e-6)
    sampled = 0
    for _, row in models.iloc[1:].iterrows():
        full = by[frozenset([block, *row["terms"]])]
        ratio = full["log_BF10"] - base["log_BF10"]
        assert full["method"] == row["method"] and full["n_g"] == row["n_g"]
        if row["method"] == "quadrature":  # deterministic: the two code paths agree to rounding
            assert abs(row["log_BF10"] - ratio) <= 1e-9, (row["model"], row["log_BF10"], ratio)
            assert row["error"] == pytest.approx(np.hypot(full["error"], base["error"]), rel=1e-6)
        else:  # importance sampling with another seed: within the errors
            sampled += 1
            assert abs(row["log_BF10"] - ratio) <= 3.0 * np.hypot(row["error"], full["error"])
    assert sampled == 1  # the full model, with 4 g's
    # the inclusion BFs need only the ratios: those of the plain BFs over the models with the nuisance
    keep = [frozenset([block]) <= frozenset(t) and not any(block in x.split(":") and x != block for x in t)
            for t in plain["terms"]]
    sub = plain[keep]
    lbf, err = sub["log_BF10"].to_numpy(), sub["error"].to_numpy()
    has_first = np.array([factors[0] in t for t in sub["terms"]])
    lw, lwo = special.logsumexp(lbf[has_first]), special.logsumexp(lbf[~has_first])
    log_bf_incl = lw - lwo - np.log(has_first.sum() / (~has_first).sum())
    err_incl = np.hypot(np.linalg.norm(np.exp(lbf[has_first] - lw) * err[has_first]),
                        np.linalg.norm(np.exp(lbf[~has_first] - lwo) * err[~has_first]))
    row = effects.set_index("effect").loc[factors[0]]
    assert abs(row["log_BF_incl"] - log_bf_incl) <= 3.0 * np.hypot(row["error"], err_incl)


def test_rank_deficient_nuisance_is_refused():
    """npk's N:P:K is confounded with its blocks: lm(yield ~ block + N * P * K) has rank 12 of 13."""
    rd = NUISANCE["rank_deficient"]
    assert rd["aliased"] == ["N1:P1:K1"]  # the 3-way interaction's column
    frame = pd.read_csv(FIXTURES / rd["file"])
    msg = (rf"yield ~ block \+ N \* P \* K is not identifiable: .* rank {rd['rank']} < {rd['columns']} "
           r"columns; term 'N:P:K' is confounded with 'block'")
    with pytest.raises(DesignError, match=msg):
        inclusion_bayes_factors(frame, outcome="yield", factors=["N", "P", "K"], nuisance=["block"])
    # N * P + block has full rank (R: 9 of 9): accepted
    assert NUISANCE["rank_full"]["rank"] == NUISANCE["rank_full"]["columns"]
    # a cohort that coincides with a factor, and two copies of a cohort
    frame["cohort"] = frame["N"].map({0: "c1", 1: "c2"})
    with pytest.raises(DesignError, match=r"rank 4 < 5 columns; term 'N' is confounded with 'cohort'"):
        inclusion_bayes_factors(frame, outcome="yield", factors=["N", "P"], nuisance=["cohort"])
    frame["batch"] = frame["block"].astype(str) + "b"
    with pytest.raises(DesignError, match="nuisance 'batch' is confounded with 'block'"):
        inclusion_bayes_factors(frame, outcome="yield", factors=["N", "P"], nuisance=["block", "batch"])


def test_bad_nuisance_columns_are_named():
    frame = _tg()
    frame["cohort"] = np.tile(["a", "b", "c"], 20)
    with pytest.raises(DesignError, match="Nuisance column 'dose' is a factor"):
        inclusion_bayes_factors(frame, outcome="len", factors=["supp", "dose"], nuisance=["dose"])
    with pytest.raises(DesignError, match="'batch' is not in the data"):
        inclusion_bayes_factors(frame, outcome="len", factors=["supp", "dose"], nuisance=["batch"])
    one = frame.assign(cohort="a")
    with pytest.raises(DesignError, match="Nuisance column 'cohort' has one level"):
        inclusion_bayes_factors(one, outcome="len", factors=["supp", "dose"], nuisance=["cohort"])
    gap = frame.copy()
    gap.loc[7, "cohort"] = None
    with pytest.raises(DesignError, match=r"Nuisance column 'cohort': missing level in rows \[7\]"):
        inclusion_bayes_factors(gap, outcome="len", factors=["supp", "dose"], nuisance=["cohort"])
    # 2 x 2 x 2 animals and 5 cohorts: full rank, but 8 coefficients for 8 animals
    small = pd.DataFrame({"A": np.repeat(["a1", "a2"], 4), "B": np.tile(np.repeat(["b1", "b2"], 2), 2),
                          "cohort": ["c1", "c2", "c1", "c3", "c4", "c2", "c5", "c3"],
                          "y": [1.0, 2, 4, 3, 6, 5, 9, 7]})
    with pytest.raises(DesignError, match=r"8 animals leave no residual degree of freedom for "
                                          r"y ~ cohort \+ A \* B \(8 coefficients\)"):
        inclusion_bayes_factors(small, outcome="y", factors=["A", "B"], nuisance=["cohort"])
