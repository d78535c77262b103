"""Time course with several group factors (issue 12, item 5): estimand maths by hand, the twin
pinned to R on real data, a small end-to-end fit with known truth, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_igf1.designs import timecourse as tc
from bayes_igf1.errors import DataError, DesignError
from bayes_igf1.io import read_timecourse
from bayes_igf1.simulate import simulate_timecourse

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GROUPS = ["treatment", "antibody"]


def _sheet(times=(-1, 0, 1, 2, 3), drop=None) -> pd.DataFrame:
    """Two animals per treatment x antibody combination, one row per fraction (a lab sheet)."""
    rows = []
    for t_ in ("saline", "ket"):
        for ab in ("IgG", "nAb"):
            if (t_, ab) == drop:
                continue
            for k in range(2):
                for t in times:
                    rows.append({"mouse": f"{t_}-{ab}-{k}", "treatment": t_, "antibody": ab, "hour": t,
                                 "igf1": 20.0 + k + 0.1 * t})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ estimand maths by hand


def test_reading_several_groups_makes_the_combinations_reference_first():
    sheet = read_timecourse(_sheet(), animal="mouse", group=GROUPS, time="hour", value="igf1")
    f = sheet.frame
    assert list(f["group"].cat.categories) == ["saline|IgG", "saline|nAb", "ket|IgG", "ket|nAb"]
    assert list(f["treatment"].cat.categories) == ["saline", "ket"]
    assert list(f["antibody"].cat.categories) == ["IgG", "nAb"]
    assert sheet.factors == ("treatment", "antibody")
    assert sheet.summary()["reference_level"] == {"treatment": "saline", "antibody": "IgG"}
    assert sheet.summary()["n_per_group"] == {"saline|IgG": 2, "saline|nAb": 2, "ket|IgG": 2, "ket|nAb": 2}
    # --reference FACTOR=LEVEL reorders that factor (and so the combinations).
    other = read_timecourse(_sheet(), animal="mouse", group=GROUPS, time="hour", value="igf1",
                            reference={"antibody": "nAb"})
    assert list(other.frame["group"].cat.categories) == ["saline|nAb", "saline|IgG", "ket|nAb", "ket|IgG"]


def test_factor_estimands_worked_by_hand():
    """2 x 2 x 3 times, one posterior draw repeated (2 chains x 2 draws); values by hand.

    beta (log % of baseline / 100), times 1, 2, 3:
      saline|IgG 1, 1, 1;  saline|nAb 1.1, 1, 1;  ket|IgG 2, 3, 1.5;  ket|nAb 1.1 sqrt(2), 1, 1.5
    so ket vs saline is x2, x3, x1.5 under IgG and x sqrt(2), x1, x1.5 under nAb.
    """
    sheet = read_timecourse(_sheet(), animal="mouse", group=GROUPS, time="hour", value="igf1")
    opt = tc.TimecourseOptions(blocker="antibody")
    data = tc.prepare(sheet.frame, opt, factors=tuple(GROUPS))
    assert data.groups == ("saline|IgG", "saline|nAb", "ket|IgG", "ket|nAb") and data.reference == "saline|IgG"
    ratios = np.array([[1, 1, 1], [1.1, 1, 1], [2, 3, 1.5], [1.1 * np.sqrt(2), 1, 1.5]])
    beta = np.broadcast_to(np.log(ratios), (2, 2, 4, 3)).copy()
    post = xr.Dataset({"beta": (("chain", "draw", "group", "time"), beta)},
                      coords={"group": list(data.groups), "time": list(data.times)})
    out = tc.estimand_draws(post, data)
    inter = out["interaction"]
    assert list(inter["cell_label"].values) == ["ket|nAb"] and list(inter["ref_label"].values) == ["saline|IgG"]
    # ratio of ratios: sqrt(2) / 2, 1 / 3, 1.5 / 1.5
    np.testing.assert_allclose(inter.values[0, 0, 0], [1 / np.sqrt(2), 1 / 3, 1.0], rtol=1e-12)
    # % blockade on the log-ratio scale: 100 (1 - log sqrt(2) / log 2) = 50, 100 (1 - 0) = 100, 100 (1 - 1) = 0
    np.testing.assert_allclose(out["blockade_pct"].values[1, 1, 0], [50.0, 100.0, 0.0], atol=1e-10)
    # AUC of 100 x ratio over hours 1-3 (trapezoids): saline|IgG 200, saline|nAb 105 + 100 = 205,
    # ket|IgG 250 + 225 = 475, ket|nAb (110 sqrt(2) + 100) / 2 + 125.
    auc_nab = (110 * np.sqrt(2) + 100) / 2 + 125
    expected = 100 * (1 - (auc_nab - 205) / (475 - 200))
    assert float(out["blockade_auc_pct"].values[0, 1, 0]) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(82.6248, abs=1e-4)  # 100 (1 - 47.7817 / 275)
    # The per-combination estimands are today's: ket|nAb vs saline|IgG at 1 h is 100 (1.1 sqrt(2) - 1) %.
    assert float(out["effect_vs_reference"].sel(group="ket|nAb", time=1.0)[0, 0]) == pytest.approx(
        100 * (1.1 * np.sqrt(2) - 1))
    assert "between_treatments" not in out  # combinations are compared with the reference combination only

    table = tc.estimates_table(out, data, opt).set_index(["name", "time"], drop=False)
    row = table.loc[("blockade_pct", 1.0)]
    assert (row["group"], row["cell"], row["reference"]) == ("treatment:antibody", "ket|nAb", "saline|IgG")
    assert row["label"] == "% of the ket vs saline effect abolished by nAb (vs IgG) at time 1"
    assert row["median"] == pytest.approx(50.0) and bool(row["headline"])
    auc = table[table["name"] == "blockade_auc_pct"].iloc[0]
    assert auc["label"] == "% of the ket vs saline effect abolished by nAb (vs IgG) over the AUC"
    assert np.isnan(auc["time"]) and auc["median"] == pytest.approx(expected)
    assert table.loc[("interaction", 2.0), "label"] == "(ket vs saline) under nAb vs under IgG at time 2"
    assert table.loc[("interaction", 2.0), "scale"] == "ratio of ratios"
    eff = table[table["name"] == "effect_vs_reference"]
    assert "ket, nAb vs saline, IgG at time 1" in set(eff["label"])
    # The gate sees every estimand, each contrast on a dimension of its own.
    gated = tc.gated_estimands(post, data)
    assert set(gated["blockade_pct"].dims) == {"chain", "draw", "blockade_pct_contrast", "time"}
    xr.Dataset({f"estimand:{k}": v for k, v in gated.items()})  # one Dataset holds them side by side


def test_three_factors_give_each_pair_with_the_blocker_within_the_third():
    rows = [dict(mouse=f"{a}{b}{s}{k}", treatment=a, antibody=b, sex=s, hour=t, igf1=10.0 + k + t)
            for a in ("saline", "ket") for b in ("IgG", "nAb") for s in ("F", "M") for k in range(2)
            for t in (0, 1, 2)]
    sheet = read_timecourse(pd.DataFrame(rows), animal="mouse", group=["treatment", "antibody", "sex"], time="hour",
                            value="igf1")
    opt = tc.TimecourseOptions(blocker="antibody")
    data = tc.prepare(sheet.frame, opt, factors=("treatment", "antibody", "sex"))
    post = xr.Dataset({"beta": (("chain", "draw", "group", "time"),
                                np.random.default_rng(0).normal(size=(2, 3, 8, 2)))},
                      coords={"group": list(data.groups), "time": list(data.times)})
    table = tc.estimates_table(tc.estimand_draws(post, data), data, opt)
    blk = table[table["name"] == "blockade_auc_pct"]
    assert set(blk["group"]) == {"treatment:antibody", "sex:antibody"}
    assert "% of the ket vs saline effect abolished by nAb (vs IgG) within M over the AUC" in set(blk["label"])
    row = blk[blk["label"].str.contains("within M ") & (blk["group"] == "treatment:antibody")].iloc[0]
    assert (row["cell"], row["reference"]) == ("ket|nAb|M", "saline|IgG|M")


# ------------------------------------------------------------------ the twin, pinned to R

# tests/fixtures/timecourse_groups_golden.R on obk_timecourse.csv (afex::obk.long as a time course).
R_EFFECT = ["treatment", "gender", "treatment:gender", "hour", "treatment:hour", "gender:hour", "treatment:gender:hour"]
R_DF_NUM = [2, 1, 2, 4, 8, 4, 8]
R_DF_DEN = [9, 9, 9, 36, 36, 36, 36]
R_F = [1.78905744476072, 0.000756065419279869, 0.101687868309517, 5.17982663658015, 0.202024603828046,
       0.538515085825644, 0.55052842142957]
R_P = [0.221728380363977, 0.978663671982409, 0.904334510860874, 0.00211684714086172, 0.988661840395294,
       0.708353680372339, 0.810386603611237]
R_PES = [0.284471474537277, 8.40002121804697e-05, 0.022097949973924, 0.365295484164636, 0.042965450173011,
         0.056456909799921, 0.109004123032683]
R_GES = [0.2083036111798, 5.5592868608373e-05, 0.0147345289310632, 0.162932455833307, 0.014956214007654,
         0.019834853860776, 0.0397314417863712]
R_EPS_GG = 0.494995018396855
R_P_GG = [0.0170746463199932, 0.932708278858174, 0.591079711783966, 0.699510794762512]
R_EPS_HF = 0.633894238280688
R_P_HF = [0.00952231815531002, 0.959567495554339, 0.631890861733803, 0.738537137597421]
R_MAUCHLY_W, R_MAUCHLY_P = 0.134186943019383, 0.101349149313573
R_SD_ANIMAL, R_SD_RESIDUAL = 0.346881146030683, 0.320787503972652
R_CONTRAST = ["A F - control F", "B F - control F", "control M - control F", "A M - control F", "B M - control F"] * 5
R_HOUR = [1.0] * 5 + [2.0] * 5 + [3.0] * 5 + [4.0] * 5 + [5.0] * 5
R_ESTIMATE = [0.0526802578291416, 0.640524072120013, 0.024363751696606, 0.482540448022024, 0.695998091877323,
              0.433750283852455, 0.710395398431776, -0.113485440481833, 0.405465108108258, 0.631045300020521,
              0.601986402163057, 0.551355336135189, 0.356970597763239, 0.255412811883085, 0.528472145625004,
              0.143841036225991, 0.418494108393019, -0.0539701865111667, 0.143841036225992, 0.333746750090717,
              -0.0384805205679758, 0.695196372361081, 0.168204787922335, 0.693147180560036, 0.726196932446215]
R_SE = [0.472473440710226, 0.409174002268495, 0.431307268831783, 0.472473440710225, 0.431307268831783,
        0.47247344071023, 0.4091740022685, 0.431307268831788, 0.47247344071023, 0.431307268831788,
        0.47247344071023, 0.4091740022685, 0.454652808462171, 0.47247344071023, 0.431307268831788,
        0.47247344071023, 0.4091740022685, 0.431307268831788, 0.47247344071023, 0.431307268831788,
        0.47247344071023, 0.4091740022685, 0.431307268831788, 0.47247344071023, 0.431307268831788]
R_DF = [23.0094529314268, 23.0094529440958, 23.0094529513702, 23.009452931479, 23.0094529302996,
        23.0094529266522, 23.0094529280826, 23.0094529317532, 23.0094529282465, 23.0094529279076,
        23.0094529270411, 23.0094529281173, 26.6793345456561, 23.0094529251257, 23.0094529275012,
        23.009452924167, 23.009452928439, 23.0094529309163, 23.0094529268331, 23.0094529258964,
        23.0094529252847, 23.0094529296632, 23.009452931737, 23.0094529242061, 23.0094529255999]
R_P_RAW = [0.912187694565922, 0.131137982346288, 0.955440599641922, 0.317727720376085, 0.120225710310548,
           0.368120642778369, 0.095907281281141, 0.794800135672261, 0.399647059077115, 0.156967390679958,
           0.215341136542348, 0.19094434680754, 0.439282789775637, 0.593987483526923, 0.232864749744012,
           0.76352718191015, 0.31704645780049, 0.901506188165976, 0.763527181909833, 0.446925459904992,
           0.93579250817256, 0.102797444342798, 0.700131900563476, 0.155895646294585, 0.105757624462414]
R_P_SIDAK = [1, 0.970230584284868, 1, 0.999929377487876, 0.959329299489363, 0.999989628198601, 0.919587365721256,
             1, 0.999997114865521, 0.986000602437252, 0.997671790152268, 0.994994356449141, 0.999999476885022,
             0.999999999836512, 0.998676272834794, 1, 0.999927593251259, 1, 1, 0.999999628813928, 1,
             0.933585554701043, 0.999999999999916, 0.985548813469444, 0.938852155962079]
R_CI_LOW = [-0.924683302870198, -0.20589760015305, -0.867843030058284, -0.494823112677191, -0.196208689922755,
            -0.543613276858111, -0.136026273873878, -1.0056922222788, -0.571898452598562, -0.261161481784698,
            -0.375377158546595, -0.295066336170393, -0.576424829380319, -0.721950748831067, -0.363734636181086,
            -0.833522524490414, -0.427927563911909, -0.946176968309933, -0.833522524484148, -0.558460031718815,
            -1.01584408128175, -0.151225299941357, -0.724001993874671, -0.284216380156276, -0.166009849363953]
R_CI_HIGH = [1.03004381852848, 1.48694574439308, 0.916570533451496, 1.45990400872124, 1.5882048736774,
             1.41111384456302, 1.55681707073743, 0.778721341315138, 1.38282866881508, 1.52325208182574,
             1.57934996287271, 1.39777700844077, 1.2903660249068, 1.23277637259724, 1.42067892743109,
             1.1212045969424, 1.26491578069795, 0.838236595287599, 1.12120459693613, 1.22595353190025,
             0.938883040145803, 1.54161804466352, 1.06041156971934, 1.67051074127635, 1.61840371425638]
R_CI_LOW_SIDAK = [-1.58903174126455, -0.781240224694857, -1.47430740619164, -1.1591715510712, -0.802673066182719,
                  -1.20796171528389, -0.711368898506974, -1.61215659853004, -1.23624689101385, -0.867625858059042,
                  -1.03972559696982, -0.870408960803291, -1.19601410819553, -1.3862991872669, -0.970199012457873,
                  -1.49787096293255, -1.00327018854297, -1.5526413445662, -1.49787096290874, -1.16492440800524,
                  -1.68019251971654, -0.726567924565442, -1.33046637012601, -0.948564818598159, -0.772474225652165]
R_CI_HIGH_SIDAK = [1.69439225692283, 2.06228836893488, 1.52303490958485, 2.12425244711524, 2.19466924993737,
                   2.0754622829888, 2.13215969537053, 1.38518571756638, 2.04717710723037, 2.12971645810009,
                   2.24369840129593, 1.97311963307367, 1.90995530372201, 1.89712481103307, 2.02714330370788,
                   1.78555303538454, 1.84025840532901, 1.44470097154387, 1.78555303536072, 1.83241790818668,
                   1.60323147858059, 2.1169606692876, 1.66687594597068, 2.33485917971823, 2.22486809054459]


@pytest.fixture(scope="module")
def obk_twin():
    """The design's twin on obk_timecourse.csv read as a lab sheet (--group treatment --group gender)."""
    sheet = read_timecourse(FIXTURES / "obk_timecourse.csv", animal="id", group=["treatment", "gender"],
                            time="hour", value="value")
    opt = tc.TimecourseOptions()
    data = tc.prepare(sheet.frame, opt, factors=("treatment", "gender"))
    return tc.frequentist_twin(sheet.frame, data, opt)


def test_twin_mixed_anova_equals_afex(obk_twin):
    a = obk_twin["anova"]
    assert [e.replace("time", "hour") for e in a["effect"]] == R_EFFECT
    approx = lambda x: pytest.approx(x, rel=1e-6)  # noqa: E731
    assert a["df_num"].tolist() == R_DF_NUM and a["df_den"].tolist() == R_DF_DEN
    assert a["F"].tolist() == approx(R_F)
    assert a["p"].tolist() == approx(R_P)
    assert a["partial_eta_sq"].tolist() == approx(R_PES)
    assert a["generalized_eta_sq"].tolist() == approx(R_GES)
    w = a.iloc[3:]
    assert w["epsilon_gg"].tolist() == approx([R_EPS_GG] * 4)
    assert w["p_gg"].tolist() == approx(R_P_GG)
    assert w["epsilon_hf"].tolist() == approx([R_EPS_HF] * 4)
    assert w["p_hf"].tolist() == approx(R_P_HF)
    assert a.iloc[:3][["epsilon_gg", "p_gg"]].isna().all().all()  # between effects: no correction
    m = obk_twin["mauchly"]
    assert m["W"].tolist() == approx([R_MAUCHLY_W] * 4) and m["p"].tolist() == approx([R_MAUCHLY_P] * 4)
    # id 2 lost its hour-3 fraction: the ANOVA drops it (as afex does); the mixed model keeps it.
    assert obk_twin["anova_data"]["animals_dropped"] == ["2"] and obk_twin["anova_data"]["n_animals"] == 15
    assert obk_twin["mixed_model"]["n_animals"] == 16


def test_twin_mixed_model_contrasts_equal_lmertest_emmeans(obk_twin):
    c = obk_twin["contrasts"]
    approx = lambda x: pytest.approx(x, rel=1e-6)  # noqa: E731
    back = lambda x: (100 * (np.exp(np.asarray(x)) - 1)).tolist()  # noqa: E731  log ratio -> % change
    assert c["contrast"].tolist() == R_CONTRAST and c["time"].tolist() == R_HOUR
    assert c["group"].tolist()[:5] == ["A|F", "B|F", "control|M", "A|M", "B|M"]
    assert set(c["reference"]) == {"control|F"}
    assert c["estimate"].tolist() == approx(back(R_ESTIMATE))
    assert c["se"].tolist() == approx(R_SE)  # on the log scale
    assert c["df"].tolist() == approx(R_DF)
    assert c["p"].tolist() == approx(R_P_RAW)
    assert c["p_adjusted"].tolist() == approx(R_P_SIDAK)
    assert c["ci_low"].tolist() == approx(back(R_CI_LOW))
    assert c["ci_high"].tolist() == approx(back(R_CI_HIGH))
    assert c["ci_low_adjusted"].tolist() == approx(back(R_CI_LOW_SIDAK))
    assert c["ci_high_adjusted"].tolist() == approx(back(R_CI_HIGH_SIDAK))
    mm = obk_twin["mixed_model"]
    assert mm["sd_animal"] == approx(R_SD_ANIMAL) and mm["sd_residual"] == approx(R_SD_RESIDUAL)


# ------------------------------------------------------------------ end to end, known truth

TRUTH = {"saline|IgG": [0.0, 0.0, 0.0, 0.0], "saline|nAb": [0.0, 0.0, 0.0, 0.0],
         "ketamine|IgG": [0.6, 0.8, 0.5, 0.3], "ketamine|nAb": [0.15, 0.2, 0.125, 0.075]}  # nAb blocks 75 %


@pytest.fixture(scope="module")
def fitted():
    df, _ = simulate_timecourse(n_per_group=6, groups=tuple(TRUTH), times=(-1, 0, 1, 2, 3, 4),
                                baseline_log_mean=np.log(20), animal_sd=0.3, residual_sd=0.1, residual_nu=None,
                                effects=TRUTH, seed=3)
    df[["treatment", "antibody"]] = df["treatment"].str.split("|", expand=True)
    return tc.analyse_timecourse(df, animal="mouse", group=["treatment", "antibody"], time="hour",
                                 value="igf1_pg_ml", blocker="antibody", draws=200, tune=200, chains=2,
                                 retry=False, seed=1)


def _near(rows: pd.DataFrame, truth) -> bool:
    """Every posterior median within 3 posterior SDs of the truth (robust to the seed, unlike 95% coverage)."""
    return bool((np.abs(rows["median"].to_numpy() - truth) < 3 * rows["sd"].to_numpy()).all())


def test_end_to_end_recovers_the_blockade(fitted):
    e = fitted.estimates
    inter = e[e["name"] == "interaction"].sort_values("time")
    assert _near(inter, np.exp(np.subtract(TRUTH["ketamine|nAb"], TRUTH["ketamine|IgG"])))
    assert (inter["ci_high"].to_numpy()[:3] < 1).all()  # the interaction is clear while ketamine acts
    traj = {g: 100 * np.exp(v) for g, v in TRUTH.items()}
    auc = {g: np.trapezoid(v, [1, 2, 3, 4]) for g, v in traj.items()}
    true_auc = 100 * (1 - (auc["ketamine|nAb"] - auc["saline|nAb"]) / (auc["ketamine|IgG"] - auc["saline|IgG"]))
    blk = e[e["name"] == "blockade_auc_pct"]
    assert true_auc == pytest.approx(80.7, abs=0.05) and _near(blk, true_auc) and blk["prob_above"].iloc[0] > 0.9
    per_time = e[e["name"] == "blockade_pct"].sort_values("time")
    assert len(per_time) == 4 and _near(per_time.iloc[:3], 75.0)  # the last time's effect is small: heavy tails
    eff = e[(e["name"] == "effect_vs_reference") & (e["group"] == "ketamine|IgG")].sort_values("time")
    assert _near(eff, 100 * (np.exp(TRUTH["ketamine|IgG"]) - 1))
    assert eff["freq_p_adjusted"].notna().all()  # the mixed-model contrast sits beside each combination


def test_end_to_end_result_twin_text_and_figure(fitted):
    from bayes_igf1.report.figures import timecourse_legend
    from bayes_igf1.report.text import results_paragraph

    doc = json.loads(fitted.to_json())
    assert doc["settings"]["group"] == ["treatment", "antibody"] and doc["settings"]["blocker"] == "antibody"
    assert doc["settings"]["reference"] == "saline|IgG"
    assert doc["settings"]["references"] == {"treatment": "saline", "antibody": "IgG"}
    assert doc["data"]["n_per_group"] == {"saline|IgG": 6, "saline|nAb": 6, "ketamine|IgG": 6, "ketamine|nAb": 6}
    assert [a["effect"] for a in doc["anova"]] == ["treatment", "antibody", "treatment:antibody", "hour",
                                                   "treatment:hour", "antibody:hour", "treatment:antibody:hour"]
    assert list(fitted.bayes_anova["source"])[:4] == ["treatment", "antibody", "treatment:antibody", "time"]
    text = results_paragraph(fitted)
    assert "% of the ketamine vs saline effect abolished by nAb (vs IgG) over the AUC" in text
    assert "Three-way repeated-measures ANOVA" in text and "ketamine, nAb" in text
    _, labels = timecourse_legend(fitted)
    assert labels[:4] == ["saline, IgG", "saline, nAb", "ketamine, IgG", "ketamine, nAb"]


# ------------------------------------------------------------------ bad input


def test_an_empty_combination_is_a_data_error_naming_it(tmp_path, capsys):
    from bayes_igf1.cli import main

    with pytest.raises(DataError, match="no animals in the combination treatment=ket, antibody=nAb") as err:
        read_timecourse(_sheet(drop=("ket", "nAb")), animal="mouse", group=GROUPS, time="hour", value="igf1")
    assert "Fix:" in str(err.value) and err.value.column == "antibody"
    path = tmp_path / "tc.csv"
    _sheet(drop=("ket", "nAb")).to_csv(path, index=False)
    code = main(["timecourse", str(path), "--animal", "mouse", "--group", "treatment", "--group", "antibody",
                 "--time", "hour", "--value", "igf1", "--out", str(tmp_path / "out"), "--quiet"])
    err_text = capsys.readouterr().err
    assert code == 2 and "tc.csv" in err_text and "treatment=ket, antibody=nAb" in err_text
    assert "Traceback" not in err_text


def test_a_blocker_that_is_not_a_group_factor_stops_before_reading(tmp_path, capsys, monkeypatch):
    import bayes_igf1.io
    from bayes_igf1.cli import main

    def no_read(*args, **kwargs):
        raise AssertionError("read")

    monkeypatch.setattr(bayes_igf1.io, "read_timecourse", no_read)
    with pytest.raises(DesignError, match=r"--blocker 'sex' is not one of the group factors .*Fix:"):
        tc.analyse_timecourse(_sheet(), animal="mouse", group=GROUPS, time="hour", value="igf1", blocker="sex")
    with pytest.raises(DesignError, match="needs two or more group factors"):
        tc.analyse_timecourse(_sheet(), animal="mouse", group="treatment", time="hour", value="igf1",
                              blocker="antibody")
    monkeypatch.undo()
    path = tmp_path / "tc.csv"
    _sheet().to_csv(path, index=False)
    args = ["timecourse", str(path), "--animal", "mouse", "--group", "treatment", "--group", "antibody", "--time",
            "hour", "--value", "igf1", "--out", str(tmp_path / "out"), "--quiet"]
    assert main([*args, "--blocker", "sex"]) == 2
    assert "--blocker 'sex' is not one of the group factors" in capsys.readouterr().err
    assert main([*args, "--reference", "saline"]) == 2  # which factor? FACTOR=LEVEL with several groups
    assert "FACTOR=LEVEL" in capsys.readouterr().err


def test_bayesian_partial_eta_squared_of_every_source_equals_the_anova_at_the_least_squares_fit():
    # As tests/test_timecourse.py does for one group: a posterior draw at the least-squares fit (animal
    # level = its baseline mean, beta = the cell means of the log change from baseline) gives each
    # source's SS / (SS + SS_error) of the mixed ANOVA of the same values, on balanced data (3 animals
    # per combination, random values).
    from bayes_igf1.frequentist.repeated import mixed_anova

    rng = np.random.default_rng(4)
    sheet = _sheet(times=(-1, 0, 1, 2, 3))
    sheet = pd.concat([sheet, _sheet(times=(-1, 0, 1, 2, 3)).assign(mouse=lambda f: f["mouse"] + "x")])
    sheet["igf1"] = np.exp(3 + rng.normal(0, 0.3, len(sheet)))
    frame = read_timecourse(sheet, animal="mouse", group=GROUPS, time="hour", value="igf1").frame
    data = tc.prepare(frame, tc.TimecourseOptions(), factors=tuple(GROUPS))
    work = frame.assign(y=np.log(frame["value"]))
    base = work[work["time"] <= 0].groupby("animal")["y"].mean()
    work = work[work["time"] > 0].assign(d=lambda f: f["y"] - f["animal"].map(base))
    cells = work.groupby(["group", "time"], observed=True)["d"].mean().unstack().loc[list(data.groups), list(data.times)]
    post = xr.Dataset(
        {"beta": (("chain", "draw", "group", "time"), cells.to_numpy()[None, None]),
         "alpha": (("chain", "draw", "animal"), base.reindex(list(data.animals)).to_numpy()[None, None])},
        coords={"chain": [0], "draw": [0], "group": list(data.groups), "time": list(data.times),
                "animal": list(data.animals)},
    )
    eta = tc.bayesian_anova(post, data)["partial_eta_sq"]
    aov = mixed_anova(work, subject="animal", dv="d", between=GROUPS, within=["time"]).table.set_index("effect")
    assert list(eta) == list(aov.index)
    for source, value in eta.items():
        assert value.item() == pytest.approx(aov.loc[source, "partial_eta_sq"], rel=1e-10), source
