"""Golden-value tests of bayes_igf1.frequentist.repeated against R (afex, lme4, emmeans).

The values were computed with tests/fixtures/repeated_golden.R (afex::aov_ez type III with
summary() / anova(); lmerTest::lmer REML with a tight bobyqa, emmeans with
lmer.df = "satterthwaite", contrast "trt.vs.ctrl", summary(by = NULL, adjust = "sidak")).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_igf1.errors import DataError, DesignError
from bayes_igf1.frequentist import repeated
from bayes_igf1.frequentist.blocks import RandomInterceptBlocks
from bayes_igf1.frequentist.repeated import (
    MixedModel,
    RMAnova,
    mixed_model_contrasts,
    rm_anova,
)

FIXTURES = Path(__file__).parent / "fixtures"
REL = 1e-6
UNCORRECTED = ["df_num", "df_den", "F", "p", "partial_eta_sq", "generalized_eta_sq"]


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / name)


UNBALANCED = dict(
    file="repeated_unbalanced.csv", subject="animal", group="treatment", time="hour", dv="igf1"
)
BALANCED = dict(
    file="repeated_balanced.csv", subject="mouse", group="group", time="time", dv="value"
)
INCOMPLETE = dict(
    file="repeated_incomplete.csv", subject="animal", group="treatment", time="hour", dv="igf1"
)
SPHERICAL = dict(file="repeated_spherical.csv", subject="id", group="arm", time="visit", dv="y")


def _anova(g: dict, data: pd.DataFrame | None = None) -> RMAnova:
    data = _read(g["file"]) if data is None else data
    return rm_anova(data, subject=g["subject"], between=g["group"], within=g["time"], dv=g["dv"])

# ----------------------------------------------------------------------------- ANOVA golden

ANOVA_GOLDEN = {
    "unbalanced_8_4_4": dict(
        **UNBALANCED,
        effects=["treatment", "hour", "treatment:hour"],
        n_subjects=16,
        dropped=[],
        df_num=[2, 4, 8],
        df_den=[13, 52, 52],
        F=[0.40237865493697, 4.89251884171122, 1.08678107850656],
        p=[0.67677568259023, 0.00200474235235816, 0.387099152396897],
        SS=[1224.06450375, 1517.51783800001, 674.176115000002],
        SS_error=[19773.462575, 4032.224, 4032.224],
        epsilon_gg=[0.738677121278528, 0.738677121278528],
        p_gg=[0.0058213682387473, 0.387221879496889],
        epsilon_hf=[0.979710711562281, 0.979710711562281],
        p_hf=[0.00217628303770619, 0.387188684940474],
        partial_eta_sq=[0.0582956506811121, 0.273439356693912, 0.143246663803892],
        generalized_eta_sq=[0.0489043818254038, 0.0599259798740548, 0.0275400284526678],
        mauchly_W=[0.391062555024434, 0.391062555024434],
        mauchly_p=[0.300360429083729, 0.300360429083729],
    ),
    "balanced_6_6_6": dict(
        **BALANCED,
        effects=["group", "time", "group:time"],
        n_subjects=18,
        dropped=[],
        df_num=[2, 3, 6],
        df_den=[15, 45, 45],
        F=[0.572709781317931, 1.67422060347844, 1.12719971764582],
        p=[0.575856705477387, 0.185968635394561, 0.362088721479219],
        SS=[661.012408333332, 258.784694444445, 348.463080555555],
        SS_error=[8656.37924166667, 2318.553725, 2318.553725],
        epsilon_gg=[0.548881401234332, 0.548881401234332],
        p_gg=[0.210197460455112, 0.360516691070783],
        epsilon_hf=[0.607745040039533, 0.607745040039533],
        p_hf=[0.207472667370323, 0.361642815189704],
        partial_eta_sq=[0.0709439329335622, 0.100407727790837, 0.130656499737717],
        generalized_eta_sq=[0.0568077957596404, 0.0230364250065057, 0.0307737254002555],
        mauchly_W=[0.22255277666477, 0.22255277666477],
        mauchly_p=[0.000989679361992734, 0.000989679361992734],
    ),
    "incomplete_drops_two": dict(
        **INCOMPLETE,
        effects=["treatment", "hour", "treatment:hour"],
        n_subjects=14,
        dropped=["s03", "k10_2"],
        df_num=[2, 4, 8],
        df_den=[11, 44, 44],
        F=[0.202840618925528, 3.49095266096634, 0.774964739243392],
        p=[0.81939442336822, 0.0146501410324094, 0.62661103201529],
        SS=[613.16165142857, 1224.92487257611, 543.84787],
        SS_error=[16625.8074971429, 3859.74113857143, 3859.74113857143],
        epsilon_gg=[0.715842325859579, 0.715842325859579],
        p_gg=[0.0286410023998733, 0.590327740534644],
        epsilon_hf=[0.994282303329018, 0.994282303329018],
        p_hf=[0.0148467756266794, 0.625971610123492],
        partial_eta_sq=[0.0355683478602537, 0.24090567008543, 0.123501050834085],
        generalized_eta_sq=[0.0290615702611083, 0.0564209192447303, 0.0258613160797182],
        mauchly_W=[0.317009336932673, 0.317009336932673],
        mauchly_p=[0.29555391950148, 0.29555391950148],
    ),
    "spherical_hf_above_1": dict(
        **SPHERICAL,
        effects=["arm", "visit", "arm:visit"],
        n_subjects=10,
        dropped=[],
        df_num=[1, 2, 2],
        df_den=[8, 16, 16],
        F=[1.84645474392702, 0.295706379395976, 0.310654906386467],
        p=[0.211265599994564, 0.747985052345868, 0.737289254569647],
        SS=[25.7984133333333, 10.4826866666667, 11.0126066666667],
        SS_error=[111.774906666666, 283.597173333333, 283.597173333333],
        epsilon_gg=[0.842268809791228, 0.842268809791228],
        p_gg=[0.712172421365512, 0.701756016754771],
        epsilon_hf=[1.04195368315787, 1.04195368315787],
        p_hf=[0.747985052345868, 0.737289254569647],
        partial_eta_sq=[0.187524829184418, 0.0356457142854551, 0.0373803159781955],
        generalized_eta_sq=[0.0612540853210133, 0.0258286646545073, 0.0270989705763683],
        mauchly_W=[0.812730581525549, 0.812730581525549],
        mauchly_p=[0.483964054117767, 0.483964054117767],
    ),
}


@pytest.mark.parametrize("case", list(ANOVA_GOLDEN))
def test_rm_anova_matches_afex(case):
    g = ANOVA_GOLDEN[case]
    res = _anova(g)
    assert isinstance(res, RMAnova)
    t = res.table
    assert list(t.columns[:11]) == [
        "effect", "df_num", "df_den", "F", "p", "epsilon_gg", "p_gg",
        "epsilon_hf", "p_hf", "partial_eta_sq", "generalized_eta_sq",
    ]
    assert t["effect"].tolist() == g["effects"]
    for col in [*UNCORRECTED, "SS", "SS_error"]:
        assert t[col].tolist() == pytest.approx(g[col], rel=REL), col
    within = t.iloc[1:]
    for col in ["epsilon_gg", "p_gg", "epsilon_hf", "p_hf"]:
        assert within[col].tolist() == pytest.approx(g[col], rel=REL), col
    between = t.iloc[0]
    assert np.isnan(between["epsilon_gg"]) and np.isnan(between["epsilon_hf"])
    assert between["p_gg"] == between["p"] and between["p_hf"] == between["p"]
    assert res.mauchly["effect"].tolist() == g["effects"][1:]
    assert res.mauchly["W"].tolist() == pytest.approx(g["mauchly_W"], rel=REL)
    assert res.mauchly["p"].tolist() == pytest.approx(g["mauchly_p"], rel=REL)
    assert res.n_subjects == g["n_subjects"]
    assert res.subjects_dropped == g["dropped"]


def test_rm_anova_hf_above_one_is_capped_for_p():
    g = ANOVA_GOLDEN["spherical_hf_above_1"]
    res = _anova(g)
    within = res.table.iloc[1:]
    assert (within["epsilon_hf"] > 1).all()
    assert within["p_hf"].tolist() == pytest.approx(within["p"].tolist(), rel=1e-12)


def test_rm_anova_drop_reason_names_missing_levels():
    res = _anova(INCOMPLETE)
    assert "s03 (no hour 3)" in res.drop_reason
    assert "k10_2 (no hour 1)" in res.drop_reason
    full = _anova(UNBALANCED)
    assert full.subjects_dropped == [] and full.drop_reason == ""


TWO_LEVEL_GOLDEN = {  # repeated_balanced.csv, times 1 and 2
    "df_num": [2, 1, 2],
    "df_den": [15, 15, 15],
    "F": [0.523436240153869, 17.6606544805263, 1.63530510473329],
    "p": [0.602915476727487, 0.000769075583170638, 0.227790994332236],
    "SS": [286.509155555555, 199.139136111111, 36.8789555555555],
    "SS_error": [4105.21569166667, 169.137958333333, 169.137958333333],
    "partial_eta_sq": [0.0652384121324843, 0.540731799819148, 0.179009358306597],
    "generalized_eta_sq": [0.0628190690600384, 0.0445153587213507, 0.00855415583655413],
}


def test_rm_anova_two_level_within():
    # R (afex/car): no sphericity correction for one within df (NA epsilons, no Mauchly);
    # here epsilons are exactly 1 and the corrected p values equal the uncorrected ones.
    d = _read("repeated_balanced.csv")
    d = d[d["time"].isin([1, 2])]
    res = rm_anova(d, subject="mouse", between="group", within="time", dv="value")
    t = res.table
    assert t["effect"].tolist() == ["group", "time", "group:time"]
    for col in [*UNCORRECTED, "SS", "SS_error"]:
        assert t[col].tolist() == pytest.approx(TWO_LEVEL_GOLDEN[col], rel=REL), col
    assert t.iloc[1:]["epsilon_gg"].tolist() == [1.0, 1.0]
    assert t.iloc[1:]["epsilon_hf"].tolist() == [1.0, 1.0]
    assert t["p_gg"].tolist() == t["p"].tolist()
    assert res.mauchly.empty


def test_rm_anova_invariant_to_row_and_level_order():
    d = _read("repeated_unbalanced.csv")
    ref = _anova(UNBALANCED, d).table
    shuffled = d.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled["treatment"] = pd.Categorical(
        shuffled["treatment"], categories=["ketamine30", "saline", "ketamine10"]
    )
    other = _anova(UNBALANCED, shuffled).table
    num = ref.columns.drop("effect")
    np.testing.assert_allclose(other[num].to_numpy(float), ref[num].to_numpy(float), rtol=1e-10)


def test_rm_anova_type3_differs_from_type2_when_unbalanced():
    # Guards the reason for not using pingouin: with 8/4/4 subjects the within main effect
    # is tested on unweighted group means (type III), not pooled over subjects.
    d = _read("repeated_unbalanced.csv")
    res = _anova(UNBALANCED, d)
    wide = d.pivot(index="animal", columns="hour", values="igf1")
    pooled = ((wide.mean() - wide.to_numpy().mean()) ** 2).sum() * len(wide)
    assert res.table.loc[1, "SS"] != pytest.approx(pooled, rel=1e-3)


# ----------------------------------------------------------------------------- mixed model golden

MIXED_GOLDEN = {
    "unbalanced_8_4_4": dict(
        **UNBALANCED,
        reference="saline",
        n_obs=80,
        names=[
            "(Intercept)", "treatmentketamine10", "treatmentketamine30",
            "hour1", "hour2", "hour3", "hour4",
            "treatmentketamine10:hour1", "treatmentketamine30:hour1",
            "treatmentketamine10:hour2", "treatmentketamine30:hour2",
            "treatmentketamine10:hour3", "treatmentketamine30:hour3",
            "treatmentketamine10:hour4", "treatmentketamine30:hour4",
        ],
        groups=["ketamine10", "ketamine30"] * 5,
        times=[0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
        sd_animal=16.9911318821827,
        sd_residual=8.80583722505724,
        fixef=[102.80125, -1.74375000000035, 0.963749999999478, -3.68500000000015, 0.754999999999873, -0.653750000000145, -5.64250000000013, 6.78000000000019, 13.4750000000003, 4.00250000000016, 16.7200000000002, 4.96875000000018, 6.98125000000027, -5.38499999999983, 3.69500000000025],
        fixef_se=[6.76610423242145, 11.7192362998608, 11.7192362998608, 4.40291861252862, 4.40291861252862, 4.40291861252862, 4.40291861252862, 7.62607873849024, 7.62607873849024, 7.62607873849024, 7.62607873849024, 7.62607873849024, 7.62607873849024, 7.62607873849024, 7.62607873849024],
        estimate=[-1.74375000000035, 0.963749999999478, 5.03624999999984, 14.4387499999998, 2.25874999999981, 17.6837499999997, 3.22499999999984, 7.94499999999975, -7.12875000000018, 4.65874999999973],
        se=[11.7192362998608, 11.7192362998608, 11.7192362998607, 11.7192362998607, 11.7192362998607, 11.7192362998607, 11.7192362998607, 11.7192362998607, 11.7192362998607, 11.7192362998607],
        df=[18.6486642387298, 18.6486642386889, 18.6486642306511, 18.6486642308655, 18.6486642308286, 18.648664230911, 18.648664230763, 18.6486642309884, 18.6486642306845, 18.6486642307652],
        p=[0.883313539900727, 0.935334833063684, 0.672307746506965, 0.233237670174435, 0.8492471130312, 0.148067771986527, 0.786197200026837, 0.506131789429671, 0.550329719525007, 0.695490025771779],
        p_adjusted=[0.999999999532044, 0.999999999998721, 0.999985722185026, 0.929756250852774, 0.999999993937435, 0.798604169001333, 0.999999800412249, 0.999136801408796, 0.999661980424462, 0.999993144877417],
        ci_low=[-26.3037080958325, -23.5962080958363, -19.5237080965667, -10.1212080965473, -22.3012080965506, -6.87620809654323, -21.3349580965566, -16.6149580965362, -31.6887080965637, -19.9012080965565],
        ci_high=[22.8162080958318, 25.5237080958353, 29.5962080965664, 38.9987080965468, 26.8187080965503, 42.2437080965427, 27.7849580965562, 32.5049580965357, 17.4312080965634, 29.2187080965559],
        ci_low_adjusted=[-38.9067626759147, -36.1992626759255, -32.1267626780201, -22.7242626779643, -34.9042626779739, -19.4792626779524, -33.9380126779909, -29.2180126779323, -44.2917626780114, -32.5042626779904],
        ci_high_adjusted=[35.419262675914, 38.1267626759245, 42.1992626780198, 51.6017626779638, 39.4217626779735, 54.8467626779519, 40.3880126779906, 45.1080126779318, 30.034262678011, 41.8217626779899],
    ),
    "balanced_6_6_6": dict(
        **BALANCED,
        reference="saline",
        n_obs=72,
        names=[
            "(Intercept)", "groupketamine10", "groupketamine30", "time2", "time3", "time4",
            "groupketamine10:time2", "groupketamine30:time2",
            "groupketamine10:time3", "groupketamine30:time3",
            "groupketamine10:time4", "groupketamine30:time4",
        ],
        groups=["ketamine10", "ketamine30"] * 4,
        times=[1, 1, 2, 2, 3, 3, 4, 4],
        sd_animal=11.4626407610836,
        sd_residual=7.17798134049426,
        fixef=[109.208333333334, -6.21166666666798, -1.78500000000129, 2.76833333333292, -1.74500000000044, 6.31833333333285, 1.07666666666715, 4.73000000000051, 3.03666666666719, 2.86666666666721, -7.90333333333278, -7.99499999999944],
        fixef_se=[5.52140606099173, 7.80844733482352, 7.80844733482352, 4.14420945917247, 4.14420945917247, 4.14420945917247, 5.86079722247658, 5.86079722247658, 5.86079722247658, 5.86079722247658, 5.86079722247658, 5.86079722247658],
        estimate=[-6.21166666666798, -1.78500000000129, -5.13500000000083, 2.94499999999922, -3.17500000000079, 1.08166666666592, -14.1150000000008, -9.78000000000073],
        se=[7.80844733482352, 7.80844733482352, 7.80844733482352, 7.80844733482352, 7.80844733482352, 7.80844733482352, 7.80844733482352, 7.80844733482352],
        df=[23.5482834562191, 23.5482834561048, 23.5482834559301, 23.5482834562972, 23.5482834565152, 23.5482834565913, 23.5482834560882, 23.54828345614],
        p=[0.434265173863681, 0.821154486034514, 0.517158902957398, 0.70943555938814, 0.6879656938735, 0.891003171776177, 0.0834519876676622, 0.222687994410509],
        p_adjusted=[0.98950691200705, 0.999998953294735, 0.997045841288667, 0.999949191109352, 0.999910129169344, 0.999999980079012, 0.501985761837664, 0.866720607807743],
        ci_low=[-22.3438851856296, -17.9172185189672, -21.2672185189732, -13.1872185189596, -19.3072185189515, -15.050551852282, -30.2472185189673, -25.9122185189653],
        ci_high=[9.92055185229368, 14.3472185189646, 10.9972185189715, 19.077218518958, 12.9572185189499, 17.2138851856138, 2.01721851896574, 6.35221851896386],
        ci_low_adjusted=[-29.5826333067307, -25.155966640075, -28.5059666400913, -20.425966640056, -26.5459666400351, -22.2892999733611, -37.4859666400761, -33.1509666400711],
        ci_high_adjusted=[17.1592999733947, 21.5859666400724, 18.2359666400896, 26.3159666400545, 20.1959666400335, 24.452633306693, 9.25596664007454, 13.5909666400696],
    ),
    "incomplete_kept": dict(
        **INCOMPLETE,
        reference="saline",
        n_obs=78,
        names=[
            "(Intercept)", "treatmentketamine10", "treatmentketamine30",
            "hour1", "hour2", "hour3", "hour4",
            "treatmentketamine10:hour1", "treatmentketamine30:hour1",
            "treatmentketamine10:hour2", "treatmentketamine30:hour2",
            "treatmentketamine10:hour3", "treatmentketamine30:hour3",
            "treatmentketamine10:hour4", "treatmentketamine30:hour4",
        ],
        groups=["ketamine10", "ketamine30"] * 5,
        times=[0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
        sd_animal=16.9721579796358,
        sd_residual=8.91251515551883,
        fixef=[102.80125, -1.7437499999994, 0.963750000000265, -3.68499999999958, 0.755000000000406, -0.277641575108429, -5.6424999999996, 4.4005661446133, 13.4749999999996, 4.00249999999951, 16.7199999999996, 4.59264157510835, 6.60514157510841, -5.38500000000048, 3.69499999999958],
        fixef_se=[6.77760164884182, 11.7391504092567, 11.7391504092566, 4.45625757775941, 4.45625757775941, 4.6484855601039, 4.45625757775941, 8.23056689093025, 7.71846453629312, 7.71846453629312, 7.71846453629312, 7.83102044443576, 7.83102044443576, 7.71846453629312, 7.71846453629312],
        estimate=[-1.7437499999994, 0.963750000000265, 2.6568161446139, 14.4387499999998, 2.25875000000011, 17.6837499999998, 2.84889157510895, 7.56889157510868, -7.12874999999988, 4.65874999999984],
        se=[11.7391504092567, 11.7391504092566, 12.0820192384888, 11.7391504092567, 11.7391504092567, 11.7391504092567, 11.813460066141, 11.813460066141, 11.7391504092567, 11.7391504092567],
        df=[18.7193261534131, 18.7193261549895, 20.7834724824643, 18.7193261503026, 18.7193261495416, 18.7193261504023, 19.1584028611102, 19.1584028623249, 18.7193261497305, 18.7193261505241],
        p=[0.883503983109668, 0.935440993587423, 0.828095817623603, 0.233944519414883, 0.849491750985244, 0.148656285945536, 0.811996009280802, 0.529307003666535, 0.550972343117387, 0.695961897316994],
        p_adjusted=[0.999999999539626, 0.999999999998742, 0.999999977464644, 0.930401121760557, 0.999999994035102, 0.79999109260692, 0.999999944834103, 0.999466201483129, 0.999666780113195, 0.999993250367349],
        ci_low=[-26.3390325022144, -23.6315325020723, -22.4850669169983, -10.1565325024962, -22.3365325025646, -6.91153250248716, -21.863135058375, -17.1431350582701, -31.7240325025476, -19.9365325024761],
        ci_high=[22.8515325022156, 25.5590325020728, 27.7986992062261, 39.0340325024958, 26.8540325025649, 42.2790325024868, 27.5609182085929, 32.2809182084875, 17.4665325025478, 29.2540325024758],
        ci_low_adjusted=[-38.9515416822514, -36.2440416818437, -35.1478440309314, -22.7690416830575, -34.9490416832542, -19.5240416830317, -34.4829456425212, -29.7629456422209, -44.3365416832053, -32.5490416830001],
        ci_high_adjusted=[35.4640416822526, 38.1715416818442, 40.4614763201592, 51.6465416830572, 39.4665416832545, 54.8915416830313, 40.1807287927391, 44.9007287924382, 30.0790416832056, 41.8665416829998],
    ),
    "boundary_sd_animal_0": dict(
        **SPHERICAL,
        reference="control",
        n_obs=30,
        names=[
            "(Intercept)", "armtreated", "visit1", "visit2",
            "armtreated:visit1", "armtreated:visit2",
        ],
        groups=["treated"] * 3,
        times=[0.5, 1.0, 2.0],
        sd_animal=0,
        sd_residual=4.05879744095054,
        fixef=[50.424, 0.142000000000031, 0.0140000000000449, -0.075999999999976, 2.51799999999996, 2.61999999999998],
        fixef_se=[1.81514939697352, 2.5670088949333, 2.5670088949333, 2.5670088949333, 3.63029879394704, 3.63029879394704],
        estimate=[0.142000000000031, 2.65999999999999, 2.76200000000001],
        se=[2.5670088949333, 2.5670088949333, 2.5670088949333],
        df=[24.0000000000452, 24.0000000000452, 24.0000000000452],
        p=[0.956343614436973, 0.310425505602014, 0.292642718386844],
        p_adjusted=[0.999916796167864, 0.672098374944511, 0.64607072563726],
        ci_low=[-5.15604596593862, -2.63804596593866, -2.53604596593864],
        ci_high=[5.44004596593868, 7.95804596593864, 8.06004596593866],
        ci_low_adjusted=[-6.44516701252845, -3.92716701252849, -3.82516701252846],
        ci_high_adjusted=[6.72916701252851, 9.24716701252847, 9.34916701252849],
    ),
}


@pytest.fixture(scope="module")
def mixed_fits():
    return {
        case: mixed_model_contrasts(
            _read(g["file"]), subject=g["subject"], group=g["group"], time=g["time"], dv=g["dv"],
            reference=g["reference"],
        )
        for case, g in MIXED_GOLDEN.items()
    }


@pytest.mark.parametrize("case", list(MIXED_GOLDEN))
def test_mixed_model_matches_lmer_emmeans(case, mixed_fits):
    g = MIXED_GOLDEN[case]
    res = mixed_fits[case]
    assert isinstance(res, MixedModel)
    assert res.method == "REML" and res.df_method == "Satterthwaite"
    assert res.n_obs == g["n_obs"]
    assert res.sd_animal == pytest.approx(g["sd_animal"], rel=REL)
    assert res.sd_residual == pytest.approx(g["sd_residual"], rel=REL)
    fe = res.fixed_effects
    assert list(fe.columns) == ["term", "estimate", "se"]
    assert fe["term"].tolist() == g["names"]
    assert fe["estimate"].tolist() == pytest.approx(g["fixef"], rel=REL)
    assert fe["se"].tolist() == pytest.approx(g["fixef_se"], rel=REL)
    c = res.contrasts
    assert list(c.columns) == [
        "group", "reference", "time", "estimate", "se", "df",
        "ci_low", "ci_high", "ci_low_adjusted", "ci_high_adjusted", "p", "p_adjusted", "method",
    ]
    assert c["group"].tolist() == g["groups"]
    assert (c["reference"] == g["reference"]).all()
    assert c["time"].tolist() == g["times"]
    # ci_*_adjusted: emmeans confint(con, by = NULL, adjust = "sidak")
    for col in ["estimate", "se", "df", "p", "p_adjusted", "ci_low", "ci_high", "ci_low_adjusted",
                "ci_high_adjusted"]:
        assert c[col].tolist() == pytest.approx(g[col], rel=REL), col


def test_mixed_model_keeps_incomplete_animals(mixed_fits):
    res = mixed_fits["incomplete_kept"]
    assert res.n_subjects == 16 and res.n_obs == 78
    anova = _anova(INCOMPLETE)
    assert anova.n_subjects == 14


def test_mixed_model_times_subset_adjusts_over_reported_family(mixed_fits):
    g = MIXED_GOLDEN["unbalanced_8_4_4"]
    res = mixed_model_contrasts(
        _read(g["file"]), subject="animal", group="treatment", time="hour", dv="igf1",
        reference="saline", times=[1, 3],
    )
    c = res.contrasts
    assert c["time"].tolist() == [1, 1, 3, 3]
    p_r = [g["p"][i] for i in (2, 3, 6, 7)]
    assert c["p"].tolist() == pytest.approx(p_r, rel=REL)
    assert c["p_adjusted"].tolist() == pytest.approx([1 - (1 - p) ** 4 for p in p_r], rel=REL)
    assert c["method"].str.contains("over 4 contrasts").all()


def test_block_algebra_equals_the_dense_matrices():
    """The per-subject closed forms equal V⁻¹, log|V| and the traces computed densely."""
    rng = np.random.default_rng(0)
    subj = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    theta = np.array([2.5, 0.7])
    z = np.eye(4)[subj]
    v = theta[0] * z @ z.T + theta[1] * np.eye(10)
    w = np.linalg.inv(v)
    blocks = RandomInterceptBlocks(subj)
    u = rng.normal(size=(10, 3))
    np.testing.assert_allclose(blocks.vinv(theta, u), w @ u, rtol=1e-12)
    assert blocks.logdet(theta) == pytest.approx(np.linalg.slogdet(v)[1], rel=1e-12)
    derivs = [z @ z.T, np.eye(10)]
    for i in range(2):
        assert repeated._trace_w_vi(theta, blocks, i) == pytest.approx(np.trace(w @ derivs[i]), rel=1e-12)
        for j in range(2):
            dense = np.trace(w @ derivs[i] @ w @ derivs[j])
            assert blocks.trace_wawb(theta, i, j) == pytest.approx(dense, rel=1e-12)


def test_reml_hessian_matches_finite_differences():
    d = _read("repeated_incomplete.csv").dropna()
    groups = ["saline", "ketamine10", "ketamine30"]
    x, _ = repeated._design(d, "treatment", "hour", groups, [0, 1, 2, 3, 4])
    y = d["igf1"].to_numpy(float)
    blocks = RandomInterceptBlocks(pd.Categorical(d["animal"]).codes)
    theta = np.array([1.3 * 16.9721579796358**2, 0.8 * 8.91251515551883**2])  # off the optimum
    score, hess = repeated._reml_score_hessian(theta, y, x, blocks)

    def central(f, i, h):
        e = np.zeros(2)
        e[i] = h
        return (f(theta + e) - f(theta - e)) / (2 * h)

    def richardson(f, i):
        h = 1e-2 * theta[i]
        return (4 * central(f, i, h / 2) - central(f, i, h)) / 3

    loglik = lambda t: repeated._reml_loglik(t, y, x, blocks)  # noqa: E731
    grad = lambda t: repeated._reml_score_hessian(t, y, x, blocks)[0]  # noqa: E731
    fd_score = np.array([richardson(loglik, i) for i in range(2)])
    fd_hess = np.column_stack([richardson(grad, i) for i in range(2)])
    assert score == pytest.approx(fd_score, rel=REL)
    assert hess.ravel() == pytest.approx(fd_hess.ravel(), rel=REL)
    # At the fitted optimum the score vanishes and the Hessian is negative definite.
    opt = np.array([16.9721579796358**2, 8.91251515551883**2])
    s_opt, h_opt = repeated._reml_score_hessian(opt, y, x, blocks)
    assert np.all(np.abs(s_opt * opt) < 1e-6 * np.abs(np.diag(h_opt) * opt**2))
    assert np.all(np.linalg.eigvalsh(h_opt) < 0)


# ----------------------------------------------------------------------------- errors


def _bal() -> pd.DataFrame:
    return _read("repeated_balanced.csv")


MM = dict(subject="mouse", group="group", time="time", dv="value")
AN = dict(subject="mouse", between="group", within="time", dv="value")


def test_mixed_unknown_reference_lists_levels():
    with pytest.raises(DesignError, match=r"'control' is not a level.*ketamine10.*saline.*Fix"):
        mixed_model_contrasts(_bal(), reference="control", **MM)


def test_mixed_group_with_one_subject():
    d = _bal()
    d = d[(d["group"] != "ketamine30") | (d["mouse"] == "k30_1")]
    with pytest.raises(DesignError, match=r"fewer than 2 subjects.*ketamine30.*Fix"):
        mixed_model_contrasts(d, reference="saline", **MM)


def test_mixed_unknown_times():
    with pytest.raises(DesignError, match=r"times \[7\].*Fix"):
        mixed_model_contrasts(_bal(), reference="saline", times=[1, 7], **MM)


def test_mixed_empty_cell():
    d = _bal()
    d = d[~((d["group"] == "ketamine10") & (d["time"] == 4))]
    with pytest.raises(DesignError, match=r"no data for group x time.*ketamine10.*Fix"):
        mixed_model_contrasts(d, reference="saline", **MM)


def test_missing_column():
    with pytest.raises(DataError, match=r"column 'weight'.*Fix"):
        mixed_model_contrasts(_bal(), **{**MM, "dv": "weight"}, reference="saline")
    with pytest.raises(DataError, match=r"column 'weight'.*Fix"):
        rm_anova(_bal(), **{**AN, "dv": "weight"})


def test_non_numeric_outcome():
    d = _bal()
    d["value"] = d["value"].astype(object)
    d.loc[3, "value"] = "n.d."
    with pytest.raises(DataError, match=r"non-numeric.*'n.d.'.*Fix"):
        rm_anova(d, **AN)


def test_subject_in_two_groups():
    d = _bal()
    d.loc[0, "group"] = "ketamine10"
    with pytest.raises(DataError, match=r"subject 's01' appears in more than one.*Fix"):
        rm_anova(d, **AN)
    with pytest.raises(DataError, match=r"subject 's01' appears in more than one.*Fix"):
        mixed_model_contrasts(d, reference="saline", **MM)


def test_duplicate_subject_time_rows():
    d = _bal()
    d = pd.concat([d, d.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match=r"one row per subject.*Fix"):
        rm_anova(d, **AN)


def test_anova_one_within_level():
    d = _bal()
    with pytest.raises(DesignError, match=r"at least 2.*Fix"):
        rm_anova(d[d["time"] == 1], **AN)


def test_anova_one_group_left_after_dropping():
    d = _bal()
    d = d[(d["group"] == "saline") | (d["time"] != 2)]
    with pytest.raises(DesignError, match=r"1 level\(s\) with complete subjects.*Fix"):
        rm_anova(d, **AN)
