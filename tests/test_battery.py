"""Tests of the battery design (several tests of the same animals, jointly): bayes_igf1.designs.battery.

Fast: bad input named with its fix; animals missing a test kept and listed; the per-animal
likelihood equal to scipy's multivariate normal / t density and conditional survival (censored
and missing outcomes); joint estimand maths on hand-made draws; the MANOVA (Pillai, Wilks,
Hotelling-Lawley, Roy; type III and II; with a block) and the Holm-adjusted univariate ANOVAs
pinned to R (car::Manova, car::Anova, p.adjust) on mtcars, carData::OBrienKaiser and the shipped
battery (tests/fixtures/battery_golden.R); the shipped study through the CLI into a report, reloaded
and re-rendered; recovery of a known correlation and known interactions from one simulated study.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr
from scipy import stats

from bayes_igf1.cli import main
from bayes_igf1.designs import battery as bt
from bayes_igf1.designs.base import get_design
from bayes_igf1.errors import DataError, DesignError
from bayes_igf1.frequentist import between
from bayes_igf1.results import load_result

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURES = Path(__file__).parent / "fixtures"
OUTCOMES = ["fst_immobility_s", "fust_sniffing_s", "nsft_latency_s"]
SHIPPED = dict(outcomes=OUTCOMES, factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
               censored={"nsft_latency_s": "nsft_censored"}, families={"nsft_latency_s": "lognormal"},
               blocker="antibody")
CLI_ARGS = ["battery", str(DATA / "behaviour_battery.csv"), "--outcome", "fst_immobility_s", "--outcome",
            "fust_sniffing_s", "--outcome", "nsft_latency_s", "--censored", "nsft_latency_s=nsft_censored",
            "--family", "nsft_latency_s=lognormal", "--factor", "treatment", "--factor", "antibody", "--animal",
            "mouse", "--cohort", "cohort", "--blocker", "antibody"]
FAST = dict(draws=500, tune=500, chains=2)

# car::Manova (type III with contr.sum, type II) via tests/fixtures/battery_golden.R:
# (statistic, approximate F, df1, df2, p) per (term, test).
GOLDEN = {
    ("mtcars", 3): {
        ("am", "Pillai"): (0.650616664973736, 16.1389430972197, 3, 26, 3.97506416119912e-06),
        ("am", "Wilks"): (0.349383335026264, 16.1389430972197, 3, 26, 3.97506416119912e-06),
        ("am", "Hotelling-Lawley"): (1.86218574198689, 16.1389430972197, 3, 26, 3.97506416119912e-06),
        ("am", "Roy"): (1.86218574198689, 16.1389430972197, 3, 26, 3.97506416119912e-06),
        ("vs", "Pillai"): (0.703224363529151, 20.5360898996324, 3, 26, 4.9336234465854e-07),
        ("vs", "Wilks"): (0.296775636470848, 20.5360898996324, 3, 26, 4.93362344658535e-07),
        ("vs", "Hotelling-Lawley"): (2.36954883457297, 20.5360898996324, 3, 26, 4.93362344658533e-07),
        ("vs", "Roy"): (2.36954883457298, 20.5360898996325, 3, 26, 4.93362344658533e-07),
        ("am:vs", "Pillai"): (0.0576227382836004, 0.529933271325923, 3, 26, 0.665720727822431),
        ("am:vs", "Wilks"): (0.9423772617164, 0.529933271325923, 3, 26, 0.665720727822431),
        ("am:vs", "Hotelling-Lawley"): (0.0611461466914527, 0.529933271325923, 3, 26, 0.665720727822431),
        ("am:vs", "Roy"): (0.0611461466914527, 0.529933271325923, 3, 26, 0.665720727822431),
    },
    ("mtcars", 2): {
        ("am", "Pillai"): (0.647752409859083, 15.937239532378, 3, 26, 4.41145681289462e-06),
        ("am", "Wilks"): (0.352247590140917, 15.937239532378, 3, 26, 4.41145681289462e-06),
        ("am", "Hotelling-Lawley"): (1.83891225373593, 15.937239532378, 3, 26, 4.41145681289462e-06),
        ("am", "Roy"): (1.83891225373593, 15.937239532378, 3, 26, 4.41145681289462e-06),
        ("vs", "Pillai"): (0.703877743589369, 20.6005244310827, 3, 26, 4.79627953936771e-07),
        ("vs", "Wilks"): (0.29612225641063, 20.6005244310827, 3, 26, 4.7962795393676e-07),
        ("vs", "Hotelling-Lawley"): (2.37698358820186, 20.6005244310828, 3, 26, 4.79627953936755e-07),
        ("vs", "Roy"): (2.37698358820186, 20.6005244310828, 3, 26, 4.79627953936753e-07),
        ("am:vs", "Pillai"): (0.0576227382836004, 0.529933271325923, 3, 26, 0.665720727822431),
        ("am:vs", "Wilks"): (0.9423772617164, 0.529933271325923, 3, 26, 0.665720727822431),
        ("am:vs", "Hotelling-Lawley"): (0.0611461466914527, 0.529933271325923, 3, 26, 0.665720727822431),
        ("am:vs", "Roy"): (0.0611461466914527, 0.529933271325923, 3, 26, 0.665720727822431),
    },
    ("mtcars + gear block", 3): {
        ("gear", "Pillai"): (0.437640460850564, 2.33429229894601, 6, 50, 0.0459022067587928),
        ("gear", "Wilks"): (0.563468740920119, 2.65749341454612, 6, 48, 0.0262614488245969),
        ("gear", "Hotelling-Lawley"): (0.772752817837196, 2.96221913504259, 6, 46, 0.015733913453438),
        ("gear", "Roy"): (0.770196946818718, 6.41830789015598, 3, 25, 0.00225019991811083),
        ("am", "Pillai"): (0.273828910351881, 3.01668754656228, 3, 24, 0.0496081773885405),
        ("am", "Wilks"): (0.726171089648119, 3.01668754656228, 3, 24, 0.0496081773885405),
        ("am", "Hotelling-Lawley"): (0.377085943320285, 3.01668754656228, 3, 24, 0.0496081773885405),
        ("am", "Roy"): (0.377085943320285, 3.01668754656228, 3, 24, 0.0496081773885405),
        ("vs", "Pillai"): (0.564737037419381, 10.3796938580967, 3, 24, 0.000144066159850499),
        ("vs", "Wilks"): (0.435262962580619, 10.3796938580968, 3, 24, 0.000144066159850499),
        ("vs", "Hotelling-Lawley"): (1.29746173226209, 10.3796938580968, 3, 24, 0.000144066159850499),
        ("vs", "Roy"): (1.29746173226209, 10.3796938580968, 3, 24, 0.000144066159850498),
        ("am:vs", "Pillai"): (0.184310286090302, 1.80765095302606, 3, 24, 0.17269914475989),
        ("am:vs", "Wilks"): (0.815689713909698, 1.80765095302606, 3, 24, 0.17269914475989),
        ("am:vs", "Hotelling-Lawley"): (0.225956369128257, 1.80765095302606, 3, 24, 0.17269914475989),
        ("am:vs", "Roy"): (0.225956369128257, 1.80765095302606, 3, 24, 0.17269914475989),
    },
    ("OBrienKaiser", 3): {
        ("treatment", "Pillai"): (0.737385195352555, 1.75204312345708, 6, 18, 0.166215600599109),
        ("treatment", "Wilks"): (0.296270820880585, 2.2325234384535, 6, 16, 0.0933896816265433),
        ("treatment", "Hotelling-Lawley"): (2.2616913838989, 2.63863994788205, 6, 14, 0.0631743379064223),
        ("treatment", "Roy"): (2.21029608777164, 6.63088826331493, 3, 9, 0.0117282877014333),
        ("gender", "Pillai"): (0.358900861378381, 1.49285641801579, 3, 8, 0.288593828046738),
        ("gender", "Wilks"): (0.64109913862162, 1.49285641801579, 3, 8, 0.288593828046738),
        ("gender", "Hotelling-Lawley"): (0.559821156755922, 1.49285641801579, 3, 8, 0.288593828046738),
        ("gender", "Roy"): (0.559821156755922, 1.49285641801579, 3, 8, 0.288593828046738),
        ("treatment:gender", "Pillai"): (0.613632383613732, 1.32785642789299, 6, 18, 0.295521105943835),
        ("treatment:gender", "Wilks"): (0.444078228001044, 1.33498232646031, 6, 16, 0.298498642401136),
        ("treatment:gender", "Hotelling-Lawley"): (1.12189954149927, 1.30888279841581, 6, 14, 0.315835780935779),
        ("treatment:gender", "Roy"): (0.990727256375669, 2.97218176912701, 3, 9, 0.0894192675064343),
    },
    ("OBrienKaiser", 2): {
        ("treatment", "Pillai"): (0.744199503428263, 1.77782897552569, 6, 18, 0.160502488699521),
        ("treatment", "Wilks"): (0.288185029117382, 2.30077784184817, 6, 16, 0.0857234670046643),
        ("treatment", "Hotelling-Lawley"): (2.3576187854652, 2.75055524970939, 6, 14, 0.0556995007565054),
        ("treatment", "Roy"): (2.3089498649504, 6.9268495948512, 3, 9, 0.010287288838557),
        ("gender", "Pillai"): (0.308351403801601, 1.18885574937498, 3, 8, 0.373620876451294),
        ("gender", "Wilks"): (0.691648596198399, 1.18885574937498, 3, 8, 0.373620876451294),
        ("gender", "Hotelling-Lawley"): (0.445820906015617, 1.18885574937498, 3, 8, 0.373620876451294),
        ("gender", "Roy"): (0.445820906015617, 1.18885574937498, 3, 8, 0.373620876451294),
        ("treatment:gender", "Pillai"): (0.613632383613732, 1.32785642789299, 6, 18, 0.295521105943835),
        ("treatment:gender", "Wilks"): (0.444078228001044, 1.33498232646031, 6, 16, 0.298498642401136),
        ("treatment:gender", "Hotelling-Lawley"): (1.12189954149927, 1.30888279841581, 6, 14, 0.315835780935779),
        ("treatment:gender", "Roy"): (0.990727256375669, 2.97218176912701, 3, 9, 0.0894192675064343),
    },
    ("battery plain", 3): {
        ("treatment", "Pillai"): (0.509189087250434, 11.0660747813811, 3, 32, 3.84057064853029e-05),
        ("treatment", "Wilks"): (0.490810912749566, 11.0660747813811, 3, 32, 3.8405706485303e-05),
        ("treatment", "Hotelling-Lawley"): (1.03744451075448, 11.0660747813811, 3, 32, 3.8405706485303e-05),
        ("treatment", "Roy"): (1.03744451075448, 11.0660747813811, 3, 32, 3.8405706485303e-05),
        ("antibody", "Pillai"): (0.239204129192073, 3.35373890590723, 3, 32, 0.0309251567693414),
        ("antibody", "Wilks"): (0.760795870807927, 3.35373890590723, 3, 32, 0.0309251567693415),
        ("antibody", "Hotelling-Lawley"): (0.314413022428803, 3.35373890590723, 3, 32, 0.0309251567693414),
        ("antibody", "Roy"): (0.314413022428803, 3.35373890590723, 3, 32, 0.0309251567693414),
        ("treatment:antibody", "Pillai"): (0.430351615767597, 8.05833451285906, 3, 32, 0.000386500964233871),
        ("treatment:antibody", "Wilks"): (0.569648384232403, 8.05833451285906, 3, 32, 0.000386500964233871),
        ("treatment:antibody", "Hotelling-Lawley"): (0.755468860580537, 8.05833451285906, 3, 32, 0.000386500964233871),
        ("treatment:antibody", "Roy"): (0.755468860580537, 8.05833451285906, 3, 32, 0.000386500964233871),
    },
    ("battery cohort block", 3): {
        ("cohort", "Pillai"): (0.201294634236772, 2.60427016386992, 3, 31, 0.0695005351579158),
        ("cohort", "Wilks"): (0.798705365763228, 2.60427016386991, 3, 31, 0.0695005351579159),
        ("cohort", "Hotelling-Lawley"): (0.252026144890637, 2.60427016386992, 3, 31, 0.0695005351579159),
        ("cohort", "Roy"): (0.252026144890637, 2.60427016386992, 3, 31, 0.0695005351579159),
        ("treatment", "Pillai"): (0.5401831851754, 12.1393840623431, 3, 31, 2.01861944234749e-05),
        ("treatment", "Wilks"): (0.4598168148246, 12.1393840623431, 3, 31, 2.01861944234749e-05),
        ("treatment", "Hotelling-Lawley"): (1.1747791028074, 12.1393840623431, 3, 31, 2.0186194423475e-05),
        ("treatment", "Roy"): (1.1747791028074, 12.1393840623431, 3, 31, 2.0186194423475e-05),
        ("antibody", "Pillai"): (0.24385341331548, 3.33244723792065, 3, 31, 0.0320748052740525),
        ("antibody", "Wilks"): (0.75614658668452, 3.33244723792065, 3, 31, 0.0320748052740526),
        ("antibody", "Hotelling-Lawley"): (0.322494893992321, 3.33244723792065, 3, 31, 0.0320748052740525),
        ("antibody", "Roy"): (0.322494893992321, 3.33244723792065, 3, 31, 0.0320748052740525),
        ("treatment:antibody", "Pillai"): (0.441936446871519, 8.18307626805543, 3, 31, 0.000371506119276942),
        ("treatment:antibody", "Wilks"): (0.558063553128481, 8.18307626805543, 3, 31, 0.000371506119276942),
        ("treatment:antibody", "Hotelling-Lawley"): (0.79191060658601, 8.18307626805543, 3, 31, 0.000371506119276942),
        ("treatment:antibody", "Roy"): (0.79191060658601, 8.18307626805543, 3, 31, 0.000371506119276942),
    },
}
# car::Anova(lm(y ~ am * vs), type = 3) with contr.sum on mtcars, per outcome, and p.adjust(, "holm")
# across the three outcomes per effect (battery_golden.R).
MTCARS_UNIVARIATE = {
    "mpg": {"F": (23.540022336657, 31.7337007664028, 1.3282903003455),
            "p": (4.15892518344434e-05, 4.93146230538415e-06, 2.58854655585600e-01),
            "holm": (1.24767755503330e-04, 4.93146230538415e-06, 7.76563966756799e-01)},
    "qsec": {"F": (11.419133828746, 54.8737532491814, 0.0103563472685962),
             "p": (2.15487111504679e-03, 4.56319639563778e-08, 9.19667587600614e-01),
             "holm": (4.30974223009358e-03, 1.36895891869133e-07, 1.0)},
    "log(hp)": {"F": (3.76336542991976, 38.325532894114, 0.118202732393466),
                "p": (6.25202321175471e-02, 1.09705188190498e-06, 7.33560486809472e-01),
                "holm": (6.25202321175471e-02, 2.19410376380996e-06, 1.0)},
}
RTOL = 1e-6  # 6 significant digits


# ------------------------------------------------------------------------------ helpers


def write_sheet(path: Path, *, n: int = 4, outcomes: int = 3, seed: int = 3, blank: dict | None = None,
                censor_col: bool = True) -> Path:
    """A battery sheet: 2 x 2 cells of n mice, ``outcomes`` outcome columns y0..; y2 censored at 600."""
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for a in ("saline", "ketamine"):
        for b in ("IgG", "nAb"):
            for _ in range(n):
                k += 1
                rec = {"mouse": f"m{k:02d}", "treatment": a, "antibody": b, "cohort": 1 + k % 2}
                for j in range(outcomes):
                    rec[f"y{j}"] = round(float(100 + 20 * j + 10 * (a == "ketamine") + rng.normal(0, 10)), 1)
                if outcomes > 2:
                    rec["y2"] = round(float(np.exp(rng.normal(6.0, 0.4))), 1)
                    if censor_col:
                        rec["y2_cens"] = int(rec["y2"] >= 600)
                        rec["y2"] = min(rec["y2"], 600.0)
                rows.append(rec)
    frame = pd.DataFrame(rows)
    for (row, col) in (blank or {}):
        frame[col] = frame[col].astype(object)
        frame.loc[row, col] = ""
    frame.to_csv(path, index=False)
    return path


def numpy_loglik(y, mu, cov, obs, cens, nu=None):
    """The exact log-likelihood of one animal by another route: scipy's densities and the conditional
    distribution from the Schur complement."""
    obs = list(obs)
    out = 0.0
    d2 = 0.0
    if obs:
        so = cov[np.ix_(obs, obs)]
        r = y[obs] - mu[obs]
        d2 = float(r @ np.linalg.solve(so, r))
        if nu is None:
            out += stats.multivariate_normal.logpdf(y[obs], mu[obs], so)
        else:
            out += stats.multivariate_t.logpdf(y[obs], loc=mu[obs], shape=so, df=nu)
    if cens is not None:
        if obs:
            co = cov[cens, obs]
            m = mu[cens] + co @ np.linalg.solve(so, y[obs] - mu[obs])
            v = cov[cens, cens] - co @ np.linalg.solve(so, co)
        else:
            m, v = mu[cens], cov[cens, cens]
        if nu is None:
            out += stats.norm.logsf(y[cens], m, math.sqrt(v))
        else:
            p = len(obs)
            out += stats.t.logsf(y[cens], nu + p, m, math.sqrt(v * (nu + d2) / (nu + p)))
    return out


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


# ------------------------------------------------------------------------------ input


def test_an_outcome_given_twice_is_named(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv")
    with pytest.raises(DataError, match=r"column 'y0'.*given twice.*Fix: give each --outcome column once"):
        bt.analyse_battery(sheet, outcomes=["y0", "y1", "y0"], factors=["treatment", "antibody"], animal="mouse")


def test_a_censoring_flag_for_a_column_that_is_not_an_outcome_is_named(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv")
    with pytest.raises(DataError, match=r"column 'y9'.*--censored names 'y9', which is not an outcome.*Fix:.*y0, y1, y2"):
        bt.analyse_battery(sheet, outcomes=["y0", "y1", "y2"], factors=["treatment", "antibody"], animal="mouse",
                           censored={"y9": "y2_cens"})
    with pytest.raises(DataError, match=r"flag column 'y1' is itself an outcome"):
        bt.analyse_battery(sheet, outcomes=["y0", "y1", "y2"], factors=["treatment", "antibody"], animal="mouse",
                           censored={"y2": "y1"})
    with pytest.raises(DataError, match=r"--family names 'y7'"):
        bt.analyse_battery(sheet, outcomes=["y0", "y1"], factors=["treatment", "antibody"], families={"y7": "lognormal"})


def test_fewer_animals_than_outcomes_plus_cells_is_an_error_with_the_counts(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv", n=2, outcomes=5, censor_col=False)
    with pytest.raises(DesignError, match=r"8 animals are fewer than the 5 outcomes \+ 4 cells = 9.*Fix: add animals"):
        bt.analyse_battery(sheet, outcomes=[f"y{j}" for j in range(5)], factors=["treatment", "antibody"],
                           animal="mouse")
    # a fixed cohort block costs its levels - 1 too
    sheet = write_sheet(tmp_path / "c.csv", n=2, outcomes=4, censor_col=False)
    with pytest.raises(DesignError, match=r"8 animals are fewer than the 4 outcomes \+ 4 cells \+ 1 cohort"):
        bt.analyse_battery(sheet, outcomes=[f"y{j}" for j in range(4)], factors=["treatment", "antibody"],
                           animal="mouse", cohort="cohort")


def test_other_bad_input(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv")
    with pytest.raises(DesignError, match="at least two outcome columns"):
        bt.analyse_battery(sheet, outcomes=["y0"], factors=["treatment", "antibody"])
    with pytest.raises(DesignError, match=r"family of 'y1' must be one of"):
        bt.analyse_battery(sheet, outcomes=["y0", "y1"], factors=["treatment", "antibody"], families={"y1": "gamma"})
    with pytest.raises(DataError, match=r"outcome 'y0' is also given as --factor treatment|is also given"):
        bt.analyse_battery(sheet, outcomes=["treatment", "y0"], factors=["treatment", "antibody"])
    frame = pd.read_csv(sheet)
    frame.loc[1, "mouse"] = frame.loc[0, "mouse"]
    frame.to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(DataError, match=r"animal 'm01' has 2 rows.*one row per animal"):
        bt.analyse_battery(tmp_path / "dup.csv", outcomes=["y0", "y1"], factors=["treatment", "antibody"],
                           animal="mouse")
    # an outcome's own problem names the outcome
    with pytest.raises(DataError, match=r"outcome 'y1'"):
        bt.analyse_battery(sheet, outcomes=["y0", "y1"], factors=["treatment", "antibody"], animal="mouse",
                           censor_at={"y1": 50.0})


def test_an_animal_censored_on_two_outcomes_is_refused(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv", censor_col=False)
    frame = pd.read_csv(sheet).assign(c0=0, c1=0)
    frame.loc[3, ["c0", "c1"]] = 1
    frame.to_csv(sheet, index=False)
    kw = dict(outcomes=["y0", "y1"], factors=["treatment", "antibody"], animal="mouse")
    sh, per = bt.read_battery(sheet, **kw, censored={"y0": "c0", "y1": "c1"})
    with pytest.raises(DesignError, match=r"censored on 2 outcomes \(y0, y1\).*at most one censored test"):
        bt.prepare(sh, per, families={}, options=bt.BatteryOptions())


@pytest.mark.filterwarnings("ignore:.*could not link to a BLAS")
def test_animals_missing_a_test_are_kept_listed_and_marginalised(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv", n=5, blank={(0, "y0"): 1, (6, "y2"): 1, (6, "y2_cens"): 1,
                                                        (9, "y0"): 1, (9, "y1"): 1, (9, "y2"): 1, (9, "y2_cens"): 1})
    kw = dict(outcomes=["y0", "y1", "y2"], factors=["treatment", "antibody"], animal="mouse",
              censored={"y2": "y2_cens"}, positive=["y2"])
    sh, per = bt.read_battery(sheet, **kw)
    led = sh.ledger.entries.set_index("row")
    assert led.loc[2, "status"] == "used" and led.loc[8, "status"] == "used"  # m01 lacks y0, m07 lacks y2
    assert led.loc[11, "status"] == "excluded" and "missing every outcome (y0, y1, y2)" in led.loc[11, "reason"]
    options = bt.BatteryOptions(blocker="antibody")
    data = bt.prepare(sh, per, families={"y2": "lognormal"}, options=options)
    assert len(data.animals) == 19 and "m10" not in data.animals
    j1, j7 = data.animals.index("m01"), data.animals.index("m07")
    assert list(data.status[j1]) == [bt.MISSING, bt.OBSERVED, bt.OBSERVED] or data.status[j1, 2] == bt.CENSORED_CODE
    assert data.status[j7, 2] == bt.MISSING
    patterns = {(obs, cens) for _, obs, cens in data.patterns()}
    assert ((1, 2), None) in patterns or ((1,), 2) in patterns
    assert ((0, 1), None) in patterns
    twin = bt.frequentist_twin(data, options)
    notes = " ".join(bt.design_notes(data, twin))
    assert "y0: m01" in notes and "y2: m07" in notes and "leaves out m01, m07" in notes
    assert twin["manova"].n_analysed == 17
    model = bt.build_model(data, bt.resolve_priors(data, options))
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        point = model.initial_point()
    logp = model.compile_logp(mode="FAST_COMPILE")(point)
    assert np.isfinite(logp)


# ------------------------------------------------------------------------------ likelihood


@pytest.mark.parametrize("nu", [None, 4.5])
def test_the_animal_likelihood_is_the_exact_density_and_conditional_survival(nu):
    rng = np.random.default_rng(11)
    K, N = 3, 7
    A = rng.normal(size=(K, K))
    cov = A @ A.T + np.diag([0.5, 1.0, 0.3])
    chol = np.linalg.cholesky(cov)
    mu = rng.normal(size=(N, K))
    y = mu + rng.normal(size=(N, K)) @ chol.T
    # animals 0-1 complete; 2 censored on outcome 1 given 0 and 2; 3 censored on 2 given 0 and 1 (the leading
    # block); 4 missing outcome 0; 5 only the censored outcome 0; 6 observed 2 only
    patterns = [(np.array([0, 1]), (0, 1, 2), None), (np.array([2]), (0, 2), 1), (np.array([3]), (0, 1), 2),
                (np.array([4]), (1, 2), None), (np.array([5]), (), 0), (np.array([6]), (2,), None)]
    tv, tm, tl = pt.dmatrix("y"), pt.dmatrix("mu"), pt.dmatrix("L")
    tnu = pt.dscalar("nu") if nu is not None else None
    ll = bt.animal_log_likelihood(tv, tm, tl, patterns, n_animals=N, nu=tnu)
    fn = pytensor.function([tv, tm, tl] + ([tnu] if nu is not None else []), ll, mode="FAST_COMPILE")
    got = fn(y, mu, chol, *([nu] if nu is not None else []))
    for idx, obs, cens in patterns:
        for j in idx:
            want = numpy_loglik(y[j], mu[j], cov, obs, cens, nu)
            # 1e-7: PyTensor's Python erfc (FAST_COMPILE) is good to ~1e-8
            assert got[j] == pytest.approx(want, rel=1e-7, abs=1e-7), (j, obs, cens)


@pytest.mark.filterwarnings("ignore:.*could not link to a BLAS")
def test_the_model_logp_adds_the_jacobian_of_the_log_for_lognormal_values(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv", n=4)
    sh, per = bt.read_battery(sheet, outcomes=["y0", "y2"], factors=["treatment", "antibody"], animal="mouse",
                              censored={"y2": "y2_cens"}, positive=["y2"])
    options = bt.BatteryOptions()
    data = bt.prepare(sh, per, families={"y2": "lognormal"}, options=options)
    model = bt.build_model(data, bt.resolve_priors(data, options))
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        point = model.initial_point()
    fn = model.compile_fn([model[n] for n in ("log_lik_animal", "cell_mean", "sigma", "correlation")],
                          inputs=model.value_vars, mode="FAST_COMPILE", on_unused_input="ignore")
    ll, cm, sd, R = fn(point)
    cov = R * np.outer(sd, sd)
    for j in range(len(data.animals)):
        mu = cm[(slice(None), *data.animal_cells[j])]
        obs = tuple(int(k) for k in np.flatnonzero(data.status[j] == bt.OBSERVED))
        cens = next((int(k) for k in np.flatnonzero(data.status[j] == bt.CENSORED_CODE)), None)
        want = numpy_loglik(data.y[j], mu, cov, obs, cens)
        if 1 in obs:
            want -= math.log(data.value[j, 1])  # density of the latency in seconds
        assert ll[j] == pytest.approx(want, rel=1e-7)


@pytest.mark.filterwarnings("ignore:.*could not link to a BLAS")
def test_student_outcome_and_random_cohort_build_with_finite_logp_and_gradient(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv", n=5)
    frame = pd.read_csv(sheet)
    frame["cohort"] = [1 + i % 5 for i in range(len(frame))]
    frame.to_csv(sheet, index=False)
    sh, per = bt.read_battery(sheet, outcomes=["y0", "y1", "y2"], factors=["treatment", "antibody"], animal="mouse",
                              cohort="cohort", censored={"y2": "y2_cens"}, positive=["y2"])
    options = bt.BatteryOptions(blocker="antibody")
    data = bt.prepare(sh, per, families={"y1": "student", "y2": "lognormal"}, options=options)
    assert data.cohort_kind == "random" and data.student
    priors = bt.resolve_priors(data, options, {"correlation": {"eta": 1.5}, "nu": {"beta": 0.2}})
    assert priors["correlation"]["eta"] == 1.5 and "sigma_cohort[y0]" in priors
    with pytest.raises(DesignError, match="must stay HalfNormal"):
        bt.resolve_priors(data, options, {"sigma[y0]": {"dist": "Exponential", "lam": 1.0}})
    with pytest.raises(DesignError, match="no prior called 'sigma'"):
        bt.resolve_priors(data, options, {"sigma": {"sigma": 1.0}})
    model = bt.build_model(data, priors)
    assert {"nu", "sigma_cohort", "cohort_z"} <= {rv.name for rv in model.free_RVs}
    assert set(bt.free_parameters(data)) <= {rv.name for rv in model.free_RVs}
    with pytensor.config.change_flags(mode="FAST_COMPILE"):  # no C compilation in a unit test
        point = model.initial_point()
    assert np.isfinite(model.compile_logp(mode="FAST_COMPILE")(point))
    assert np.all(np.isfinite(model.compile_dlogp(mode="FAST_COMPILE")(point)))


# ------------------------------------------------------------------------------ estimand maths


def _hand_posterior(data: bt.BatteryData, cell_mean: np.ndarray, sd: np.ndarray, corr: np.ndarray) -> xr.Dataset:
    S = cell_mean.shape[0]
    coords = {"chain": [0], "draw": np.arange(S), bt.OUTCOME: list(data.outcomes),
              f"{bt.OUTCOME}_b": list(data.outcomes), **{f: list(lv) for f, lv in zip(data.factors, data.levels)}}
    return xr.Dataset({
        "cell_mean": (("chain", "draw", bt.OUTCOME, *data.factors), cell_mean[None]),
        "sigma": (("chain", "draw", bt.OUTCOME), sd[None]),
        "correlation": (("chain", "draw", bt.OUTCOME, f"{bt.OUTCOME}_b"), corr[None]),
    }, coords=coords)


def test_joint_estimands_on_hand_made_draws(tmp_path):
    sheet = write_sheet(tmp_path / "b.csv", n=4, outcomes=2, censor_col=False)
    sh, per = bt.read_battery(sheet, outcomes=["y0", "y1"], factors=["treatment", "antibody"], animal="mouse")
    data = bt.prepare(sh, per, families={}, options=bt.BatteryOptions(blocker="antibody"))
    # draw 0: effects -60 / -6 (90% blocked) and -20 / -15 (25%); draw 1: -60 / +6 (110%) and -20 / -5 (75%)
    cells = np.array([
        [[[150, 150], [90, 144]], [[50, 50], [30, 35]]],
        [[[150, 150], [90, 156]], [[50, 50], [30, 45]]],
    ], dtype=float)
    sd = np.array([[30.0, 10.0], [30.0, 10.0]])
    eye = np.stack([np.eye(2), np.array([[1, 0.5], [0.5, 1]])])
    post = _hand_posterior(data, cells, sd, eye)
    low = bt.min_blockade(post, data).values.ravel()
    assert low == pytest.approx([25.0, 75.0])
    maha = bt.mahalanobis_interaction(post, data).values.ravel()
    d0 = np.array([54.0, 5.0]) / sd[0]
    assert maha[0] == pytest.approx(math.sqrt(d0 @ d0))
    d1 = np.array([66.0, 15.0])
    cov = eye[1] * np.outer(sd[1], sd[1])
    assert maha[1] == pytest.approx(math.sqrt(d1 @ np.linalg.solve(cov, d1)))
    table = bt.joint_table(post, data, bt.BatteryOptions(blocker="antibody"))
    joint = table[table["name"] == "joint_probability"].set_index("cell")["mean"]
    assert joint["blocking_direction"] == 1.0 and joint["blockade_above_50"] == 0.5
    corr = table[table["name"] == "residual_correlation"]
    assert corr["cell"].tolist() == ["y0|y1"] and corr["mean"].iloc[0] == pytest.approx(0.25)


# ------------------------------------------------------------------------------ MANOVA vs R


def _check_manova(table: pd.DataFrame, golden: dict) -> float:
    worst = 0.0
    for (term, test), (stat, F, df1, df2, p) in golden.items():
        row = table[(table["effect"] == term) & (table["test"] == test)].iloc[0]
        for got, want in ((row["statistic"], stat), (row["F"], F), (row["df_num"], df1), (row["df_den"], df2),
                          (row["p"], p)):
            assert got == pytest.approx(want, rel=RTOL), (term, test, got, want)
            worst = max(worst, _rel(got, want))
    assert set(table["effect"]) == {t for t, _ in golden}
    return worst


@pytest.fixture(scope="module")
def mtcars() -> pd.DataFrame:
    f = pd.read_csv(FIXTURES / "battery_mtcars.csv")
    f["log(hp)"] = np.log(f["hp"])
    f["am"] = pd.Categorical(f["am"], categories=["automatic", "manual"])
    f["vs"] = pd.Categorical(f["vs"], categories=["V", "straight"])
    f["gear"] = pd.Categorical(f["gear"].astype(str))
    return f


def test_manova_equals_car_manova_on_mtcars(mtcars):
    y = ["mpg", "qsec", "log(hp)"]
    for ss in (3, 2):
        res = bt.manova(mtcars, outcomes=y, factors=["am", "vs"], ss_type=ss)
        _check_manova(res.table, GOLDEN[("mtcars", ss)])
        assert res.error_df == 28 and res.n_analysed == 32
    res = bt.manova(mtcars, outcomes=y, factors=["am", "vs"], block="gear")
    _check_manova(res.table, GOLDEN[("mtcars + gear block", 3)])
    assert list(dict.fromkeys(res.table["effect"])) == ["gear", "am", "vs", "am:vs"]


def test_manova_equals_car_manova_on_obrien_kaiser_3x2():
    f = pd.read_csv(FIXTURES / "battery_obk.csv")
    f["treatment"] = pd.Categorical(f["treatment"], categories=["control", "A", "B"])
    f["gender"] = pd.Categorical(f["gender"], categories=["F", "M"])
    for ss in (3, 2):
        res = bt.manova(f, outcomes=["pre", "post", "fup"], factors=["treatment", "gender"], ss_type=ss)
        _check_manova(res.table, GOLDEN[("OBrienKaiser", ss)])


def test_univariate_anovas_with_holm_across_outcomes_equal_r(mtcars):
    effects = ["am", "vs", "am:vs"]
    ps = {}
    for y, want in MTCARS_UNIVARIATE.items():
        tab = between.factorial_anova(mtcars.rename(columns={y: "dv"}), dv="dv", factors=["am", "vs"]).table
        tab = tab.set_index("effect").loc[effects]
        assert tab["F"].to_numpy() == pytest.approx(want["F"], rel=RTOL)
        assert tab["p"].to_numpy() == pytest.approx(want["p"], rel=RTOL)
        ps[y] = tab["p"].to_numpy()
    for i in range(len(effects)):
        adj = bt.holm([ps[y][i] for y in MTCARS_UNIVARIATE])
        assert adj == pytest.approx([MTCARS_UNIVARIATE[y]["holm"][i] for y in MTCARS_UNIVARIATE], rel=RTOL)


# ------------------------------------------------------------------------------ the shipped study


@pytest.fixture(scope="module")
def shipped_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("battery") / "report"
    # units for FST and NSFT, none for FUST: each outcome's numbers carry its own
    code = main([*CLI_ARGS, "--unit", "fst_immobility_s=s", "--unit", "nsft_latency_s=s", "--out", str(out),
                 "--draws", "500", "--tune", "500", "--chains", "2", "--quiet"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def shipped(shipped_folder):
    return load_result(shipped_folder)


def test_the_cli_writes_a_report_with_the_joint_claim(shipped_folder):
    files = {p.relative_to(shipped_folder).as_posix() for p in shipped_folder.rglob("*") if p.is_file()}
    assert {"report.html", "report.md", "results.json", "posterior.nc", "figures/battery.png",
            "tables/frequentist_manova.csv", "tables/frequentist_univariate_anova.csv", "tables/survival.csv",
            "tables/descriptives.csv"} <= files
    doc = json.loads((shipped_folder / "results.json").read_text())
    assert doc["design"] == "battery" and doc["diagnostics"]["passed"]
    names = {e["name"] for e in doc["estimates"]}
    assert {"joint_probability", "residual_correlation", "mahalanobis_interaction", "min_blockade_pct",
            "interaction", "blockade_pct", "simple_effect"} <= names
    md = (shipped_folder / "report.md").read_text().replace("*P*(", "P(")  # report.md writes P in italics
    assert "Joint claim, from the one model of all the tests: P(the treatment × antibody interaction is in the " \
           "blocking direction on every one of the 3 outcomes" in md
    assert "MANOVA of fst_immobility_s, fust_sniffing_s and log(nsft_latency_s) (Pillai's trace" in md
    assert "Holm-adjusted" in md and "Kaplan-Meier" in md


def test_each_outcome_carries_its_own_unit_in_text_verdict_and_axes(shipped_folder, shipped):
    from bayes_igf1.report.format import decimals_for, fmt_interval, fmt_number

    assert shipped.settings["units"] == {"fst_immobility_s": "s", "nsft_latency_s": "s"}
    md = (shipped_folder / "report.md").read_text()
    e = shipped.estimates
    nb = "\u00a0"

    def interaction(outcome):
        return e[(e["name"] == "interaction") & e["group"].str.startswith(outcome + "/")].iloc[0]

    def numbers(r, unit):
        d = decimals_for(r["ci_low"], r["ci_high"])
        return (f"{fmt_number(r['median'], d, sign=True)}{unit} (posterior median; 95% HDI "
                f"{fmt_interval(r['ci_low'], r['ci_high'], d, unit=unit)};")

    fst, fust, nsft = (interaction(o) for o in OUTCOMES)
    assert fst["scale"] == fust["scale"] == "difference of differences" and "ratio" in nsft["scale"]
    # seconds after the FST difference and its bounds; FUST has no unit; the NSFT ratio of ratios has none
    assert "(difference of differences): " + numbers(fst, nb + "s") in md
    assert "(difference of differences): " + numbers(fust, "") in md
    assert "(ratio of ratios): " + fmt_number(nsft["median"], decimals_for(nsft["ci_low"], nsft["ci_high"])) \
           + " (posterior median; 95% HDI" in md
    assert md.count(nb + "s (posterior median;") == 1  # only FST's interaction (blockades are in %)
    # the verdict's intervals: FST's in s, FUST's and the NSFT ratios without
    _, why = get_design("battery").verdict(shipped, "blocked")
    parts = dict(p.split(": ", 1) for p in why.split("; ")[:3])
    assert parts["fst_immobility_s"].count(nb + "s,") == 2
    assert nb not in parts["fust_sniffing_s"] and nb not in parts["nsft_latency_s"]
    # the figure: the unit on the FST interaction's axis only
    fig = bt.battery_figure(shipped)
    axis = {ax.get_title(loc="left").split(":")[0]: ax.get_xlabel().split("\n")[0] for ax in fig.axes
            if ax.get_title(loc="left").endswith(": interaction")}
    assert axis == {"fst_immobility_s": "difference of differences (s)", "fust_sniffing_s": "difference of differences",
                    "nsft_latency_s": str(nsft["scale"])}


def test_gate_covers_the_correlations_and_the_joint_estimands(shipped):
    table = shipped.diagnostics.table
    gated = set(table["variable"])
    assert {"cell_mean", "chol_cov", "cohort_z", "estimand:correlation", "estimand:sigma",
            "estimand:mahalanobis_interaction", "estimand:min_blockade_pct", "estimand:o2_interaction",
            "estimand:o0_blockade_pct"} <= gated
    assert shipped.diagnostics.passed and shipped.diagnostics.divergences == 0


def test_joint_probabilities_are_those_of_the_stored_draws(shipped):
    e = shipped.estimates
    low = shipped.tree["estimands"]["min_blockade_pct"].values.ravel()
    joint = e[e["name"] == "joint_probability"].set_index("cell")["mean"]
    assert joint["blocking_direction"] == pytest.approx(np.mean(low > 0))
    assert joint["blockade_above_50"] == pytest.approx(np.mean(low > 50))
    per = e[e["name"] == "blockade_pct"]["prob_above"]
    assert joint["blockade_above_50"] <= per.min() + 1e-12  # all three cannot be likelier than the least
    store = shipped.tree["estimands"]
    blk = [store[v].values.reshape(-1) for v in store.data_vars if store[v].attrs.get("name") == "blockade_pct"]
    assert len(blk) == 3 and np.allclose(np.minimum.reduce(blk), low)
    # the shipped truth: the nAb blocks ketamine on every test (data/README.md)
    assert joint["blocking_direction"] > 0.9


def test_the_twin_is_r_on_the_shipped_data(shipped):
    _check_manova(shipped.frequentist_extra["manova"], GOLDEN[("battery cohort block", 3)])
    _check_manova(shipped.frequentist_extra["manova_all_tests_plain"], GOLDEN[("battery plain", 3)])
    assert shipped.anova_data["block"] == "cohort" and shipped.anova_data["n_analysed"] == 38
    uni = shipped.frequentist_extra["univariate_anova"]
    for effect, rows in uni.groupby("effect"):
        assert rows["p_holm"].to_numpy() == pytest.approx(bt.holm(rows["p"].to_numpy()))
    # the censored outcome's log-rank / Cox: the factorial's survival twin on the NSFT column
    b = pd.read_csv(DATA / "behaviour_battery.csv")
    b["treatment"] = pd.Categorical(b["treatment"], categories=["saline", "ketamine"])
    b["antibody"] = pd.Categorical(b["antibody"], categories=["IgG", "IGF-1 nAb"])
    b["event"] = b["nsft_censored"] == 0
    surv = between.censored_tests(b, time="nsft_latency_s", event="event", factors=["treatment", "antibody"])
    got = shipped.frequentist_extra["logrank"]
    assert got["chisq"].to_numpy() == pytest.approx(surv["logrank"]["chisq"].to_numpy(), rel=1e-12)
    assert shipped.frequentist_extra["cox"]["p"].to_numpy() == pytest.approx(surv["cox"]["p"].to_numpy(), rel=1e-12)


def test_checks_cover_each_outcome_and_the_correlations(shipped):
    ppc = pd.DataFrame(shipped.checks["ppc"]["statistics"])
    assert (ppc["statistic"] == "within-cell correlation").sum() == 3
    assert ppc["group"].str.startswith("nsft_latency_s: ").any()
    assert "share censored" in set(ppc["statistic"])
    loo = shipped.checks["loo"]
    assert loo["n_obs"] == 38 and np.isfinite(loo["elpd_loo"])
    bf = shipped.checks["bayes_factor"]
    assert list(bf["outcome"]) == OUTCOMES and (bf["BF10"] > 0).all()
    verdict, why = get_design("battery").verdict(shipped, "blocked")
    assert verdict in ("supported", "undecided", "not supported") and "P(blocking direction on every test)" in why


def test_a_reloaded_result_renders_again(shipped, tmp_path):
    from bayes_igf1.report.writer import write_report

    files = write_report(shipped, tmp_path / "again", figures=True)
    assert "figures/battery.png" in files and (tmp_path / "again" / "report.html").is_file()
    design = get_design("battery")
    assert design.finding(shipped).startswith("P(the treatment × antibody interaction is in the blocking direction")


def test_cli_bad_input_exits_2_naming_the_column(tmp_path, capsys):
    out = tmp_path / "o"
    args = [a if a != "nsft_latency_s=nsft_censored" else "nsft_latency=nsft_censored" for a in CLI_ARGS]
    assert main([*args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--censored names 'nsft_latency', which is not an outcome" in err and "Fix:" in err
    dup = CLI_ARGS[:2] + ["--outcome", "fst_immobility_s"] + CLI_ARGS[2:]
    assert main([*dup, "--out", str(out), "--quiet"]) == 2
    assert "the outcome 'fst_immobility_s' is given twice" in capsys.readouterr().err
    assert main([*CLI_ARGS, "--unit", "nonexistent=s", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--unit names 'nonexistent', which is not an outcome" in err and "Fix: write --unit OUTCOME=TEXT" in err
    assert not out.exists()


# ------------------------------------------------------------------------------ recovery


TRUE_CORR = np.array([[1.0, -0.2, 0.5], [-0.2, 1.0, 0.0], [0.5, 0.0, 1.0]])
TRUE_MEANS = {
    "fst": {"saline|IgG": 150.0, "saline|nAb": 153.0, "ketamine|IgG": 90.0, "ketamine|nAb": 146.0},
    "fust": {"saline|IgG": 25.0, "saline|nAb": 24.0, "ketamine|IgG": 45.0, "ketamine|nAb": 27.0},
    "nsft": {"saline|IgG": 360.0, "saline|nAb": 370.0, "ketamine|IgG": 180.0, "ketamine|nAb": 345.0},
}


@pytest.fixture(scope="module")
def recovery(tmp_path_factory):
    frame, truth = bt.simulate_battery(cell_means=TRUE_MEANS, residual_sd={"fst": 30.0, "fust": 10.0, "nsft": 0.5},
                                       correlation=TRUE_CORR, n_per_cell=15, families={"nsft": "lognormal"},
                                       censor_at={"nsft": 600.0}, seed=20220412)
    result = bt.analyse_battery(frame, outcomes=["fst", "fust", "nsft"], factors=["treatment", "antibody"],
                                animal="mouse", censored={"nsft": "nsft_censored"}, families={"nsft": "lognormal"},
                                blocker="antibody", sensitivity=False, seed=5, **FAST)
    return result, truth, frame


def test_recovery_of_a_known_correlation_and_known_interactions(recovery):
    result, truth, frame = recovery
    assert frame["nsft_censored"].sum() > 0  # the censored outcome is censored
    assert result.diagnostics.passed
    e = result.estimates
    corr = e[e["name"] == "residual_correlation"].set_index("cell")
    r = corr.loc["fst|nsft"]
    assert r["ci_low"] < 0.5 < r["ci_high"] and r["ci_low"] > 0  # 0.5, and credibly positive
    for o in ("fst", "fust", "nsft"):
        row = e[(e["name"] == "interaction") & (e["group"] == f"{o}/treatment:antibody")].iloc[0]
        true = truth["interaction"][o]
        true = math.exp(true) if o == "nsft" else true  # a ratio of ratios for the lognormal outcome
        assert row["ci_low"] < true < row["ci_high"], (o, true, row["ci_low"], row["ci_high"])


@pytest.mark.slow
def test_sbc_coverage_and_joint_probability_calibration():
    """200 simulated studies of the shipped design (truth from the frozen priors; record:
    benchmarks/calibration/battery): 95% intervals cover at 95 +/- 3% on average, no rank histogram
    far from uniform, and the joint probability matches how often the joint event held."""
    cal, joint = bt.calibrate_battery(DATA, n_sims=200, draws=1000, tune=1000, chains=2, seed=20220412)
    cov = cal.coverage[cal.coverage["level"] == 0.95]["coverage"]
    assert abs(cov.mean() - 0.95) <= 0.03 and cov.min() >= 0.88
    assert cal.uniformity["p"].min() > 0.001
    assert cal.failed_gate <= 0.05 * cal.n_sims
    summary = bt.joint_calibration(joint)
    for key in ("predicted", "predicted_above_50"):
        s = summary[key]
        se = math.sqrt(max(s["observed_frequency"] * (1 - s["observed_frequency"]), 0.01) / len(joint))
        assert abs(s["mean_predicted"] - s["observed_frequency"]) < 3 * se


# ------------------------------------------------------------------------------ long format (issue 13 item 1)


LONG_FACTORS = dict(factors=["treatment", "antibody"], animal="mouse", cohort="cohort")


def _long_battery(names: dict[str, str] | None = None) -> pd.DataFrame:
    """data/behaviour_battery.csv melted: one row per mouse and test, one censoring flag for the row's test."""
    wide = pd.read_csv(DATA / "behaviour_battery.csv")
    names = names or {o: o for o in OUTCOMES}
    long = wide.melt(id_vars=["mouse", "cohort", "treatment", "antibody", "nsft_censored"], value_vars=OUTCOMES,
                     var_name="test", value_name="value")
    long["censored"] = np.where(long["test"] == "nsft_latency_s", long["nsft_censored"], 0)
    long["test"] = long["test"].map(names)
    return long.drop(columns="nsft_censored")


@pytest.fixture(scope="module")
def shipped_long_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("battery_long")
    _long_battery().to_csv(folder / "long.csv", index=False)
    out = folder / "report"
    args = ["battery", str(folder / "long.csv"), "--test", "test", "--value", "value", "--censored", "censored",
            "--family", "nsft_latency_s=lognormal", "--unit", "nsft_latency_s=s", "--factor", "treatment", "--factor",
            "antibody", "--animal", "mouse", "--cohort", "cohort", "--blocker", "antibody"]
    assert main([*args, "--out", str(out), "--draws", "500", "--tune", "500", "--chains", "2", "--quiet"]) == 0
    return out


def test_the_long_sheet_gives_the_same_estimates_as_the_wide_one(shipped, shipped_long_folder):
    long = load_result(shipped_long_folder)
    assert long.settings["test"] == "test" and long.settings["outcomes"] == OUTCOMES
    assert long.settings["units"] == {"nsft_latency_s": "s"}  # --unit keyed by the test
    pd.testing.assert_frame_equal(long.estimates, shipped.estimates, check_exact=True)
    ledger = long.sheet.ledger.entries
    assert len(ledger) == 3 * 38 and (ledger["status"] == "used").all()


def test_long_format_levels_order_ledger_and_per_test_options():
    names = {"fst_immobility_s": "FST", "fust_sniffing_s": "FUST", "nsft_latency_s": "NSFT"}
    long = _long_battery(names)
    extra = pd.DataFrame([
        {"mouse": "B01", "cohort": 1, "treatment": "saline", "antibody": "IgG", "test": "OFT", "value": 3.0,
         "censored": 0},  # a test not analysed
        {"mouse": "B02", "cohort": 1, "treatment": "saline", "antibody": "IgG", "test": None, "value": 3.0,
         "censored": 0},  # no test named
    ])
    long.loc[long.index[(long["mouse"] == "B03") & (long["test"] == "FUST")], "value"] = np.nan  # a missing value
    long = pd.concat([long, extra], ignore_index=True)
    assert bt.long_outcomes(long, test="test", value="value", animal="mouse") == ("FST", "FUST", "NSFT", "OFT")
    sheet, per = bt.read_battery(long, test="test", value="value", outcomes=["NSFT", "FST"], censored="censored",
                                 censor_at={"NSFT": 600}, positive=["NSFT"], **LONG_FACTORS)
    assert list(sheet.frame["outcome"].cat.categories) == ["NSFT", "FST"] and set(per) == {"NSFT", "FST"}
    ledger = sheet.ledger.entries
    assert len(ledger) == len(long) and ledger["row"].tolist() == list(range(2, len(long) + 2))
    reasons = dict(zip(ledger["row"], ledger["reason"], strict=True))
    fust_rows = [r + 2 for r in long.index[long["test"] == "FUST"]]
    assert all("'FUST' not analysed" in reasons[r] and "--outcome FUST" in reasons[r] for r in fust_rows)
    assert "'OFT' not analysed" in reasons[len(long)] and reasons[len(long) + 1] == "missing test (test)"
    assert (ledger["status"] == "used").sum() == 2 * 38
    # the flag column applies to each row's own test: only NSFT rows are censored
    assert sheet.frame.loc[sheet.frame["censored"], "outcome"].eq("NSFT").all() and sheet.frame["censored"].any()
    # all tests with the missing FUST value: that row is excluded as a missing value, its mouse kept
    sheet, _ = bt.read_battery(long.iloc[:-2], test="test", value="value", outcomes=None, censored="censored",
                               **LONG_FACTORS)
    row = int(long.index[(long["mouse"] == "B03") & (long["test"] == "FUST")][0]) + 2
    entry = sheet.ledger.entries.set_index("row").loc[row]
    assert entry["status"] == "excluded" and entry["reason"] == "missing value (value)"
    assert (sheet.frame["animal"] == "B03").sum() == 2


def test_long_format_bad_input_is_named_with_its_fix():
    long = _long_battery({"fst_immobility_s": "FST", "fust_sniffing_s": "FUST", "nsft_latency_s": "NSFT"})
    kw = dict(test="test", value="value", censored="censored", **LONG_FACTORS)
    with pytest.raises(DataError, match=r"the test column 'test' has one level \('FST'\): a battery needs at least "
                                        r"two tests") as err:
        bt.read_battery(long[long["test"] == "FST"], outcomes=None, **kw)
    assert err.value.column == "test" and err.value.fix
    with pytest.raises(DataError, match=r"--outcome 'NSF' is not a level of the test column 'test'") as err:
        bt.read_battery(long, outcomes=["FST", "NSF"], **kw)
    assert "FST, FUST, NSFT" in err.value.fix
    with pytest.raises(DataError, match=r"write --outcome NSFT"):
        bt.analyse_battery(long, outcomes=["FST", "nsft"], **kw)
    twice = pd.concat([long, long[(long["mouse"] == "B05") & (long["test"] == "FUST")].assign(value=30.0)],
                      ignore_index=True)
    first = int(long.index[(long["mouse"] == "B05") & (long["test"] == "FUST")][0]) + 2
    with pytest.raises(DataError, match=rf"animal 'B05' has two rows for the test 'FUST' \(rows {first} and "
                                        rf"{len(twice) + 1}\)") as err:
        bt.read_battery(twice, outcomes=None, **kw)
    assert err.value.row == len(twice) + 1 and "one row per animal and test" in err.value.fix
    moved = long.copy()
    moved.loc[(moved["mouse"] == "B01") & (moved["test"] == "NSFT"), "antibody"] = "IGF-1 nAb"
    nsft_row = int(moved.index[(moved["mouse"] == "B01") & (moved["test"] == "NSFT")][0]) + 2
    with pytest.raises(DataError, match=rf"animal 'B01' has antibody=IgG on 'FST' \(row 2\) but antibody=IGF-1 "
                                        rf"nAb on 'NSFT' \(row {nsft_row}\)") as err:
        bt.read_battery(moved, outcomes=None, **kw)
    assert err.value.column == "antibody" and "keeps its group" in err.value.fix
    with pytest.raises(DataError, match=r"--where test=\.\.\. filters the test column 'test'"):
        bt.read_battery(long, outcomes=None, where=["test=FST"], **kw)
    with pytest.raises(DesignError, match="--test is given without --value"):
        bt.read_battery(long, outcomes=None, test="test", factors=["treatment", "antibody"], animal="mouse")
    with pytest.raises(DataError, match="needs the animal column"):
        bt.read_battery(long, outcomes=None, test="test", value="value", factors=["treatment", "antibody"])
    with pytest.raises(DataError, match=r"--family names 'nsft', which is not an outcome"):
        bt.analyse_battery(long, outcomes=None, families={"nsft": "lognormal"}, **kw)


def test_cli_long_format_bad_input_exits_2(tmp_path, capsys):
    path = tmp_path / "long.csv"
    long = _long_battery({"fst_immobility_s": "FST", "fust_sniffing_s": "FUST", "nsft_latency_s": "NSFT"})
    long[long["test"] == "NSFT"].to_csv(path, index=False)
    out = tmp_path / "o"
    args = ["battery", str(path), "--test", "test", "--value", "value", "--censored", "censored", "--factor",
            "treatment", "--factor", "antibody", "--animal", "mouse", "--out", str(out), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "a battery needs at least two tests" in err and "Fix:" in err
    assert not out.exists()
