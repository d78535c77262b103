"""k-way between-animal factorials (issue 12, item 3): bayes_igf1.designs.factorial with three factors.

Contrast maths on a hand-made 2 x 2 x 2 posterior (values worked by hand), the Bayesian ANOVA
against afex at the least-squares cell means (balanced npk, N x P x K), the prior of a
three-way contrast (closed form and simulation), empty cells, and one small end-to-end fit
of a simulated sex x treatment x antibody study with known cell means.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_igf1.designs import factorial as fx
from bayes_igf1.errors import DesignError

FIXTURES = Path(__file__).parent / "fixtures"
A, B, C = "treatment", "antibody", "sex"
LEVELS = {A: ("saline", "ketamine"), B: ("IgG", "nAb"), C: ("F", "M")}
# mu[a, b, c], worked with below
HAND = {("saline", "IgG", "F"): 10.0, ("saline", "nAb", "F"): 11.0, ("ketamine", "IgG", "F"): 4.0,
        ("ketamine", "nAb", "F"): 9.0, ("saline", "IgG", "M"): 20.0, ("saline", "nAb", "M"): 21.0,
        ("ketamine", "IgG", "M"): 12.0, ("ketamine", "nAb", "M"): 22.0}


def frame_for(levels: dict, n: int = 3, seed: int = 1, means=None, sd: float = 5.0) -> pd.DataFrame:
    """A tidy frame as io.read_factorial returns it: n animals per cell, one row each."""
    rng = np.random.default_rng(seed)
    recs = []
    for cell in itertools.product(*levels.values()):
        for _ in range(n):
            mean = means[cell] if means else 100.0
            recs.append({**dict(zip(levels, cell, strict=True)), "value": mean + rng.normal(0, sd)})
    f = pd.DataFrame(recs)
    f.insert(0, "row", np.arange(len(f)) + 2)
    f.insert(1, "animal", [f"m{i:03d}" for i in range(len(f))])
    for name, lv in levels.items():
        f[name] = pd.Categorical(f[name], categories=list(lv))
    f["censored"] = False
    return f


def hand_posterior(levels: dict, cells: dict, sigma: float = 1.0) -> xr.Dataset:
    shape = tuple(len(v) for v in levels.values())
    arr = np.array([cells[c] for c in itertools.product(*levels.values())]).reshape(shape)
    return xr.Dataset(
        {"cell_mean": (("chain", "draw", *levels), arr[None, None]),
         "sigma": (("chain", "draw"), np.array([[sigma]]))},
        coords={"chain": [0], "draw": [0], **{k: list(v) for k, v in levels.items()}},
    )


def test_three_way_contrasts_on_hand_made_posterior():
    data = fx.prepare(frame_for(LEVELS), [A, B, C], fx.FactorialOptions(blocker=B))
    con = fx.contrast_draws(hand_posterior(LEVELS, HAND)["cell_mean"], data)
    # ketamine - saline within each antibody x sex
    sa = con["simple_a"]
    assert [sa.sel({A: "ketamine", B: b, C: c}).item() for b in ("IgG", "nAb") for c in ("F", "M")] == [-6, -8, -2, 1]
    # M - F within saline/IgG, saline/nAb, ketamine/IgG, ketamine/nAb
    sc = con["simple_c"]
    assert [sc.sel({A: a, B: b, C: "M"}).item() for a in LEVELS[A] for b in LEVELS[B]] == [10, 10, 8, 13]
    # treatment x antibody within each sex: (-2 - -6) = 4 (F), (1 - -8) = 9 (M); three-way: 9 - 4 = 5
    ab = con["interaction_ab"]
    assert ab.sel({A: "ketamine", B: "nAb", C: "F"}).item() == 4.0
    assert ab.sel({A: "ketamine", B: "nAb", C: "M"}).item() == 9.0
    assert con["interaction"].sel({A: "ketamine", B: "nAb", C: "M"}).item() == 5.0
    assert set(con) == {"simple_a", "simple_b", "simple_c", "interaction_ab", "interaction_ac", "interaction_bc",
                        "interaction", "blockade_pct_a", "blockade_pct_c"}
    # % of ketamine's effect abolished by the nAb: 100 (1 - -2 / -6) (F), 100 (1 - 1 / -8) (M)
    blk = con["blockade_pct_a"]
    assert blk.sel({A: "ketamine", B: "nAb", C: "F"}).item() == pytest.approx(100 * (1 - 2 / 6))
    assert blk.sel({A: "ketamine", B: "nAb", C: "M"}).item() == pytest.approx(112.5)
    # the estimates table labels and keys every row by its full cell
    est = fx.estimates_table(fx.estimand_draws(hand_posterior(LEVELS, HAND), data), data, fx.FactorialOptions())
    top = est[est["name"] == "interaction"]
    assert top["cell"].tolist() == ["ketamine|nAb|M"]
    assert top["label"].iloc[0] == "(ketamine vs saline) × (nAb vs IgG) × (M vs F)"
    assert top["reference"].iloc[0] == "saline|IgG|F"
    simple_i = est[(est["name"] == "simple_interaction") & (est["group"] == f"{A}:{B}")]
    assert simple_i["cell"].tolist() == ["ketamine|nAb|F", "ketamine|nAb|M"]
    assert simple_i["median"].tolist() == [4.0, 9.0]
    assert simple_i["label"].iloc[1] == "(ketamine vs saline) under nAb minus under IgG within M"
    blk_rows = est[(est["name"] == "blockade_pct") & (est["group"] == f"{A}:{B}")]
    assert blk_rows["median"].tolist() == pytest.approx([100 * (1 - 2 / 6), 112.5])
    assert est[est["name"] == "simple_effect"].query("headline")["group"].unique().tolist() == [A]
    # the stored draws carry the same numbers, keyed by name and group
    stored = fx.stored_estimands(hand_posterior(LEVELS, HAND), data)
    assert stored["interaction_ab"].attrs == {"name": "simple_interaction", "group": f"{A}:{B}"}
    assert stored["interaction_ab"].sel(interaction_ab_cell="ketamine|nAb|M").item() == 9.0


def test_three_way_bayesian_anova_equals_afex_at_the_least_squares_cell_means():
    # At the least-squares cell means of balanced npk (N x P x K, 3 plots per cell) each source's
    # effect variance x N is its type III SS, so the posterior formula gives afex's pes exactly:
    # afex::aov_ez("id", "yield", npk, between = c("N", "P", "K"), type = 3)  (R 4.2.2, afex 1.2.1)
    afex_pes = {"N": 0.278003118597267451, "P": 0.016803949478147485, "K": 0.162243764716575256,
                "N:P": 0.041495919952423875, "N:K": 0.063148566364598008, "P:K": 0.000978874599050966,
                "N:P:K": 0.070001797262485357}
    npk = pd.read_csv(FIXTURES / "npk_block.csv", dtype={"N": str, "P": str, "K": str})
    levels = {f: ("0", "1") for f in "NPK"}
    frame = pd.DataFrame({"row": np.arange(len(npk)) + 2, "animal": npk["plot"].astype(str),
                          **{f: pd.Categorical(npk[f], categories=["0", "1"]) for f in "NPK"},
                          "value": npk["yield"], "censored": False})
    data = fx.prepare(frame, list("NPK"), fx.FactorialOptions())
    means = frame.groupby(list("NPK"), observed=True)["value"].mean()
    post = hand_posterior(levels, {c: means.loc[c] for c in itertools.product(*levels.values())})
    eta = fx.bayesian_anova(post, data)["partial_eta_sq"]
    assert list(eta) == list(afex_pes)  # R's term order
    assert {k: eta[k].item() for k in afex_pes} == pytest.approx(afex_pes, rel=1e-9)
    table = fx.bayesian_anova_table(post, data, ci_prob=0.95, ci_kind="hdi")
    assert table["source"].tolist() == [*afex_pes, "residual"]


def test_three_way_interaction_prior_is_normal_zero_sqrt8_s():
    s = 4.0
    assert fx.interaction_prior_sd(s, 3) == pytest.approx(math.sqrt(8) * s)
    assert fx.interaction_prior_sd(s, 2) == 2 * s
    rng = np.random.default_rng(11)
    mu = rng.normal(30.0, s, size=(200_000, 2, 2, 2))
    contrast = sum((-1) ** (3 - i - j - k) * mu[:, i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1))
    assert np.std(contrast) == pytest.approx(math.sqrt(8) * s, rel=0.01)


def test_empty_and_small_cells_are_named():
    f = frame_for(LEVELS)
    empty = f[~((f[A] == "ketamine") & (f[B] == "nAb") & (f[C] == "M"))]
    with pytest.raises(DesignError, match=r"empty cell\(s\), with no animal: treatment=ketamine, antibody=nAb, sex=M"):
        fx.prepare(empty, [A, B, C], fx.FactorialOptions())
    small = f.drop(index=f.index[(f[A] == "saline") & (f[B] == "IgG") & (f[C] == "F")][:2])
    with pytest.raises(DesignError, match="the cell treatment=saline, antibody=IgG, sex=F has 1 animal"):
        fx.prepare(small, [A, B, C], fx.FactorialOptions())


# ------------------------------------------------------------------------------ end to end

TRUTH = {cell: 100.0 + 0.0 for cell in itertools.product(*LEVELS.values())}
TRUTH.update({("ketamine", "IgG", "F"): 60.0, ("ketamine", "IgG", "M"): 70.0, ("ketamine", "nAb", "F"): 95.0,
              ("ketamine", "nAb", "M"): 100.0})


@pytest.fixture(scope="module")
def three_way_fit():
    frame = frame_for(LEVELS, n=6, seed=4, means=TRUTH, sd=8.0).drop(columns=["row", "censored"])
    frame = frame.drop(index=[0, 7])  # unbalanced: 5 animals in two cells
    return fx.analyse_factorial(frame, outcome="value", factors=[A, B, C], animal="animal", blocker=B,
                                bf_sensitivity=False, seed=3, draws=300, tune=300, chains=2, retry=False)


def test_three_way_end_to_end(three_way_fit):
    res = three_way_fit
    e = res.estimates
    assert res.title == "value by treatment × antibody × sex"
    assert res.anova["effect"].tolist() == [A, B, C, f"{A}:{B}", f"{A}:{C}", f"{B}:{C}", f"{A}:{B}:{C}"]
    assert res.bayes_anova["source"].tolist()[:7] == res.anova["effect"].tolist()
    # every simple effect and interaction has its frequentist twin beside it
    for name in ("simple_effect", "simple_interaction", "interaction"):
        rows = e[e["name"] == name]
        assert len(rows) and rows["freq_estimate"].notna().all(), name
        assert rows["freq_p_adjusted"].notna().all(), name
    # 8 cells; simple effects 4 + 4 + 4; interactions of pairs 2 + 2 + 2; one three-way
    assert (e["name"] == "cell_mean").sum() == 8
    assert (e["name"] == "simple_effect").sum() == 12
    assert (e["name"] == "simple_interaction").sum() == 6
    assert (e["name"] == "interaction").sum() == 1
    assert len(res.checks["bayes_factor"]) == 1
    assert res.checks["bayes_factor"]["interaction_prior_sd"].iloc[0] == pytest.approx(
        math.sqrt(8) * res.priors["cell_mean"]["sigma"])
    # recovery of the simulated truth: the treatment x antibody interaction within each sex
    # (35 within F, 30 within M) lies inside its 95% HDI, and so does the three-way (-5)
    si = e[(e["name"] == "simple_interaction") & (e["group"] == f"{A}:{B}")].set_index("cell")
    for cell, truth in (("ketamine|nAb|F", 35.0), ("ketamine|nAb|M", 30.0)):
        assert si.loc[cell, "ci_low"] < truth < si.loc[cell, "ci_high"], (cell, si.loc[cell, ["ci_low", "ci_high"]])
    top = e[e["name"] == "interaction"].iloc[0]
    assert top["ci_low"] < -5.0 < top["ci_high"]
    # the draws behind every contrast are stored with the result
    assert "estimands" in res.tree.children
    assert set(res.tree["estimands"].data_vars) >= {"interaction", "interaction_ab", "blockade_pct_a"}


def test_three_way_report_renders(three_way_fit, tmp_path):
    from bayes_igf1.report.writer import write_report

    files = write_report(three_way_fit, tmp_path / "out")
    md = files["report.md"].read_text()
    assert "Three-way ANOVA" in md and "three-way between-animal ANOVA" in md
    assert "Interaction treatment × antibody, (ketamine vs saline) under nAb minus under IgG within M" in md
    assert any(name.startswith("figures/") and name.endswith(".png") for name in files)


# ------------------------------------------------------------------------------ covariate (item 6)
# datasets::mtcars, mpg ~ wt_c + am * vs (tests/fixtures/ancova_golden.R; R 4.2.2, car, emmeans)
EMMEANS_AT_MEAN_WT = {("0", "0"): 18.4512753503566, ("1", "0"): 18.3702494185783,
                      ("0", "1"): 20.6547821280796, ("1", "1"): 23.8113891982420}
LM_SLOPE, LM_SLOPE_SE = -3.835303909441749148, 0.872870634957884639
CAR_SS_WT, CAR_SS_ERROR = 140.70283586267348, 196.77359270875493


def _mtcars_frame() -> pd.DataFrame:
    d = pd.read_csv(FIXTURES / "mtcars_ancova.csv", dtype={"am": str, "vs": str})
    return pd.DataFrame({"row": np.arange(len(d)) + 2, "animal": d["car"],
                         "am": pd.Categorical(d["am"], categories=["0", "1"]),
                         "vs": pd.Categorical(d["vs"], categories=["0", "1"]),
                         "value": d["mpg"], "censored": False, "covariate": d["wt"]})


def test_covariate_partial_eta_squared_equals_car_at_the_least_squares_fit():
    data = fx.prepare(_mtcars_frame(), ["am", "vs"], fx.FactorialOptions(), covariate_name="wt")
    assert data.covariate_mean == pytest.approx(3.21725)  # mean(mtcars$wt)
    levels = {"am": ("0", "1"), "vs": ("0", "1")}
    post = hand_posterior(levels, EMMEANS_AT_MEAN_WT)
    post["covariate_slope"] = (("chain", "draw"), np.array([[LM_SLOPE]]))
    eta = fx.bayesian_anova(post, data)["partial_eta_sq"]
    assert eta["wt"].item() == pytest.approx(CAR_SS_WT / (CAR_SS_WT + CAR_SS_ERROR), rel=1e-9)
    model = fx.build_model(data, fx.resolve_priors(data, fx.FactorialOptions()), fx.FactorialOptions())
    assert "covariate_slope" in fx.free_parameters(data) and "covariate_slope" in model.named_vars


@pytest.fixture(scope="module")
def ancova_fit():
    return fx.analyse_factorial(FIXTURES / "mtcars_ancova.csv", outcome="mpg", factors=["am", "vs"], animal="car",
                                covariate="wt", reference={"am": "0", "vs": "0"}, bf_sensitivity=False, seed=5,
                                draws=500, tune=500, chains=2, retry=False)


def test_covariate_end_to_end_agrees_with_the_ancova(ancova_fit):
    e = ancova_fit.estimates
    slope = e[e["name"] == "covariate_slope"].iloc[0]
    # weak priors and 32 cars: the posterior median sits at the least-squares slope (within 0.2 posterior SD)
    assert abs(slope["median"] - LM_SLOPE) < 0.2 * slope["sd"]
    assert slope["sd"] == pytest.approx(LM_SLOPE_SE, rel=0.25)
    assert slope["freq_estimate"] == pytest.approx(LM_SLOPE, rel=1e-9)
    cells = e[e["name"] == "cell_mean"].set_index("cell")
    for (am, vs), mean in EMMEANS_AT_MEAN_WT.items():
        r = cells.loc[f"{am}|{vs}"]
        assert abs(r["median"] - mean) < 0.25 * r["sd"], (am, vs, r["median"], mean)
    t = ancova_fit.anova.set_index("effect")
    assert list(t.index) == ["am", "vs", "am:vs", "wt"]
    assert t.loc["wt", "SS"] == pytest.approx(CAR_SS_WT, rel=1e-9)
    assert "covariate_slope x (wt[i] - 3.217)" in ancova_fit.model_text
    assert any("Covariate 'wt'" in n for n in ancova_fit.notes)
    assert "anova_plain" in ancova_fit.frequentist_extra  # the lab's plain ANOVA beside the ANCOVA


def test_covariate_bad_input(tmp_path):
    from bayes_igf1.errors import DataError

    d = pd.read_csv(FIXTURES / "mtcars_ancova.csv", dtype={"wt": str})
    d.loc[4, "wt"] = "heavy"
    d.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError) as err:
        fx.analyse_factorial(tmp_path / "bad.csv", outcome="mpg", factors=["am", "vs"], covariate="wt", draws=10)
    assert "row 6" in str(err.value) and "wt" in str(err.value)
    frame = _mtcars_frame().assign(covariate=3.0)
    with pytest.raises(DesignError, match="same value"):
        fx.prepare(frame, ["am", "vs"], fx.FactorialOptions(), covariate_name="wt")
