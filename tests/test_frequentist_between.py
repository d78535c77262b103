"""Golden-value tests of bayes_igf1.frequentist.between against R.

Every pinned value below was printed by ``tests/fixtures/between_golden.R`` (R 4.2.2, afex
1.2.1, car 3.1.1, emmeans 1.8.4.1, lme4 1.1.31, survival 3.5.3), which also wrote the four
fixture CSVs; R is never called here. Tolerance: rel = 1e-6 everywhere.

Two documented numerical limits (see the module docstrings):
* Tukey p below 1e-6: R's ``ptukey`` and scipy's ``studentized_range`` both compute the
  upper tail as 1 - (lower tail), good to ~1e-12 absolute only, so their relative agreement
  is tested for p >= 1e-6; below that the test checks that both put p below 1e-6.
* Sidak: emmeans computes 1 - (1 - p)^m, which cancels for tiny p; the module uses
  -expm1(m log1p(-p)). It is tested against emmeans where p >= 1e-9 and against the same
  formula evaluated in R (``p_adjusted_exact``) on every row.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_igf1.errors import DesignError
from bayes_igf1.frequentist.between import (
    ANOVA_COLUMNS,
    SIMPLE_COLUMNS,
    FactorialAnova,
    assumption_checks,
    cell_posthoc,
    censored_tests,
    factorial_anova,
    factorial_mixed_model,
    interaction_contrasts,
    simple_effects,
)

FIXTURES = Path(__file__).parent / "fixtures"
REL = 1e-6
NAN = float("nan")

# ------------------------------------------------------------------ golden values (from R)
# R: afex::aov_ez(type = 3) + car::Anova(lm, contr.sum, type = 3)
TG_TYPE3 = {
    "effect": ["supp", "dose", "supp:dose"],
    "df_num": [1, 2, 2],
    "df_den": [54, 54, 54],
    "F": [15.5719794524973, 91.999964892867, 4.10699109402252],
    "p": [0.000231182809773424, 4.04629119599228e-18, 0.021860268964791],
    "partial_eta_sq": [0.223825447759893, 0.773109176760619, 0.132027912362495],
    "generalized_eta_sq": [0.223825447759893, 0.773109176760619, 0.132027912362495],
    "SS": [205.35, 2426.43433333333, 108.319],
    "SS_error": 712.106000000001,
}
# R: afex::aov_ez(type = 2) + car::Anova(lm, contr.sum, type = 2)
TG_TYPE2 = {
    "effect": ["supp", "dose", "supp:dose"],
    "df_num": [1, 2, 2],
    "df_den": [54, 54, 54],
    "F": [15.5719794524972, 91.999964892867, 4.10699109402252],
    "p": [0.000231182809773425, 4.04629119599228e-18, 0.021860268964791],
    "partial_eta_sq": [0.223825447759893, 0.773109176760619, 0.132027912362495],
    "generalized_eta_sq": [0.223825447759893, 0.773109176760619, 0.132027912362495],
    "SS": [205.35, 2426.43433333333, 108.319],
    "SS_error": 712.106000000001,
}
# R: afex::aov_ez(type = 3) + car::Anova(lm, contr.sum, type = 3)
MT_TYPE3 = {
    "effect": ["am", "vs", "am:vs"],
    "df_num": [1, 1, 1],
    "df_den": [28, 28, 28],
    "F": [23.5400223366571, 31.7337007664027, 1.32829030034548],
    "p": [4.15892518344428e-05, 4.93146230538419e-06, 0.258854655585602],
    "partial_eta_sq": [0.456732870290484, 0.531252883368167, 0.0452904102742681],
    "generalized_eta_sq": [0.456732870290484, 0.531252883368167, 0.0452904102742681],
    "SS": [283.721523809524, 382.477714285714, 16.0095238095238],
    "SS_error": 337.476428571429,
}
# R: afex::aov_ez(type = 2) + car::Anova(lm, contr.sum, type = 2)
MT_TYPE2 = {
    "effect": ["am", "vs", "am:vs"],
    "df_num": [1, 1, 1],
    "df_den": [28, 28, 28],
    "F": [22.9021427246066, 30.4836048971162, 1.32829030034548],
    "p": [4.98371994771132e-05, 6.6871607799515e-06, 0.258854655585602],
    "partial_eta_sq": [0.449924924546162, 0.521233343100902, 0.0452904102742681],
    "generalized_eta_sq": [0.449924924546162, 0.521233343100902, 0.0452904102742681],
    "SS": [276.033333333334, 367.410646809331, 16.0095238095238],
    "SS_error": 337.476428571429,
}
# R: afex::aov_ez(type = 3) + car::Anova(lm, contr.sum, type = 3)
FST_TYPE3 = {
    "effect": ["treatment", "antibody", "treatment:antibody"],
    "df_num": [1, 1, 1],
    "df_den": [21, 21, 21],
    "F": [7.48552598473536, 2.62563877170285, 9.45825670277246],
    "p": [0.0123799278589669, 0.120070479538733, 0.00573856549242515],
    "partial_eta_sq": [0.262783491824819, 0.111135144199685, 0.310531781088821],
    "generalized_eta_sq": [0.262783491824819, 0.111135144199685, 0.310531781088821],
    "SS": [432.969993521416, 151.869461717452, 547.074627978605],
    "SS_error": 1214.66011640212,
}
# R: pairs(emmeans(fit, ~ A * B), adjust = 'tukey'); confint(...)
TG_TUKEY = {
    "contrast": [
        "VC dose0.5 - OJ dose0.5", "VC dose0.5 - VC dose1", "VC dose0.5 - OJ dose1",
        "VC dose0.5 - VC dose2", "VC dose0.5 - OJ dose2", "OJ dose0.5 - VC dose1",
        "OJ dose0.5 - OJ dose1", "OJ dose0.5 - VC dose2", "OJ dose0.5 - OJ dose2",
        "VC dose1 - OJ dose1", "VC dose1 - VC dose2", "VC dose1 - OJ dose2", "OJ dose1 - VC dose2",
        "OJ dose1 - OJ dose2", "VC dose2 - OJ dose2",
    ],
    "estimate": [
        -5.25000000000001, -8.79000000000002, -14.72, -18.16, -18.08, -3.54000000000001,
        -9.47000000000001, -12.91, -12.83, -5.93, -9.37, -9.29, -3.44, -3.36, 0.0800000000000001,
    ],
    "se": [
        1.62401651150154, 1.62401651150154, 1.62401651150154, 1.62401651150154, 1.62401651150154,
        1.62401651150154, 1.62401651150154, 1.62401651150154, 1.62401651150154, 1.62401651150154,
        1.62401651150154, 1.62401651150154, 1.62401651150154, 1.62401651150154, 1.62401651150154,
    ],
    "df": [54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54, 54],
    "t": [
        -3.23272575298261, -5.41250654642231, -9.06394725407695, -11.1821523188884,
        -11.1328917359858, -2.17978079343971, -5.83122150109434, -7.94942656590581,
        -7.90016598300321, -3.65144070765464, -5.7696457724661, -5.7203851895635,
        -2.11820506481146, -2.06894448190887, 0.0492605829025921,
    ],
    "p_adjusted": [
        0.0242520852815489, 2.10094842966191e-05, 2.9859781314201e-11, 4.82169859594705e-13,
        4.85500528668581e-13, 0.264020760319158, 4.61230355275344e-06, 1.7699389731618e-09,
        2.12515283148917e-09, 0.00739303177603423, 5.77401298529345e-06, 6.90816347925782e-06,
        0.293642952475742, 0.318736090599997, 0.999999956599117,
    ],
    "ci_low": [
        -10.04812376671, -13.5881237667101, -19.51812376671, -22.95812376671, -22.87812376671,
        -8.33812376671004, -14.26812376671, -17.70812376671, -17.62812376671, -10.72812376671,
        -14.16812376671, -14.08812376671, -8.23812376671003, -8.15812376671003, -4.71812376671003,
    ],
    "ci_high": [
        -0.451876233289972, -3.99187623328998, -9.92187623328998, -13.36187623329, -13.28187623329,
        1.25812376671002, -4.67187623328998, -8.11187623328997, -8.03187623328997,
        -1.13187623328996, -4.57187623328996, -4.49187623328996, 1.35812376671003,
        1.43812376671003, 4.87812376671003,
    ],
}
# R: pairs(emmeans(fit, ~ A * B), adjust = 'tukey'); confint(...)
MT_TUKEY = {
    "contrast": [
        "am0 vs0 - am1 vs0", "am0 vs0 - am0 vs1", "am0 vs0 - am1 vs1", "am1 vs0 - am0 vs1",
        "am1 vs0 - am1 vs1", "am0 vs1 - am1 vs1",
    ],
    "estimate": [
        -4.7, -5.69285714285714, -13.3214285714286, -0.992857142857146, -8.62142857142858,
        -7.62857142857143,
    ],
    "se": [
        1.73585206684187, 1.65112466088197, 1.65112466088197, 1.9314778741745, 1.9314778741745,
        1.85570391664162,
    ],
    "df": [28, 28, 28, 28, 28, 28],
    "t": [
        -2.70760400023659, -3.44786634088321, -8.06809375877941, -0.514040132756625,
        -4.46364345494421, -4.11087747358819,
    ],
    "p_adjusted": [
        0.0525536170388895, 0.00921733679336068, 5.10806229536698e-08, 0.955045605037562,
        0.000657849167154834, 0.00167889182442171,
    ],
    "ci_low": [
        -9.4394169939529, -10.2009419194337, -17.8295133480051, -6.2663935433185,
        -13.8949649718899, -12.6952213155502,
    ],
    "ci_high": [
        0.039416993952905, -1.18477236628061, -8.81334379485205, 4.28067925760421,
        -3.34789217096722, -2.56192154159262,
    ],
}
# R: rbind(contrast(emmeans(fit, ~A|B), 'trt.vs.ctrl'), contrast(emmeans(fit, ~B|A), ...),
#           adjust = 'sidak')
TG_SIMPLE = {
    "contrast": [
        "OJ - VC", "OJ - VC", "OJ - VC", "dose1 - dose0.5", "dose2 - dose0.5", "dose1 - dose0.5",
        "dose2 - dose0.5",
    ],
    "by_A": [".", ".", ".", "VC", "VC", "OJ", "OJ"],
    "by_B": ["0.5", "1", "2", ".", ".", ".", "."],
    "estimate": [
        5.25000000000001, 5.93, -0.0800000000000001, 8.79000000000002, 18.16, 9.47000000000001,
        12.83,
    ],
    "se": [
        1.62401651150154, 1.62401651150154, 1.62401651150154, 1.62401651150154, 1.62401651150154,
        1.62401651150154, 1.62401651150154,
    ],
    "df": [54, 54, 54, 54, 54, 54, 54],
    "t": [
        3.23272575298261, 3.65144070765464, -0.0492605829025921, 5.41250654642231,
        11.1821523188884, 5.83122150109434, 7.90016598300321,
    ],
    "p": [
        0.00209246982879016, 0.000589700666928295, 0.960893384081381, 1.46293144787882e-06,
        1.13067681037436e-15, 3.17564054631375e-07, 1.42971201237989e-10,
    ],
    "p_adjusted": [
        0.0145556617623704, 0.00412060915718893, 0.999999999860121, 1.0240475191714e-05,
        7.7715611723761e-15, 2.22294626450736e-06, 1.00079833309508e-09,
    ],
    "p_adjusted_exact": [
        0.0145556617623703, 0.00412060915718877, 0.999999999860121, 1.02404751917245e-05,
        7.9147376726205e-15, 2.22294626463524e-06, 1.00079840823667e-09,
    ],
    "ci_low": [
        1.99404293241515, 2.67404293241514, -3.33595706758486, 5.53404293241516, 14.9040429324152,
        6.21404293241515, 9.57404293241515,
    ],
    "ci_high": [
        8.50595706758486, 9.18595706758486, 3.17595706758486, 12.0459570675849, 21.4159570675849,
        12.7259570675849, 16.0859570675849,
    ],
}
# R: rbind(contrast(emmeans(fit, ~A|B), 'trt.vs.ctrl'), contrast(emmeans(fit, ~B|A), ...),
#           adjust = 'sidak')
MT_SIMPLE = {
    "contrast": ["am1 - am0", "am1 - am0", "vs1 - vs0", "vs1 - vs0"],
    "by_A": [".", ".", "0", "1"],
    "by_B": ["0", "1", ".", "."],
    "estimate": [4.7, 7.62857142857143, 5.69285714285714, 8.62142857142858],
    "se": [1.73585206684187, 1.85570391664162, 1.65112466088197, 1.9314778741745],
    "df": [28, 28, 28, 28],
    "t": [2.70760400023659, 4.11087747358819, 3.44786634088321, 4.46364345494421],
    "p": [0.0114204193669085, 0.000311923909932667, 0.00180485852923374, 0.000119959808461979],
    "p_adjusted": [
        0.0449050626630858, 0.00124711198196392, 0.00719991253787022, 0.000479752898619012,
    ],
    "p_adjusted_exact": [
        0.0449050626630856, 0.00124711198196413, 0.00719991253787021, 0.000479752898618889,
    ],
    "ci_low": [1.14426822918108, 3.82733427266532, 2.31068159551227, 4.66497549975003],
    "ci_high": [8.25573177081891, 11.4298085844775, 9.07503269020202, 12.5778816431071],
}
# R: pairs(emmeans(fit, ~ A * B), adjust = 'tukey'); confint(...)
FST_TUKEY = {
    "contrast": [
        "saline IgG - ketamine IgG", "saline IgG - saline nAb", "saline IgG - ketamine nAb",
        "ketamine IgG - saline nAb", "ketamine IgG - ketamine nAb", "saline nAb - ketamine nAb",
    ],
    "estimate": [
        17.8492063492064, 4.46904761904763, 3.42642857142858, -13.3801587301587, -14.4227777777778,
        -1.04261904761905,
    ],
    "se": [
        4.23121184096413, 4.06521684271086, 4.45322193180534, 4.23121184096413, 4.60525257057277,
        4.45322193180534,
    ],
    "df": [21, 21, 21, 21, 21, 21],
    "t": [
        4.21846199625382, 1.09933806533859, 0.769426860798626, -3.16225214739187,
        -3.13181037451415, -0.234126900384767,
    ],
    "p_adjusted": [
        0.00202056953768304, 0.693802965561949, 0.867283702762192, 0.0224815291643693,
        0.0240271403481144, 0.995338459431503,
    ],
    "ci_low": [
        6.05542891453162, -6.86204722296774, -8.98616392097593, -25.1739361648335,
        -27.2591296053958, -13.4552115400236,
    ],
    "ci_high": [
        29.6429837838811, 15.800142461063, 15.8390210638331, -1.586381295484, -1.58642595015976,
        11.3699734447855,
    ],
}
# R: rbind(contrast(emmeans(fit, ~A|B), 'trt.vs.ctrl'), contrast(emmeans(fit, ~B|A), ...),
#           adjust = 'sidak')
FST_SIMPLE = {
    "contrast": ["ketamine - saline", "ketamine - saline", "nAb - IgG", "nAb - IgG"],
    "by_A": [".", ".", "saline", "ketamine"],
    "by_B": ["IgG", "nAb", ".", "."],
    "estimate": [-17.8492063492064, 1.04261904761905, -4.46904761904763, 14.4227777777778],
    "se": [4.23121184096413, 4.45322193180534, 4.06521684271086, 4.60525257057277],
    "df": [21, 21, 21, 21],
    "t": [-4.21846199625382, 0.234126900384767, -1.09933806533859, 3.13181037451415],
    "p": [0.000385369581336401, 0.817153923933691, 0.284064421704876, 0.00503936876121837],
    "p_adjusted": [0.00154058749596275, 0.998882255404331, 0.737278399860155, 0.0200056148787525],
    "p_adjusted_exact": [
        0.00154058749596274, 0.998882255404331, 0.737278399860155, 0.0200056148787525,
    ],
    "ci_low": [-26.6484930736511, -8.21836293540829, -12.9231288469693, 4.84563077354691],
    "ci_high": [-9.04991962476165, 10.3036010306464, 3.98503360887404, 23.9999247820086],
}
# R: contrast(emmeans(fit, ~ am * vs), interaction = 'pairwise')
MT_INTERACTION = {
    "am_pairwise": "0 - 1", "vs_pairwise": "0 - 1",
    "estimate": 2.92857142857143, "se": 2.54102723798826, "df": 28,
    "t": 1.15251477228949, "p": 0.2588546555856,
    "ci_low": -2.27648691321996, "ci_high": 8.13362977036283,
}
# R: shapiro.test(residuals(fit)); car::leveneTest(y ~ A * B)
TG_CHECKS = {
    "shapiro_W": 0.984988430406403, "shapiro_p": 0.669424198312735,
    "levene_F": 1.70857823314489,
    "levene_df_num": 5,
    "levene_df_den": 54,
    "levene_p": 0.148360585928706,
}
# R: shapiro.test(residuals(fit)); car::leveneTest(y ~ A * B)
MT_CHECKS = {
    "shapiro_W": 0.978452219846697, "shapiro_p": 0.753481287312595,
    "levene_F": 0.880931443679795,
    "levene_df_num": 3,
    "levene_df_den": 28,
    "levene_p": 0.462861090473965,
}
# R: lmer(immobility ~ treatment * antibody + (1 | mouse), REML = TRUE)
FST_MIXED = {
    "term": ["(Intercept)", "treatmentketamine", "antibodynAb", "treatmentketamine:antibodynAb"],
    "estimate": [41.6964285714287, -17.8883373683969, -4.57853382707776, 19.040442624046],
    "se": [2.8480823296103, 4.22221339426762, 4.03910062373485, 6.11441321615439],
    "t": [14.6401767034361, -4.23672034025647, -1.13355280137689, 3.11402614624422],
    "sd_animal": 6.51205366028252, "sd_residual": 7.58265595138533,
    "reml_criterion": 681.763061526256, "loglik": -340.881530763128,
}
# R: summary(survfit(Surv(latency, ate) ~ treatment + antibody))$table[, 'median']
NSF_KM_MEDIAN = {
    "strata": [
        "treatment=saline, antibody=IgG", "treatment=saline, antibody=nAb",
        "treatment=ketamine, antibody=IgG", "treatment=ketamine, antibody=nAb",
    ],
    "median": [360, 433.5, 163, 144],
}
# R: as above, latency censored at 300 s
NSF300_KM_MEDIAN = {
    "strata": [
        "treatment=saline, antibody=IgG", "treatment=saline, antibody=nAb",
        "treatment=ketamine, antibody=IgG", "treatment=ketamine, antibody=nAb",
    ],
    "median": [NAN, NAN, 163, 144],
}
# R: survdiff(Surv(latency, ate) ~ A, data = subset(B == b)) and the reverse
NSF_LOGRANK = {
    "test": [
        "treatment|antibody=IgG", "treatment|antibody=nAb", "antibody|treatment=saline",
        "antibody|treatment=ketamine",
    ],
    "chisq": [5.30461582531733, 1.47887942151826, 0.0652855881057653, 1.3031889798679],
    "df": [1, 1, 1, 1],
    "p": [0.0212689897408556, 0.223949929527496, 0.798328876434424, 0.253631540380295],
}
# R: coxph(Surv(latency, ate) ~ treatment * antibody, ties = 'efron')
NSF_COX_EFRON = {
    "term": ["treatmentketamine", "antibodynAb", "treatmentketamine:antibodynAb"],
    "coef": [1.41266299377373, 0.182911135938189, -0.682527172948279],
    "se": [0.583004769441046, 0.606278953174406, 0.801974993810846],
    "hazard_ratio": [4.10687744401737, 1.20070770357622, 0.505338300026231],
    "z": [2.42307279085918, 0.301694681928982, -0.851057923520818],
    "p": [0.0153898426224571, 0.762884822704991, 0.394737177229931],
    "loglik": -80.2206773790197,
}
# R: coxph(Surv(latency, ate) ~ treatment * antibody, ties = 'breslow')
NSF_COX_BRESLOW = {
    "term": ["treatmentketamine", "antibodynAb", "treatmentketamine:antibodynAb"],
    "coef": [1.39409821306735, 0.183295471491885, -0.666460538163166],
    "se": [0.583233292280189, 0.606270291166334, 0.802038907607483],
    "hazard_ratio": [4.03133752545631, 1.20116926692822, 0.513522959843039],
    "z": [2.3902925836367, 0.302332926687309, -0.830957864813875],
    "p": [0.0168349553019898, 0.762398280180685, 0.405997432767078],
    "loglik": -80.4209571946737,
}


# ------------------------------------------------------------------ data


def _toothgrowth(dose_as: type = str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "toothgrowth.csv", dtype={"dose": dose_as})


@pytest.fixture(scope="module")
def tg() -> pd.DataFrame:
    """Balanced 2 x 3 (supp VC, OJ x dose 0.5, 1, 2: first-appearance order), n = 10."""
    return _toothgrowth()


@pytest.fixture(scope="module")
def mt() -> pd.DataFrame:
    """Unbalanced 2 x 2 (am x vs), levels given as Categoricals "0", "1"."""
    d = pd.read_csv(FIXTURES / "mtcars_am_vs.csv", dtype={"am": str, "vs": str})
    for col in ("am", "vs"):
        d[col] = pd.Categorical(d[col], categories=["0", "1"])
    return d


@pytest.fixture(scope="module")
def fst() -> pd.DataFrame:
    """Per-minute immobility of 25 mice (several rows per mouse)."""
    return pd.read_csv(FIXTURES / "fst_minutes.csv")


@pytest.fixture(scope="module")
def fst_mouse(fst: pd.DataFrame) -> pd.DataFrame:
    """One mean per mouse, in the order mice first appear."""
    return fst.groupby(["mouse", "treatment", "antibody"], sort=False, as_index=False)[
        "immobility"
    ].mean()


@pytest.fixture(scope="module")
def nsf() -> pd.DataFrame:
    """Novelty-suppressed feeding latencies, right-censored at 600 s."""
    return pd.read_csv(FIXTURES / "nsf_latency.csv")


def _approx(expected) -> object:
    return pytest.approx(expected, rel=REL, abs=0.0)


# ------------------------------------------------------------------ ANOVA


@pytest.mark.parametrize(
    ("data", "dv", "factors", "ss_type", "gold"),
    [
        ("tg", "len", ["supp", "dose"], 3, TG_TYPE3),
        ("tg", "len", ["supp", "dose"], 2, TG_TYPE2),
        ("mt", "mpg", ["am", "vs"], 3, MT_TYPE3),
        ("mt", "mpg", ["am", "vs"], 2, MT_TYPE2),
    ],
)
def test_anova_table_matches_afex_and_car(request, data, dv, factors, ss_type, gold):
    result = factorial_anova(request.getfixturevalue(data), dv=dv, factors=factors,
                             ss_type=ss_type)
    table = result.table
    assert isinstance(result, FactorialAnova)
    assert tuple(table.columns) == ANOVA_COLUMNS
    assert list(table["effect"]) == gold["effect"]
    for col in ANOVA_COLUMNS[1:]:
        expected = gold[col] if col != "SS_error" else [gold[col]] * 3
        assert list(table[col]) == _approx(expected), col
    assert result.ss_type == ss_type
    assert not result.aggregated


def test_type3_differs_from_type2_on_unbalanced_data(mt):
    t3 = factorial_anova(mt, dv="mpg", factors=["am", "vs"], ss_type=3).table
    t2 = factorial_anova(mt, dv="mpg", factors=["am", "vs"], ss_type=2).table
    assert t3["F"].iloc[0] == _approx(MT_TYPE3["F"][0])
    assert t3["F"].iloc[0] != pytest.approx(t2["F"].iloc[0], rel=1e-3)


def test_anova_averages_several_rows_per_animal_like_afex(fst):
    result = factorial_anova(fst, dv="immobility", factors=["treatment", "antibody"],
                             subject="mouse")
    assert result.aggregated
    assert result.n_analysed == 25
    assert "averaged to one mean per animal" in result.note
    assert list(result.table["effect"]) == FST_TYPE3["effect"]
    for col in ("df_num", "df_den", "F", "p", "partial_eta_sq", "generalized_eta_sq", "SS"):
        assert list(result.table[col]) == _approx(FST_TYPE3[col]), col
    assert result.table["SS_error"].iloc[0] == _approx(FST_TYPE3["SS_error"])
    assert result.levels == {"treatment": ("saline", "ketamine"), "antibody": ("IgG", "nAb")}


def test_levels_follow_first_appearance_and_numbers_read_as_r_writes_them(tg):
    as_text = factorial_anova(tg, dv="len", factors=["supp", "dose"])
    as_float = factorial_anova(_toothgrowth(float), dv="len", factors=["supp", "dose"])
    assert as_text.levels == {"supp": ("VC", "OJ"), "dose": ("0.5", "1", "2")}
    assert as_float.levels == as_text.levels
    assert list(as_float.table["F"]) == _approx(TG_TYPE3["F"])
    posthoc = cell_posthoc(_toothgrowth(float), dv="len", factors=["supp", "dose"])
    assert list(posthoc["contrast"]) == TG_TUKEY["contrast"]


def test_categorical_order_sets_the_reference(tg):
    d = tg.assign(supp=pd.Categorical(tg["supp"], categories=["OJ", "VC"]))
    table = simple_effects(d, dv="len", factors=["supp", "dose"])
    first = table.iloc[0]
    assert (first["level"], first["reference"]) == ("VC", "OJ")
    assert first["estimate"] == _approx(-TG_SIMPLE["estimate"][0])


# ------------------------------------------------------------------ Tukey over the cells


def _check_tukey(result: pd.DataFrame, gold: dict) -> None:
    assert list(result.columns) == [
        "contrast", "estimate", "se", "df", "t", "p_adjusted", "ci_low", "ci_high",
    ]
    assert list(result["contrast"]) == gold["contrast"]
    for col in ("estimate", "se", "df", "t", "ci_low", "ci_high"):
        assert list(result[col]) == _approx(gold[col]), col
    for ours, theirs in zip(result["p_adjusted"], gold["p_adjusted"], strict=True):
        if theirs >= 1e-6:
            assert ours == _approx(theirs)
        else:  # both ptukey and scipy are good to ~1e-12 absolute only (module docstring)
            assert 0.0 < ours < 1e-6


def test_tukey_matches_emmeans_balanced_2x3(tg):
    _check_tukey(cell_posthoc(tg, dv="len", factors=["supp", "dose"]), TG_TUKEY)


def test_tukey_matches_emmeans_unbalanced_2x2(mt):
    _check_tukey(cell_posthoc(mt, dv="mpg", factors=["am", "vs"]), MT_TUKEY)


def test_tukey_matches_emmeans_with_study_labels(fst_mouse):
    result = cell_posthoc(fst_mouse, dv="immobility", factors=["treatment", "antibody"])
    assert result["contrast"].iloc[0] == "saline IgG - ketamine IgG"
    _check_tukey(result, FST_TUKEY)


def test_tukey_labels_get_parentheses_like_emmeans(fst_mouse):
    d = fst_mouse.assign(antibody=fst_mouse["antibody"].replace({"nAb": "IGF-1 nAb"}))
    result = cell_posthoc(d, dv="immobility", factors=["treatment", "antibody"])
    assert result["contrast"].iloc[1] == "saline IgG - (saline IGF-1 nAb)"
    assert result["contrast"].iloc[5] == "(saline IGF-1 nAb) - (ketamine IGF-1 nAb)"
    inter = interaction_contrasts(d, dv="immobility", factors=["treatment", "antibody"])
    assert inter["contrast"].tolist() == ["(ketamine - saline) x (IGF-1 nAb - IgG)"]


# ------------------------------------------------------------------ planned simple effects


def _hedges_by_hand(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    nx, ny = len(x), len(y)
    sd = math.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    g = (x.mean() - y.mean()) / sd * (1 - 3 / (4 * (nx + ny) - 9))
    se = math.sqrt((nx + ny) / (nx * ny) + g**2 / (2 * (nx + ny)))
    crit = stats.t.ppf(0.975, nx + ny - 2)
    return g, g - crit * se, g + crit * se


def _check_simple(result, gold, data, dv, a, b) -> None:
    assert tuple(result.columns) == SIMPLE_COLUMNS
    for col in ("estimate", "se", "df", "t", "p", "ci_low", "ci_high"):
        assert list(result[col]) == _approx(gold[col]), col
    assert list(result["p_adjusted"]) == _approx(gold["p_adjusted_exact"])
    for ours, theirs, p in zip(result["p_adjusted"], gold["p_adjusted"], gold["p"], strict=True):
        if p >= 1e-9:  # emmeans' 1 - (1 - p)^m is exact enough here
            assert ours == _approx(theirs)
    # effect / level / reference / within, from emmeans' contrast labels and by columns
    for row, contrast, by_a, by_b in zip(
        result.itertuples(), gold["contrast"], gold["by_A"], gold["by_B"], strict=True
    ):
        factor = a if by_a == "." else b
        assert row.effect == factor
        prefix = factor if contrast.replace(factor, "")[:1].isdigit() else ""
        assert contrast == f"{prefix}{row.level} - {prefix}{row.reference}"
        assert row.within == (f"{b}={by_b}" if by_a == "." else f"{a}={by_a}")
        cell = {factor: row.level, row.within.split("=")[0]: row.within.split("=")[1]}
        ref = {factor: row.reference, row.within.split("=")[0]: row.within.split("=")[1]}
        x = data.loc[(data[a].astype(str) == cell[a]) & (data[b].astype(str) == cell[b]), dv]
        y = data.loc[(data[a].astype(str) == ref[a]) & (data[b].astype(str) == ref[b]), dv]
        g, lo, hi = _hedges_by_hand(x.to_numpy(), y.to_numpy())
        assert (row.hedges_g, row.g_ci_low, row.g_ci_high) == pytest.approx((g, lo, hi),
                                                                             rel=1e-9)


def test_simple_effects_match_emmeans_sidak_family_2x3(tg):
    result = simple_effects(tg, dv="len", factors=["supp", "dose"])
    assert len(result) == 7
    _check_simple(result, TG_SIMPLE, tg, "len", "supp", "dose")


def test_simple_effects_match_emmeans_sidak_family_2x2(mt):
    result = simple_effects(mt, dv="mpg", factors=["am", "vs"])
    _check_simple(result, MT_SIMPLE, mt, "mpg", "am", "vs")


def test_simple_effects_study_labels(fst_mouse):
    result = simple_effects(fst_mouse, dv="immobility", factors=["treatment", "antibody"])
    _check_simple(result, FST_SIMPLE, fst_mouse, "immobility", "treatment", "antibody")
    first = result.iloc[0]
    assert (first["effect"], first["level"], first["reference"], first["within"]) == (
        "treatment", "ketamine", "saline", "antibody=IgG",
    )


def test_interaction_contrast_matches_emmeans(mt):
    # emmeans' 'pairwise' of a 2 x 2 is (0 - 1) x (0 - 1), the same number as (1 - 0) x (1 - 0).
    result = interaction_contrasts(mt, dv="mpg", factors=["am", "vs"])
    assert len(result) == 1
    row = result.iloc[0]
    assert (row["effect"], row["contrast"]) == ("am:vs", "(1 - 0) x (1 - 0)")
    for key in ("estimate", "se", "df", "t", "p", "ci_low", "ci_high"):
        assert row[key] == _approx(MT_INTERACTION[key]), key
    # one contrast: the Sidak adjustment changes nothing
    assert (row["p_adjusted"], row["ci_low_adjusted"]) == _approx((row["p"], row["ci_low"]))
    # its t^2 is the type III interaction F
    assert row["t"] ** 2 == _approx(MT_TYPE3["F"][2])


# ------------------------------------------------------------------ assumption checks


@pytest.mark.parametrize(
    ("data", "dv", "factors", "gold"),
    [("tg", "len", ["supp", "dose"], TG_CHECKS), ("mt", "mpg", ["am", "vs"], MT_CHECKS)],
)
def test_assumption_checks_match_r(request, data, dv, factors, gold):
    result = assumption_checks(request.getfixturevalue(data), dv=dv, factors=factors)
    for key, value in gold.items():
        assert result[key] == _approx(value), key


# ------------------------------------------------------------------ mixed model


def test_mixed_model_matches_lme4_reml(fst):
    result = factorial_mixed_model(fst, dv="immobility", factors=["treatment", "antibody"],
                                   subject="mouse")
    fe = result.fixed_effects
    assert list(fe.columns) == ["term", "estimate", "se", "t"]
    assert list(fe["term"]) == FST_MIXED["term"]
    for col in ("estimate", "se", "t"):
        assert list(fe[col]) == _approx(FST_MIXED[col]), col
    assert result.sd_animal == _approx(FST_MIXED["sd_animal"])
    assert result.sd_residual == _approx(FST_MIXED["sd_residual"])
    assert result.reml_criterion == _approx(FST_MIXED["reml_criterion"])
    assert result.method == "REML"
    assert (result.n_obs, result.n_animals) == (97, 25)


# ------------------------------------------------------------------ censored latencies


def _km_by_r_strata(km: pd.DataFrame) -> list[float]:
    order = []
    for stratum in NSF_KM_MEDIAN["strata"]:
        t, a = (part.split("=")[1] for part in stratum.split(", "))
        order.append(km.loc[(km["treatment"] == t) & (km["antibody"] == a)].index[0])
    return order


def test_km_medians_match_print_survfit(nsf):
    km = censored_tests(nsf, time="latency", event="ate",
                        factors=["treatment", "antibody"])["km_median"]
    rows = km.loc[_km_by_r_strata(km)]
    assert list(rows["median"]) == _approx(NSF_KM_MEDIAN["median"])
    assert rows["median_reached"].all()
    assert list(rows["n"]) == [10, 10, 9, 8]


def test_km_median_not_reached_is_nan_with_cutoff_label(nsf):
    d = nsf.assign(ate=nsf["ate"] & (nsf["latency"] < 300),
                   latency=nsf["latency"].clip(upper=300))
    km = censored_tests(d, time="latency", event="ate",
                        factors=["treatment", "antibody"])["km_median"]
    rows = km.loc[_km_by_r_strata(km)]
    for ours, label, theirs in zip(rows["median"], rows["median_label"],
                                   NSF300_KM_MEDIAN["median"], strict=True):
        if math.isnan(theirs):
            assert math.isnan(ours)
            assert label == "> 300"
        else:
            assert ours == _approx(theirs)
    assert list(rows["median_reached"]) == [False, False, True, True]


def test_logrank_simple_effects_match_survdiff(nsf):
    lr = censored_tests(nsf, time="latency", event="ate",
                        factors=["treatment", "antibody"])["logrank"]
    tests = [f"{e}|{w}" for e, w in zip(lr["effect"], lr["within"], strict=True)]
    assert tests == NSF_LOGRANK["test"]
    for col in ("chisq", "df", "p"):
        assert list(lr[col]) == _approx(NSF_LOGRANK[col]), col
    expected_adj = [1 - (1 - p) ** 4 for p in NSF_LOGRANK["p"]]
    assert list(lr["p_adjusted"]) == _approx(expected_adj)


@pytest.mark.parametrize(
    ("ties", "gold"), [("efron", NSF_COX_EFRON), ("breslow", NSF_COX_BRESLOW)]
)
def test_cox_matches_coxph(nsf, ties, gold):
    result = censored_tests(nsf, time="latency", event="ate",
                            factors=["treatment", "antibody"], ties=ties)
    cox = result["cox"]
    assert list(cox["term"]) == gold["term"]
    for col in ("coef", "se", "hazard_ratio", "z", "p"):
        assert list(cox[col]) == _approx(gold[col]), col
    assert result["cox_loglik"] == _approx(gold["loglik"])
    assert result["cox_interaction"]["p"] == _approx(gold["p"][2])
    assert result["ties"] == ties


def test_cox_skipped_when_a_cell_has_no_event(nsf):
    d = nsf.copy()
    d.loc[(d["treatment"] == "saline") & (d["antibody"] == "IgG"), "ate"] = False
    result = censored_tests(d, time="latency", event="ate", factors=["treatment", "antibody"])
    assert result["cox"] is None
    assert "no event" in result["note"] and "treatment = saline, antibody = IgG" in result["note"]
    assert result["cox_main"] is not None and "main-effects Cox model" in result["note"]


# ------------------------------------------------------------------ errors


def test_single_level_factor_is_rejected(tg):
    with pytest.raises(DesignError, match="single level.*Fix:"):
        factorial_anova(tg[tg["supp"] == "VC"], dv="len", factors=["supp", "dose"])


def test_empty_cell_is_rejected(tg):
    d = tg[~((tg["supp"] == "OJ") & (tg["dose"] == "2"))]
    with pytest.raises(DesignError, match=r"empty cell\(s\): supp=OJ, dose=2.*Fix:"):
        cell_posthoc(d, dv="len", factors=["supp", "dose"])


def test_unused_category_is_an_empty_cell(mt):
    d = mt.assign(vs=pd.Categorical(mt["vs"].astype(str), categories=["0", "1", "2"]))
    with pytest.raises(DesignError, match="empty cell"):
        factorial_anova(d, dv="mpg", factors=["am", "vs"])


def test_cell_with_one_animal_is_rejected(mt):
    keep = ~((mt["am"] == "1") & (mt["vs"] == "0")) | (mt["car"] == "Mazda RX4")
    with pytest.raises(DesignError, match=r"fewer than 2 observations: am=1, vs=0 \(n = 1\)"):
        simple_effects(mt[keep], dv="mpg", factors=["am", "vs"])


def test_cell_with_one_animal_but_many_rows_is_rejected(fst):
    ket_nab = fst[(fst["treatment"] == "ketamine") & (fst["antibody"] == "nAb")]
    d = fst[~fst.index.isin(ket_nab.index) | (fst["mouse"] == ket_nab["mouse"].iloc[0])]
    with pytest.raises(DesignError, match="fewer than 2 animals"):
        factorial_anova(d, dv="immobility", factors=["treatment", "antibody"], subject="mouse")
    with pytest.raises(DesignError, match="fewer than 2 animals"):
        factorial_mixed_model(d, dv="immobility", factors=["treatment", "antibody"],
                              subject="mouse")


def test_animal_in_two_cells_is_rejected(fst):
    d = fst.copy()
    d.loc[d.index[0], "antibody"] = "nAb"
    with pytest.raises(DesignError, match="more than one treatment x antibody cell"):
        factorial_anova(d, dv="immobility", factors=["treatment", "antibody"], subject="mouse")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dv": "len", "factors": ["supp"]}, "at least two different columns"),
        ({"dv": "len", "factors": "supp"}, "at least two different columns"),
        ({"dv": "length", "factors": ["supp", "dose"]}, "'length' is not in the data"),
        ({"dv": "len", "factors": ["supp", "dose"], "ss_type": 1}, "ss_type must be 2 or 3"),
    ],
)
def test_bad_arguments_are_rejected(tg, kwargs, message):
    with pytest.raises(DesignError, match=message):
        factorial_anova(tg, **kwargs)


def test_missing_outcome_is_rejected(tg):
    d = tg.copy()
    d.loc[3, "len"] = np.nan
    with pytest.raises(DesignError, match="1 missing or infinite values.*Fix:"):
        assumption_checks(d, dv="len", factors=["supp", "dose"])


def test_mixed_model_needs_several_rows_per_animal(fst_mouse):
    with pytest.raises(DesignError, match="single row.*Fix:"):
        factorial_mixed_model(fst_mouse, dv="immobility", factors=["treatment", "antibody"],
                              subject="mouse")


def test_bad_event_coding_is_rejected(nsf):
    with pytest.raises(DesignError, match="must be True/False"):
        censored_tests(nsf.assign(ate="yes"), time="latency", event="ate",
                       factors=["treatment", "antibody"])
    with pytest.raises(DesignError, match='ties must be "efron" or "breslow"'):
        censored_tests(nsf, time="latency", event="ate", factors=["treatment", "antibody"],
                       ties="exact")


# ------------------------------------------------------------------ pooled-error interaction
# contrasts, Sidak intervals, block-adjusted ANOVA (issue 11). R values from
# tests/fixtures/reviewer_golden.R (R 4.2.2, afex 1.2.1, car 3.1.1, emmeans 1.8.4.1):
# carData::Moore (unbalanced 2 x 3), ToothGrowth with OJ as reference, datasets::npk with its
# blocks (balanced, and unbalanced with plots 3, 10 and 17 dropped).

MOORE_TYPE3 = {  # afex::aov_ez(between = ["partner_status", "fcategory"], type = 3, es = 'pes')
    "effect": ["partner_status", "fcategory", "partner_status:fcategory"],
    "df_num": [1, 2, 2],
    "df_den": [39, 39, 39],
    "F": [11.4249745245261, 0.85888446202485, 4.18462326063614],
    "p": [0.00165711268009882, 0.431491610226426, 0.0225724417916788],
    "partial_eta_sq": [0.2265737292335, 0.0421872064565677, 0.176681014284529],
    "MSE": [20.9683066933067, 20.9683066933067, 20.9683066933067],
}

MOORE_TYPE2 = {  # afex::aov_ez(between = ["partner_status", "fcategory"], type = 2, es = 'pes')
    "effect": ["partner_status", "fcategory", "partner_status:fcategory"],
    "df_num": [1, 2, 2],
    "df_den": [39, 39, 39],
    "F": [10.1206921894899, 0.276958464357662, 4.18462326063615],
    "p": [0.00287422991075649, 0.759564473545402, 0.0225724417916788],
    "partial_eta_sq": [0.206037247000672, 0.0140040979939762, 0.176681014284529],
    "MSE": [20.9683066933067, 20.9683066933067, 20.9683066933067],
}

MOORE_INTERACTION = {  # contrast(emmeans(fit, ~ partner_status * fcategory), interaction = c('trt.vs.ctrl', 'trt.vs.ctrl')); lm with contr.sum
    "partner_status_trt.vs.ctrl": ["low - high", "low - high"],
    "fcategory_trt.vs.ctrl": ["low - high", "medium - high"],
    "estimate": [-9.26785714285713, -7.7905844155844],
    "se": [3.45065250777493, 3.57278562107211],
    "df": [39, 39],
    "t": [-2.68582742596509, -2.18053508994101],
    "p": [0.0105728355020348, 0.0353147171374111],
    "ci_low": [-16.2474606385356, -15.0172254505649],
    "ci_high": [-2.28825364717869, -0.563943380603951],
    "p_sidak": [0.0210338861535165, 0.0693823050283268],
    "ci_low_sidak": [-17.293388683591, -16.1001732906125],
    "ci_high_sidak": [-1.2423256021233, 0.519004459443727],
}

MOORE_INTERACTION_SUBTABLE = {  # each interaction contrast on its 2 x 2 sub-table alone (refitted lm)
    "partner_status": ["low - high", "low - high"],
    "fcategory": ["low - high", "medium - high"],
    "n": [30, 30],
    "estimate": [-9.26785714285714, -7.7905844155844],
    "se": [3.66446986395446, 3.97155207204811],
    "df": [26, 26],
    "t": [-2.52911266484147, -1.96159694604403],
    "p": [0.0178394905803278, 0.0605997352127219],
    "ci_low": [-16.8002828252352, -15.9542266167824],
    "ci_high": [-1.7354314604791, 0.373057785613591],
}

MOORE_SIMPLE = {  # rbind(contrast(emmeans(fit, ~partner_status|fcategory), 'trt.vs.ctrl'), contrast(emmeans(fit, ~fcategory|partner_status), 'trt.vs.ctrl'), adjust = 'sidak'), infer = TRUE
    "contrast": ["low - high", "low - high", "low - high", "low - high", "medium - high", "low - high", "medium - high"],
    "by_partner_status": [".", ".", ".", "high", "high", "low", "low"],
    "by_fcategory": ["high", "low", "medium", ".", ".", ".", "."],
    "estimate": [0.767857142857134, -8.49999999999999, -7.02272727272727, 5.54285714285713, 2.41558441558441, -3.72499999999999, -5.37499999999999],
    "se": [2.36991787229461, 2.50808532709555, 2.67362794208884, 2.68125599736755, 2.21397427359706, 2.17206560812375, 2.80412464237773],
    "df": [39, 39, 39, 39, 39, 39, 39],
    "t": [0.324001583275827, -3.38903940315431, -2.6266658730536, 2.06726144325611, 1.09106254954797, -1.71495740555355, -1.91681921651041],
    "p": [0.7476681097451, 0.00161596300242999, 0.0122598910022718, 0.045391517606875, 0.281940387616581, 0.0942899374798425, 0.0626088506970018],
    "p_sidak": [0.999934866414284, 0.0112570504074503, 0.0827265438993583, 0.277601187341045, 0.901570902706828, 0.500052559031274, 0.364016364946395],
    "p_sidak_exact": [0.999934866414284, 0.0112570504074506, 0.0827265438993585, 0.277601187341045, 0.901570902706828, 0.500052559031274, 0.364016364946395],
    "ci_low_sidak": [-5.94131794711263, -15.6003235161798, -14.5916975727578, -2.04770798079964, -3.85211845289909, -9.87406054009971, -13.3134030222091],
    "ci_high_sidak": [7.4770322328269, -1.39967648382023, 0.546243027303288, 13.1334222665139, 8.68328728406791, 2.42406054009973, 2.56340302220914],
    "ci_low": [-4.02575421866602, -13.5730814177936, -12.4306502347469, 0.119504982687692, -2.06260124481534, -8.11841738327603, -11.0468774527887],
    "ci_high": [5.56146850438029, -3.42691858220639, -1.61480431070761, 10.9662093030266, 6.89377007598416, 0.668417383276044, 0.296877452788761],
}

TG_OJREF_TYPE3 = {  # afex::aov_ez(between = ["supp", "dose"], type = 3, es = 'pes')
    "effect": ["supp", "dose", "supp:dose"],
    "df_num": [1, 2, 2],
    "df_den": [54, 54, 54],
    "F": [15.5719794524973, 91.999964892867, 4.10699109402252],
    "p": [0.000231182809773424, 4.04629119599228e-18, 0.021860268964791],
    "partial_eta_sq": [0.223825447759893, 0.773109176760619, 0.132027912362495],
    "MSE": [13.1871481481482, 13.1871481481482, 13.1871481481482],
}

TG_INTERACTION = {  # contrast(emmeans(fit, ~ supp * dose), interaction = c('trt.vs.ctrl', 'trt.vs.ctrl')); lm with contr.sum
    "supp_trt.vs.ctrl": ["VC - OJ", "VC - OJ"],
    "dose_trt.vs.ctrl": ["1 - 0.5", "2 - 0.5"],
    "estimate": [-0.68, 5.33],
    "se": [2.29670617608332, 2.29670617608332],
    "df": [54, 54],
    "t": [-0.296076183832812, 2.32071479386602],
    "p": [0.768307565366801, 0.0241082566043808],
    "ci_low": [-5.28461864348304, 0.725381356516965],
    "ci_high": [3.92461864348304, 9.93461864348304],
    "p_sidak": [0.946318615733741, 0.0476353051722589],
    "ci_low_sidak": [-5.96315272868941, 0.0468472713105976],
    "ci_high_sidak": [4.60315272868941, 10.6131527286894],
}

TG_INTERACTION_SUBTABLE = {  # each interaction contrast on its 2 x 2 sub-table alone (refitted lm)
    "supp": ["VC - OJ", "VC - OJ"],
    "dose": ["1 - 0.5", "2 - 0.5"],
    "n": [40, 40],
    "estimate": [-0.680000000000001, 5.33],
    "se": [2.21484386206643, 2.39792734576249],
    "df": [36, 36],
    "t": [-0.3070193848182, 2.22275291593756],
    "p": [0.760597595380637, 0.0326014972404593],
    "ci_low": [-5.1719115497653, 0.466777935272113],
    "ci_high": [3.8119115497653, 10.1932220647279],
}

NPK_BLOCK_TYPE3 = {  # car::Anova(lm(yield ~ block + N * P, contr.sum), type = 3)
    "n": 24,
    "term": ["(Intercept)", "block", "N", "P", "N:P", "Residuals"],
    "SS": [72270.375, 343.295, 189.281666666667, 8.40166666666664, 21.2816666666668, 314.105],
    "df": [1, 5, 1, 1, 1, 15],
    "F": [3451.25236783878, 3.27879212365292, 9.03909520701676, 0.401219337482688, 1.01630028175292, None],
    "p": [3.79511886559479e-19, 0.0337146802153708, 0.00885458998425754, 0.535999422597355, 0.329384683205554, None],
    "partial_eta_sq": [0.995672559753821, 0.522201095223608, 0.376016448588229, 0.0260511410616834, 0.063454122604755, None],  # SS / (SS + SS_resid)
}

NPK_PLAIN_TYPE3 = {  # afex::aov_ez(between = ["N", "P"], type = 3, es = 'pes')
    "effect": ["N", "P", "N:P"],
    "df_num": [1, 1, 1],
    "df_den": [20, 20, 20],
    "F": [5.75849305344285, 0.25560288003245, 0.647449548727312],
    "p": [0.0262662286125352, 0.618683846881064, 0.430487827407744],
    "partial_eta_sq": [0.22355706296542, 0.0126188729877015, 0.0313573619443579],
    "MSE": [32.87, 32.87, 32.87],
}

NPK_BLOCK_INTERACTION = {  # contrast(emmeans(fit, ~ N * P), interaction = c('trt.vs.ctrl', 'trt.vs.ctrl')); lm with contr.sum
    "N_trt.vs.ctrl": ["1 - 0"],
    "P_trt.vs.ctrl": ["1 - 0"],
    "estimate": [-3.76666666666667],
    "se": [3.73633807654262],
    "df": [15],
    "t": [-1.00811719643746],
    "p": [0.329384683205554],
    "ci_low": [-11.7304827619711],
    "ci_high": [4.19714942863778],
    "p_sidak": [0.329384683205554],
    "ci_low_sidak": [-11.7304827619711],
    "ci_high_sidak": [4.19714942863778],
}

NPK_BLOCK_SIMPLE = {  # rbind(contrast(emmeans(fit, ~N|P), 'trt.vs.ctrl'), contrast(emmeans(fit, ~P|N), 'trt.vs.ctrl'), adjust = 'sidak'), infer = TRUE
    "contrast": ["N1 - N0", "N1 - N0", "P1 - P0", "P1 - P0"],
    "by_N": [".", ".", "0", "1"],
    "by_P": ["0", "1", ".", "."],
    "estimate": [7.5, 3.73333333333333, 0.700000000000004, -3.06666666666667],
    "se": [2.64198999072879, 2.64198999072879, 2.64198999072879, 2.64198999072879],
    "df": [15, 15, 15, 15],
    "t": [2.83876927101118, 1.41307625934779, 0.264951798627712, -1.16074121303568],
    "p": [0.0124459909750487, 0.17804752672703, 0.794652911687191, 0.26388758787078],
    "p_sidak": [0.048862235427239, 0.543556710692184, 0.998221908127309, 0.706386132926005],
    "p_sidak_exact": [0.0488622354272392, 0.543556710692184, 0.998221908127309, 0.706386132926005],
    "ci_low_sidak": [0.0306684122463272, -3.73599825442034, -6.76933158775367, -10.5359982544203],
    "ci_high_sidak": [14.9693315877537, 11.202664921087, 8.16933158775368, 4.402664921087],
    "ci_low": [1.86873163488765, -1.89793503177902, -4.93126836511235, -8.69793503177902],
    "ci_high": [13.1312683651124, 9.36460169844568, 6.33126836511236, 2.56460169844568],
}

NPK_BLOCK_UNBALANCED_TYPE3 = {  # car::Anova(lm(yield ~ block + N * P, contr.sum), type = 3); plots 3, 10, 17 dropped
    "n": 21,
    "term": ["(Intercept)", "block", "N", "P", "N:P", "Residuals"],
    "SS": [61094.7299502358, 376.751076779026, 175.359186898074, 2.57847261235958, 1.11427122347067, 229.23308988764],
    "df": [1, 5, 1, 1, 1, 12],
    "F": [3198.21523045464, 3.94446798545908, 9.17978396490805, 0.13497907899545, 0.0583303862815005, None],
    "p": [6.16440974924932e-16, 0.0239099276002977, 0.0104701711937395, 0.719722111300464, 0.813232226194731, None],
    "partial_eta_sq": [0.996261932880338, 0.621717690829149, 0.433421982968177, 0.0111231406429935, 0.00483735180683569, None],  # SS / (SS + SS_resid)
}

NPK_PLAIN_UNBALANCED_TYPE3 = {  # afex::aov_ez(between = ["N", "P"], type = 3, es = 'pes')
    "effect": ["N", "P", "N:P"],
    "df_num": [1, 1, 1],
    "df_den": [17, 17, 17],
    "F": [4.63387001866462, 0.177296869546394, 0.098488312795899],
    "p": [0.0460023481914115, 0.678982018382489, 0.757469502901613],
    "partial_eta_sq": [0.214195149303696, 0.0103215814975361, 0.00576005966107506],
    "MSE": [35.6461274509804, 35.6461274509804, 35.6461274509804],
}

NPK_BLOCK_UNBALANCED_INTERACTION = {  # contrast(emmeans(fit, ~ N * P), interaction = c('trt.vs.ctrl', 'trt.vs.ctrl')); lm with contr.sum
    "N_trt.vs.ctrl": ["1 - 0"],
    "P_trt.vs.ctrl": ["1 - 0"],
    "estimate": [-0.949438202247191],
    "se": [3.93114692834044],
    "df": [12],
    "t": [-0.241516844715851],
    "p": [0.813232226194731],
    "ci_low": [-9.51467156502226],
    "ci_high": [7.61579516052788],
    "p_sidak": [0.813232226194731],
    "ci_low_sidak": [-9.51467156502226],
    "ci_high_sidak": [7.61579516052788],
}

NPK_BLOCK_UNBALANCED_SIMPLE = {  # rbind(contrast(emmeans(fit, ~N|P), 'trt.vs.ctrl'), contrast(emmeans(fit, ~P|N), 'trt.vs.ctrl'), adjust = 'sidak'), infer = TRUE
    "contrast": ["N1 - N0", "N1 - N0", "P1 - P0", "P1 - P0"],
    "by_N": [".", ".", "0", "1"],
    "by_P": ["0", "1", ".", "."],
    "estimate": [6.53932584269663, 5.58988764044944, -0.260674157303373, -1.21011235955056],
    "se": [2.68814745292512, 2.91786961263714, 2.68814745292512, 2.91786961263714],
    "df": [12, 12, 12, 12],
    "t": [2.43265146619127, 1.91574277899188, -0.0969716735663882, -0.414724617683269],
    "p": [0.0315791551540954, 0.0795257270621938, 0.924349667432185, 0.685661479809629],
    "p_sidak": [0.120458136251999, 0.2821286547168, 0.999967247582129, 0.990236839761785],
    "p_sidak_exact": [0.120458136251999, 0.2821286547168, 0.999967247582129, 0.990236839761785],
    "ci_low_sidak": [-1.32124933429834, -2.94243205125695, -8.12124933429834, -9.74243205125696],
    "ci_high_sidak": [14.3999010196916, 14.1222073321558, 7.5999010196916, 7.32220733215583],
    "ci_low": [0.682355684226096, -0.7676041068605, -6.11764431577391, -7.5676041068605],
    "ci_high": [12.3962960011672, 11.9473793877594, 5.59629600116716, 5.14737938775937],
}


@pytest.fixture(scope="module")
def moore() -> pd.DataFrame:
    d = pd.read_csv(FIXTURES / "moore.csv")
    for col in ("partner_status", "fcategory"):
        d[col] = pd.Categorical(d[col], categories=sorted(d[col].unique()))
    return d


@pytest.fixture(scope="module")
def tg_oj(tg: pd.DataFrame) -> pd.DataFrame:
    return tg.assign(supp=pd.Categorical(tg["supp"].astype(str), categories=["OJ", "VC"]))


def _npk(drop: tuple[int, ...] = ()) -> pd.DataFrame:
    d = pd.read_csv(FIXTURES / "npk_block.csv", dtype={"block": str, "N": str, "P": str})
    d = d[~d["plot"].isin(drop)].reset_index(drop=True)
    for col in ("N", "P"):
        d[col] = pd.Categorical(d[col], categories=["0", "1"])
    return d


NPK_DROPPED = (3, 10, 17)


@pytest.mark.parametrize(("ss_type", "gold"), [(3, MOORE_TYPE3), (2, MOORE_TYPE2)])
def test_anova_matches_afex_on_unbalanced_2x3(moore, ss_type, gold):
    table = factorial_anova(moore, dv="conformity", factors=["partner_status", "fcategory"],
                            ss_type=ss_type).table
    assert table["effect"].tolist() == gold["effect"]
    for col in ("df_num", "df_den", "F", "p", "partial_eta_sq"):
        assert list(table[col]) == _approx(gold[col]), col


@pytest.mark.parametrize(
    ("data", "dv", "factors", "gold", "sub"),
    [
        ("moore", "conformity", ["partner_status", "fcategory"], MOORE_INTERACTION,
         MOORE_INTERACTION_SUBTABLE),
        ("tg_oj", "len", ["supp", "dose"], TG_INTERACTION, TG_INTERACTION_SUBTABLE),
    ],
)
def test_interaction_contrasts_use_the_pooled_error_like_emmeans(request, data, dv, factors, gold, sub):
    d = request.getfixturevalue(data)
    result = interaction_contrasts(d, dv=dv, factors=factors)
    a, b = factors
    labels = [f"({x}) x ({y})" for x, y in zip(gold[f"{a}_trt.vs.ctrl"], gold[f"{b}_trt.vs.ctrl"], strict=True)]
    assert result["contrast"].tolist() == labels
    for col in ("estimate", "se", "df", "t", "p", "ci_low", "ci_high"):
        assert list(result[col]) == _approx(gold[col]), col
    assert list(result["p_adjusted"]) == _approx(gold["p_sidak"])
    assert list(result["ci_low_adjusted"]) == _approx(gold["ci_low_sidak"])
    assert list(result["ci_high_adjusted"]) == _approx(gold["ci_high_sidak"])
    # Same estimates as the 2 x 2 sub-tables fitted alone, but not their SE, df or p.
    assert list(result["estimate"]) == _approx(sub["estimate"])
    for col in ("se", "df", "p"):
        assert all(abs(x / y - 1) > 1e-3 for x, y in zip(result[col], sub[col], strict=True)), col


def test_simple_effects_carry_sidak_intervals_like_emmeans(moore):
    result = simple_effects(moore, dv="conformity", factors=["partner_status", "fcategory"])
    for col in ("estimate", "se", "df", "p", "ci_low", "ci_high"):
        assert list(result[col]) == _approx(MOORE_SIMPLE[col]), col
    assert list(result["p_adjusted"]) == _approx(MOORE_SIMPLE["p_sidak_exact"])
    assert list(result["ci_low_adjusted"]) == _approx(MOORE_SIMPLE["ci_low_sidak"])
    assert list(result["ci_high_adjusted"]) == _approx(MOORE_SIMPLE["ci_high_sidak"])


@pytest.mark.parametrize(
    ("drop", "block_gold", "plain_gold"),
    [((), NPK_BLOCK_TYPE3, NPK_PLAIN_TYPE3),
     (NPK_DROPPED, NPK_BLOCK_UNBALANCED_TYPE3, NPK_PLAIN_UNBALANCED_TYPE3)],
)
def test_block_adjusted_anova_matches_car(drop, block_gold, plain_gold):
    d = _npk(drop)
    table = factorial_anova(d, dv="yield", factors=["N", "P"], block="block").table
    assert table["effect"].tolist() == ["N", "P", "N:P", "block"]
    rows = [2, 3, 4, 1]  # car's rows N, P, N:P, block (after the intercept)
    for col, key in (("SS", "SS"), ("df_num", "df"), ("F", "F"), ("p", "p"), ("partial_eta_sq", "partial_eta_sq")):
        assert list(table[col]) == _approx([block_gold[key][i] for i in rows]), col
    assert set(table["df_den"]) == {block_gold["df"][5]}
    plain = factorial_anova(d, dv="yield", factors=["N", "P"]).table
    for col in ("df_den", "F", "p", "partial_eta_sq"):
        assert list(plain[col]) == _approx(plain_gold[col]), col


@pytest.mark.parametrize(
    ("drop", "inter_gold", "simple_gold"),
    [((), NPK_BLOCK_INTERACTION, NPK_BLOCK_SIMPLE),
     (NPK_DROPPED, NPK_BLOCK_UNBALANCED_INTERACTION, NPK_BLOCK_UNBALANCED_SIMPLE)],
)
def test_block_adjusted_contrasts_match_emmeans(drop, inter_gold, simple_gold):
    d = _npk(drop)
    inter = interaction_contrasts(d, dv="yield", factors=["N", "P"], block="block")
    for col in ("estimate", "se", "df", "p", "ci_low", "ci_high"):
        assert list(inter[col]) == _approx(inter_gold[col]), col
    simple = simple_effects(d, dv="yield", factors=["N", "P"], block="block")
    for col in ("estimate", "se", "df", "p", "ci_low", "ci_high"):
        assert list(simple[col]) == _approx(simple_gold[col]), col
    assert list(simple["p_adjusted"]) == _approx(simple_gold["p_sidak_exact"])
    assert list(simple["ci_low_adjusted"]) == _approx(simple_gold["ci_low_sidak"])


def test_block_confounded_with_a_factor_is_rejected():
    d = _npk()
    d["block"] = np.where(d["N"] == "1", "b1", "b2")  # every block holds one level of N
    with pytest.raises(DesignError, match="block 'block' is confounded.*single level of 'N'.*Fix:"):
        factorial_anova(d, dv="yield", factors=["N", "P"], block="block")


# ------------------------------------------------------------------ survival::rats: per-animal follow-up,
# a cell with no event (R values from tests/fixtures/reviewer_golden.R)

RATS_COUNTS = {
    "n": 300, "n_censored": 258, "n_events": 42,
    "rx": [0, 0, 1, 1], "sex": ["f", "m", "f", "m"],
    "n_cell": [100, 100, 50, 50],
    "censored_cell": [81, 98, 29, 50],
    "events_cell": [19, 2, 21, 0],
}

RATS_LOGRANK = {  # survdiff(Surv(time, status) ~ A, data = subset(B == b)); Sidak over the 4
    "test": ["rx|sex=f", "rx|sex=m", "sex|rx=0", "sex|rx=1"],
    "chisq": [8.60618176766222, 0.954655863911103, 14.3746852490213, 25.6403497502611],
    "df": [1, 1, 1, 1],
    "p": [0.00335023912562863, 0.328537011909567, 0.00014980274798969, 4.11347440802638e-07],
    "p_sidak": [0.0133337621770458, 0.796722966079401, 0.00059907636022527, 1.64538874791731e-06],
    "p_sidak_exact": [0.0133337621770461, 0.796722966079401, 0.000599076360225235, 1.64538874797053e-06],
}

RATS_COX_MAIN = {  # coxph(Surv(time, status) ~ rx + sex, ties = 'efron')
    "term": ["rx", "sexm"],
    "coef": [0.790996147108952, -3.06769357715977],
    "se": [0.309359879825657, 0.724796785606319],
    "z": [2.55688018612733, -4.23248783394304],
    "p": [0.0105615588164432, 2.31120419006769e-05],
    "hazard_ratio": [2.20559242682404, 0.0465283452349145],
    "loglik": [-225.28221349933, -200.264201247658],  # null, fitted
    "iter": 6,
    "any_infinite": False,  # |coef| > 10 or exp(coef) not finite
    "warnings": [],
}


@pytest.fixture(scope="module")
def rats() -> pd.DataFrame:
    d = pd.read_csv(FIXTURES / "rats.csv", dtype={"rx": str})
    d["rx"] = pd.Categorical(d["rx"], categories=["0", "1"])
    d["sex"] = pd.Categorical(d["sex"], categories=["f", "m"])
    return d


def test_rats_logrank_and_main_effects_cox_match_survival(rats):
    res = censored_tests(rats, time="time", event="status", factors=["rx", "sex"])
    lr = res["logrank"]
    # R's order: rx|sex=f, rx|sex=m, sex|rx=0, sex|rx=1 -- the package's planned order is the same
    assert [f"{e}|{w}" for e, w in zip(lr["effect"], lr["within"], strict=True)] == RATS_LOGRANK["test"]
    assert list(lr["chisq"]) == _approx(RATS_LOGRANK["chisq"])
    assert list(lr["p"]) == _approx(RATS_LOGRANK["p"])
    assert list(lr["p_adjusted"]) == _approx(RATS_LOGRANK["p_sidak_exact"])
    km = res["km_median"]
    assert km["events"].tolist() == [19, 21, 2, 0]  # cells in emmeans order: (0,f), (1,f), (0,m), (1,m)
    # rx = 1 males have no tumour: R's coxph(~ rx * sex) gives rx:sexm = -16.9 (SE 2958) and warns
    # 'coefficient may be infinite'; the package fits no interaction model, says why, and gives
    # the main-effects model instead.
    assert res["cox"] is None and res["cox_interaction"] is None
    assert "rx = 1, sex = m" in res["note"]
    main = res["cox_main"]
    assert main["term"].tolist() == ["rx1", "sexm"]  # R's names for rx as a factor (numeric rx in R: "rx")
    for col in ("coef", "se", "z", "p", "hazard_ratio"):
        assert list(main[col]) == pytest.approx(RATS_COX_MAIN[col], rel=1e-6), col
