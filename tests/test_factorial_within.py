"""Within-animal factors in the factorial design (issue 12, item 4): ``--within``.

The frequentist pieces are pinned to R on real data: afex::obk.long averaged over hour
(tests/fixtures/obk_phase.csv; treatment between, phase within, 16 subjects), with
tests/fixtures/within_golden.R (R 4.2.2, lmerTest, emmeans, afex): REML cell-mean contrasts
with Satterthwaite df and the mixed ANOVA with GG/HF. One small Bayesian fit of the same
data checks the wiring (the contrasts beside each posterior, the incomplete animal kept).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_igf1.designs import factorial as fx
from bayes_igf1.errors import BayesIGF1Error, DesignError
from bayes_igf1.frequentist import repeated

FIXTURES = Path(__file__).parent / "fixtures"
TREAT, PHASE = ("control", "A", "B"), ("pre", "post", "fup")
# emmeans(lmer(value ~ treatment * phase + (1 | id)), lmer.df = "satterthwaite"), unadjusted:
# (estimate, SE, df, p)
PHASE_WITHIN_TREATMENT = {  # contrast(emmeans(fit, ~ phase | treatment), "trt.vs.ctrl")
    ("post", "control"): (-0.200000000000023, 0.532531448442173, 26.0000000153545, 7.10287275369828e-01),
    ("fup", "control"): (0.199999999999976, 0.532531448442173, 26.0000000175557, 7.10287275369638e-01),
    ("post", "A"): (1.499999999999998, 0.595388259436561, 26.0000000019737, 1.82390574325800e-02),
    ("fup", "A"): (2.249999999999998, 0.595388259436561, 26.0000000019186, 8.29649155415950e-04),
    ("post", "B"): (2.428571428571428, 0.450071219427642, 26.0000000013159, 1.18546850945918e-05),
    ("fup", "B"): (3.142857142857142, 0.450071219427642, 26.0000000016984, 2.05068874995136e-07),
}
TREATMENT_WITHIN_PHASE = {  # contrast(emmeans(fit, ~ treatment | phase), "trt.vs.ctrl")
    ("A", "pre"): (0.7999999999999464, 1.083530554067447, 18.9254954835870, 0.46937323279556220),
    ("B", "pre"): (-0.0571428571429097, 0.945783006059338, 18.9254954797037, 0.95245573137461059),
    ("A", "post"): (2.4999999999999680, 1.083530554067446, 18.9254954920686, 0.03251234962402404),
    ("B", "post"): (2.5714285714285414, 0.945783006059336, 18.9254954915028, 0.01365565463576381),
    ("A", "fup"): (2.8499999999999694, 1.083530554067446, 18.9254954922000, 0.01651786089594198),
    ("B", "fup"): (2.8857142857142573, 0.945783006059336, 18.9254954912918, 0.00659357790245337),
}
INTERACTION = {  # contrast(emmeans(fit, ~ treatment * phase), interaction = c("trt.vs.ctrl", "trt.vs.ctrl"))
    ("A", "post"): (1.70000000000002, 0.798797172663259, 26.0000000089165, 0.042962968104045485),
    ("B", "post"): (2.62857142857145, 0.697247334980208, 26.0000000111057, 0.000849420437961379),
    ("A", "fup"): (2.05000000000002, 0.798797172663259, 26.0000000080861, 0.016386407088984544),
    ("B", "fup"): (2.94285714285717, 0.697247334980209, 26.0000000117815, 0.000262410585525217),
}
# afex::aov_ez("id", "value", d, between = "treatment", within = "phase", type = 3): F, GG eps, p_GG, HF eps, p_HF
AFEX = {"treatment": (2.91388277655531, np.nan, np.nan, np.nan, np.nan),
        "phase": (19.29394975925400, 0.87070992944553, 2.37528250515755e-05, 0.993903216212772, 7.70607224087557e-06),
        "treatment:phase": (5.43037974683544, 0.87070992944553, 4.30132703636543e-03, 0.993903216212772,
                            2.64081702597072e-03)}


def _obk() -> pd.DataFrame:
    d = pd.read_csv(FIXTURES / "obk_phase.csv")
    d["treatment"] = pd.Categorical(d["treatment"], categories=list(TREAT))
    d["phase"] = pd.Categorical(d["phase"], categories=list(PHASE))
    return d


def test_cell_contrasts_equal_emmeans_on_lmer_with_satterthwaite_df():
    d = _obk()
    cells = list(itertools.product(TREAT, PHASE))
    cell = np.array([cells.index((t, p)) for t, p in zip(d["treatment"], d["phase"], strict=True)])

    def w(*terms):
        out = np.zeros(len(cells))
        for sign, c in terms:
            out[cells.index(c)] += sign
        return out

    weights, golden = [], []
    for (p, t), g in PHASE_WITHIN_TREATMENT.items():
        weights.append(w((1, (t, p)), (-1, (t, "pre"))))
        golden.append(g)
    for (t, p), g in TREATMENT_WITHIN_PHASE.items():
        weights.append(w((1, (t, p)), (-1, ("control", p))))
        golden.append(g)
    for (t, p), g in INTERACTION.items():
        weights.append(w((1, (t, p)), (-1, ("control", p)), (-1, (t, "pre")), (1, ("control", "pre"))))
        golden.append(g)
    res = repeated.cell_contrasts(d["value"].to_numpy(), cell, d["id"].to_numpy(), np.vstack(weights))
    for row, (est, se, df, p) in zip(res.to_dict("records"), golden, strict=True):
        assert row["estimate"] == pytest.approx(est, rel=1e-6, abs=1e-12)
        assert (row["se"], row["df"], row["p"]) == pytest.approx((se, df, p), rel=1e-6)


@pytest.fixture(scope="module")
def within_fit():
    d = _obk().drop(index=[5])  # one animal (id 2) loses a phase: the model keeps it, the RM ANOVA drops it
    return fx.analyse_factorial(d, outcome="value", factors=["treatment"], within=["phase"], animal="id",
                                reference={"treatment": "control", "phase": "pre"}, bf_sensitivity=False,
                                seed=4, draws=300, tune=300, chains=2, retry=False)


def test_within_design_end_to_end(within_fit):
    res = within_fit
    assert res.settings["within"] == ["phase"] and res.settings["factors"] == ["treatment"]
    assert "phase within animals" in res.title
    e = res.estimates
    # every simple effect and interaction has its mixed-model contrast beside it
    for name in ("simple_effect", "interaction"):
        rows = e[e["name"] == name]
        assert len(rows) and rows["freq_estimate"].notna().all() and rows["freq_p_adjusted"].notna().all()
        assert rows["freq_method"].str.contains("REML mixed model").all()
    assert not (e["name"] == "cohens_d").any() or e.loc[e["name"] == "cohens_d", "freq_estimate"].isna().all()
    # the RM ANOVA leaves out the incomplete animal and names it; the Bayesian model keeps its rows
    ad = res.anova_data
    assert ad["animals_dropped"] == ["2"] and ad["n_analysed"] == 15 and ad["n_animals"] == 16
    assert "leaves out 1 animal" in ad["note"]
    assert res.anova["effect"].tolist() == ["treatment", "phase", "treatment:phase"]
    assert res.anova["epsilon_gg"].notna().tolist() == [False, True, True]
    # Bayesian estimates agree with the mixed model's to well within their posterior SD
    simple = e[(e["name"] == "simple_effect") & e["freq_estimate"].notna()]
    assert (abs(simple["median"] - simple["freq_estimate"]) < 0.5 * simple["sd"]).all()
    # within-stratum partial eta squared for the phase sources (the between-stratum one for treatment)
    assert set(res.bayes_anova["source"]) >= {"treatment", "phase", "treatment:phase", "animal", "residual"}
    assert "paired_t" not in res.frequentist_extra  # phase has 3 levels
    from bayes_igf1.designs.base import get_design

    design = get_design("factorial")
    assert design.anova_head(res).startswith("Two-way repeated-measures ANOVA")
    methods = design.frequentist_methods(res)
    assert "phase within animals" in methods and "Greenhouse-Geisser" in methods and "between-animal" not in methods


def test_within_anova_equals_afex_on_complete_data():
    d = _obk()
    data = fx.prepare(d.assign(row=np.arange(len(d)) + 2, animal=d["id"].astype(str), censored=False),
                      ["treatment", "phase"], fx.FactorialOptions(), within=["phase"])
    twin = fx.frequentist_twin(data, fx.FactorialOptions())
    t = twin["anova"].set_index("effect")
    for effect, (f, gg, pgg, hf, phf) in AFEX.items():
        assert t.loc[effect, "F"] == pytest.approx(f, rel=1e-6)
        got = [t.loc[effect, c] for c in ("epsilon_gg", "p_gg", "epsilon_hf", "p_hf")]
        if np.isnan(gg):
            continue
        assert got == pytest.approx([gg, pgg, hf, phf], rel=1e-6)
    # the simple effects of phase within each treatment are R's (Sidak over the family of 12)
    simple = twin["simple_effects"]
    phase = simple[simple["effect"] == "phase"].set_index(["level", "within"])
    for (p, trt), (est, se, df, pv) in PHASE_WITHIN_TREATMENT.items():
        r = phase.loc[(p, f"treatment={trt}")]
        assert (r["se"], r["df"], r["p"]) == pytest.approx((se, df, pv), rel=1e-6)
        assert r["estimate"] == pytest.approx(est, rel=1e-6, abs=1e-12)


def test_paired_t_for_a_two_level_within_factor():
    d = _obk()
    d = d[d["phase"] != "fup"].copy()
    d["phase"] = pd.Categorical(d["phase"].astype(str), categories=["pre", "post"])
    data = fx.prepare(d.assign(row=np.arange(len(d)) + 2, animal=d["id"].astype(str), censored=False),
                      ["treatment", "phase"], fx.FactorialOptions(), within=["phase"])
    paired = fx.frequentist_twin(data, fx.FactorialOptions())["extra"]["paired_t"]
    assert paired["within"].tolist() == ["treatment=control", "treatment=A", "treatment=B"]
    # each is t.test(post, pre, paired = TRUE) within the treatment: worked from the differences
    for r in paired.to_dict("records"):
        g = d[d["treatment"] == r["within"].split("=")[1]].pivot(index="id", columns="phase", values="value")
        diff = (g["post"] - g["pre"]).to_numpy()
        assert r["estimate"] == pytest.approx(diff.mean(), rel=1e-12)
        assert r["se"] == pytest.approx(diff.std(ddof=1) / np.sqrt(len(diff)), rel=1e-12)


def test_within_bad_input(tmp_path):
    d = _obk()
    frame = d.assign(row=np.arange(len(d)) + 2, animal=d["id"].astype(str), censored=False)
    with pytest.raises(DesignError, match="each animal belongs to one cell.*--within"):
        fx.prepare(frame, ["treatment", "phase"], fx.FactorialOptions())
    with pytest.raises(DesignError, match="within factors"):
        fx.prepare(frame, ["treatment", "phase"], fx.FactorialOptions(), within=["hour"])
    d.to_csv(tmp_path / "obk.csv", index=False)
    with pytest.raises(BayesIGF1Error, match="needs the animal column"):
        fx.analyse_factorial(tmp_path / "obk.csv", outcome="value", factors=["treatment"], within=["phase"],
                             draws=10)


def test_posterior_partial_eta_squared_equals_the_rm_anova_at_the_least_squares_fit():
    # Balanced split plot (4 subjects per treatment, all 3 phases): at the least-squares cell means the
    # posterior formula, with its between- and within-animal error strata, gives the mixed ANOVA's pes
    # exactly (mixed_anova is pinned to afex in test_frequentist_mixed.py).
    d = _obk()
    keep = d.groupby("treatment", observed=True)["id"].apply(lambda s: sorted(s.unique())[:4]).explode().tolist()
    d = d[d["id"].isin(keep)].reset_index(drop=True)
    frame = d.assign(row=np.arange(len(d)) + 2, animal=d["id"].astype(str), censored=False)
    data = fx.prepare(frame, ["treatment", "phase"], fx.FactorialOptions(), within=["phase"])
    cells = d.groupby(["treatment", "phase"], observed=True)["value"].mean()
    cube = np.array([[cells.loc[(t, p)] for p in PHASE] for t in TREAT])
    import xarray as xr

    post = xr.Dataset(
        {"cell_mean": (("chain", "draw", "treatment", "phase"), cube[None, None]),
         "sigma": (("chain", "draw"), np.array([[1.0]])),
         "animal_effect": (("chain", "draw", "animal"), np.zeros((1, 1, len(data.animals))))},
        coords={"chain": [0], "draw": [0], "treatment": list(TREAT), "phase": list(PHASE), "animal": list(data.animals)})
    eta = fx.bayesian_anova(post, data)["partial_eta_sq"]
    aov = repeated.mixed_anova(d, subject="id", dv="value", between=["treatment"], within=["phase"]).table
    pes = dict(zip(aov["effect"], aov["partial_eta_sq"], strict=True))
    for source in ("treatment", "phase", "treatment:phase"):
        assert eta[source].item() == pytest.approx(pes[source], rel=1e-9), source
