"""Tests of bayes_igf1.simulate: shipped files, determinism, structure, and truth."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_igf1.constants import DEFAULT_SEED
from bayes_igf1.errors import DesignError
from bayes_igf1.simulate import (
    STUDY_FILES,
    simulate_factorial,
    simulate_timecourse,
    write_study_data,
)

DATA = Path(__file__).resolve().parent.parent / "data"
#: Tolerance of the large-n truth checks, in standard errors (two-sided, ~6e-5 per check).
K_SE = 4.0

TC_EFFECTS = {
    "saline": [0.02, 0.0, -0.02, -0.03, -0.01, -0.04],
    "ketamine 10": [0.37, 0.5, 0.47, 0.4, 0.34, 0.18],
    "ketamine 30": [0.64, 0.77, 0.79, 0.74, 0.69, 0.62],
}
FST_MEANS = {
    ("saline", "IgG"): 150.0,
    ("saline", "IGF-1 nAb"): 153.0,
    ("ketamine", "IgG"): 90.0,
    ("ketamine", "IGF-1 nAb"): 146.0,
}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, keep_default_na=False, dtype=str)


def _timecourse(seed: int, **kw):
    args: dict = dict(
        n_per_group={"saline": 7, "ketamine 10": 8, "ketamine 30": 6},
        baseline_log_mean=math.log(18.0),
        animal_sd=0.4,
        residual_sd=0.13,
        residual_nu=5.0,
        effects=TC_EFFECTS,
        lloq=8.0,
        p_lost=0.02,
        seed=seed,
    )
    args.update(kw)
    return simulate_timecourse(**args)


def _factorial(seed: int, **kw):
    args: dict = dict(
        cell_means=FST_MEANS,
        n_per_cell=10,
        residual_sd=30.0,
        factor_names=("treatment", "antibody"),
        cohorts=3,
        cohort_sd=5.0,
        bounds=(0.0, 240.0),
        seed=seed,
    )
    args.update(kw)
    return simulate_factorial(**args)


# ----------------------------------------------------------------------------- regeneration


def test_regenerate_matches_shipped_bytes(tmp_path: Path) -> None:
    paths = write_study_data(tmp_path, seed=DEFAULT_SEED)
    assert [p.name for p in paths] == list(STUDY_FILES)
    for path in paths:
        shipped = DATA / path.name
        assert shipped.exists(), f"{shipped} missing: regenerate with write_study_data('data')"
        assert path.read_bytes() == shipped.read_bytes(), f"{path.name} differs from data/"


def test_shipped_files_are_plain_text() -> None:
    for name in STUDY_FILES:
        raw = (DATA / name).read_bytes()
        assert b"\r" not in raw
        assert raw.endswith(b"\n")
        raw.decode("ascii")


def test_write_study_data_other_seed_differs(tmp_path: Path) -> None:
    write_study_data(tmp_path / "a", seed=1)
    write_study_data(tmp_path / "b", seed=1)
    write_study_data(tmp_path / "c", seed=2)
    for name in STUDY_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


# ----------------------------------------------------------------------------- determinism


def test_timecourse_same_seed_same_data() -> None:
    a, ta = _timecourse(7)
    b, tb = _timecourse(7)
    c, _ = _timecourse(8)
    pd.testing.assert_frame_equal(a, b)
    assert ta == tb
    assert not a["igf1_pg_ml"].equals(c["igf1_pg_ml"])


def test_factorial_same_seed_same_data() -> None:
    a, ta = _factorial(7)
    b, tb = _factorial(7)
    c, _ = _factorial(8)
    pd.testing.assert_frame_equal(a, b)
    assert ta == tb
    assert not np.allclose(a["value"], c["value"])


def test_timecourse_lost_draws_do_not_change_values() -> None:
    a, _ = _timecourse(3, p_lost=0.0)
    b, _ = _timecourse(3, p_lost=0.3)
    kept = b["igf1_pg_ml"].notna()
    assert kept.sum() < len(b)
    pd.testing.assert_series_equal(a["igf1_pg_ml"][kept], b["igf1_pg_ml"][kept])


# ----------------------------------------------------------------------------- shipped structure


def test_microdialysis_structure() -> None:
    d = _read("microdialysis_igf1.csv")
    assert list(d.columns) == ["mouse", "treatment", "hour", "igf1_pg_ml"]
    assert list(dict.fromkeys(d["treatment"])) == ["saline", "ketamine 10", "ketamine 30"]
    assert d["mouse"].str.fullmatch(r"M\d{2}").all()
    per_mouse = d.groupby("mouse")
    assert (per_mouse.size() == 8).all()
    assert (per_mouse["treatment"].nunique() == 1).all()
    for _, g in per_mouse:
        assert sorted(g["hour"].astype(int)) == [-2, -1, 1, 2, 3, 4, 5, 6]
    n = d.groupby("treatment")["mouse"].nunique()
    assert n.between(6, 8).all() and n.sum() == 21
    lost = d["igf1_pg_ml"] == ""
    text = d["igf1_pg_ml"].str.startswith("<")
    assert 2 <= lost.sum() <= 4
    assert 2 <= text.sum() <= 5
    assert set(d.loc[text, "igf1_pg_ml"]) == {"<8.0", "<LLOQ"}
    values = d.loc[~lost & ~text, "igf1_pg_ml"]
    assert values.str.fullmatch(r"\d+\.\d").all()
    assert (values.astype(float) >= 8.0).all()


def test_microdialysis_shows_ketamine_rise() -> None:
    d = _read("microdialysis_igf1.csv")
    y = pd.to_numeric(d["igf1_pg_ml"], errors="coerce")
    y[d["igf1_pg_ml"].str.startswith("<")] = 8.0
    d = d.assign(hour=d["hour"].astype(int), ly=np.log(y))
    base = d[d["hour"] < 0].groupby("mouse")["ly"].mean()
    d["lr"] = d["ly"] - d["mouse"].map(base)
    gm = d[d["hour"] > 0].groupby(["treatment", "hour"])["lr"].mean()
    for h in range(1, 6):
        assert gm[("ketamine 10", h)] - gm[("saline", h)] > math.log(1.15)
    for h in range(1, 7):
        assert gm[("ketamine 30", h)] - gm[("saline", h)] > math.log(1.15)
    assert gm["ketamine 30"].mean() > gm["ketamine 10"].mean()
    assert abs(gm["saline"].mean()) < math.log(1.2)


def _check_2x2(d: pd.DataFrame, a: str, n_range: tuple[int, int]) -> None:
    counts = d.groupby([a, "antibody"]).size()
    assert len(counts) == 4
    assert counts.between(*n_range).all()


def test_fst_structure_and_minutes() -> None:
    fst = _read("fst_igf1_nab.csv")
    mins = _read("fst_igf1_nab_minutes.csv")
    ids = ["mouse", "cohort", "treatment", "antibody"]
    assert list(fst.columns) == [*ids, "immobility_s"]
    assert list(mins.columns) == [*ids, "minute", "immobility_s"]
    assert list(dict.fromkeys(fst["treatment"])) == ["saline", "ketamine"]
    assert list(dict.fromkeys(fst["antibody"])) == ["IgG", "IGF-1 nAb"]
    assert fst["mouse"].is_unique
    _check_2x2(fst, "treatment", (8, 11))
    assert fst.groupby(["treatment", "antibody"]).size().nunique() > 1  # unequal
    assert fst["cohort"].astype(int).nunique() in (2, 3)
    total = fst["immobility_s"].astype(float)
    assert total.between(0, 240).all()

    m = mins.assign(minute=mins["minute"].astype(int), tenths=mins["immobility_s"].astype(float))
    for _, g in m.groupby("mouse"):
        assert list(g["minute"]) == [1, 2, 3, 4, 5, 6]
    assert m["tenths"].between(0, 60).all()
    assert mins[ids].drop_duplicates().reset_index(drop=True).equals(fst[ids])
    # exact: compare in integer tenths of a second
    tenths = (m["immobility_s"].str.replace(".", "", regex=False)).astype(int)
    last4 = tenths[m["minute"] >= 3].groupby(m["mouse"]).sum()
    expected = fst.set_index("mouse")["immobility_s"].str.replace(".", "", regex=False).astype(int)
    assert last4.reindex(expected.index).equals(expected)


def _sample_effects(d: pd.DataFrame, a: str, y: pd.Series) -> dict:
    means = y.groupby([d[a], d["antibody"]]).mean()
    a0, a1 = list(dict.fromkeys(d[a]))
    b0, b1 = list(dict.fromkeys(d["antibody"]))
    under_ref = means[(a1, b0)] - means[(a0, b0)]
    under_nab = means[(a1, b1)] - means[(a0, b1)]
    return {"control": under_ref, "nab": under_nab, "blockade": 100 * (1 - under_nab / under_ref)}


def test_fst_shows_blockade() -> None:
    fst = _read("fst_igf1_nab.csv")
    e = _sample_effects(fst, "treatment", fst["immobility_s"].astype(float))
    assert e["control"] < -30
    assert e["blockade"] > 50


def test_battery_structure_and_findings() -> None:
    b = _read("behaviour_battery.csv")
    assert list(b.columns) == [
        "mouse", "cohort", "treatment", "antibody",
        "fst_immobility_s", "fust_sniffing_s", "nsft_latency_s", "nsft_censored",
    ]  # fmt: skip
    assert b["mouse"].is_unique
    assert not set(b["mouse"]) & set(_read("fst_igf1_nab.csv")["mouse"])  # other mice
    _check_2x2(b, "treatment", (8, 11))
    assert b["cohort"].astype(int).nunique() in (2, 3)
    fst = b["fst_immobility_s"].astype(float)
    fust = b["fust_sniffing_s"].astype(float)
    lat = b["nsft_latency_s"].astype(float)
    cens = b["nsft_censored"].astype(int)
    assert fst.between(0, 240).all() and fust.between(0, 180).all()
    assert set(cens) <= {0, 1}
    assert 4 <= cens.sum() <= 10
    assert (lat[cens == 1] == 600.0).all() and (lat[cens == 0] < 600.0).all() and (lat > 0).all()
    ketamine_igg = (b["treatment"] == "ketamine") & (b["antibody"] == "IgG")
    assert cens[ketamine_igg].sum() < cens[~ketamine_igg].sum()

    e = _sample_effects(b, "treatment", fst)
    assert e["control"] < -30 and e["blockade"] > 50
    e = _sample_effects(b, "treatment", fust)
    assert e["control"] > 10 and e["blockade"] > 50
    e = _sample_effects(b, "treatment", np.log(lat))
    assert e["control"] < math.log(0.75) and e["blockade"] > 50


def test_crossover_structure_and_findings() -> None:
    x = _read("bdnf_igf1_crossover.csv")
    assert list(x.columns) == ["mouse", "experiment", "infusion", "antibody", "immobility_s"]
    assert x["mouse"].is_unique
    assert list(dict.fromkeys(x["experiment"])) == ["BDNF x IGF-1 nAb", "IGF-1 x BDNF nAb"]
    levels = {
        "BDNF x IGF-1 nAb": (["vehicle", "BDNF"], ["IgG", "IGF-1 nAb"]),
        "IGF-1 x BDNF nAb": (["vehicle", "IGF-1"], ["IgG", "BDNF nAb"]),
    }
    for name, g in x.groupby("experiment"):
        assert list(dict.fromkeys(g["infusion"])) == levels[name][0]
        assert list(dict.fromkeys(g["antibody"])) == levels[name][1]
        _check_2x2(g, "infusion", (8, 10))
        y = g["immobility_s"].astype(float)
        assert y.between(0, 240).all()
        e = _sample_effects(g, "infusion", y)
        assert e["control"] < -25 and e["nab"] < -25
        assert -50 <= e["blockade"] <= 50


def test_truth_json() -> None:
    raw = (DATA / "truth.json").read_text()
    truth = json.loads(raw)
    assert raw == json.dumps(truth, indent=2, sort_keys=True) + "\n"
    assert truth["seed"] == DEFAULT_SEED
    assert truth["generator"] == "bayes_igf1.simulate.write_study_data"
    files = truth["files"]
    assert set(files) == set(STUDY_FILES[:5])
    tc = files["microdialysis_igf1.csv"]
    assert tc["lloq"] == 8.0
    d = _read("microdialysis_igf1.csv")
    assert tc["n_lost"] == (d["igf1_pg_ml"] == "").sum()
    assert tc["n_censored"] == d["igf1_pg_ml"].str.startswith("<").sum()
    for h in ("1", "2", "3", "4", "5"):
        assert 40 <= tc["pct_change_vs_reference"]["ketamine 10"][h] <= 70
    for h in ("1", "2", "3", "4", "5", "6"):
        assert 80 <= tc["pct_change_vs_reference"]["ketamine 30"][h] <= 130
    fst = files["fst_igf1_nab.csv"]
    assert fst["interaction"]["(ketamine - saline) x (IGF-1 nAb - IgG)"] == pytest.approx(53.0)
    assert fst["pct_blockade"]["ketamine - saline"]["IGF-1 nAb"] > 80
    nsft = files["behaviour_battery.csv"]["outcomes"]["nsft_latency_s"]
    b = _read("behaviour_battery.csv")
    assert nsft["n_censored"] == b["nsft_censored"].astype(int).sum()
    for exp in files["bdnf_igf1_crossover.csv"]["experiments"].values():
        assert list(exp["interaction"].values()) == [0.0]


# ----------------------------------------------------------------------------- truth at large n


def test_timecourse_truth_recovered_at_large_n() -> None:
    n = 2000
    d, truth = _timecourse(11, n_per_group=n, lloq=None, p_lost=0.0)
    wide = np.log(d.pivot(index="mouse", columns="hour", values="igf1_pg_ml"))
    group = d.groupby("mouse")["treatment"].first().reindex(wide.index)
    ratio = wide[[1, 2, 3, 4, 5, 6]].sub(wide[[-2, -1]].mean(axis=1), axis=0)
    for g in truth["groups"]:
        r = ratio[group == g]
        se = r.std(ddof=1) / math.sqrt(len(r))
        for h in range(1, 7):
            true = truth["effects"][g][str(h)]
            assert abs(r[h].mean() - true) < K_SE * se[h], (g, h)
            assert truth["pct_of_baseline"][g][str(h)] == pytest.approx(100 * math.exp(true))
    ref = ratio[group == "saline"]
    for g in ("ketamine 10", "ketamine 30"):
        r = ratio[group == g]
        for h in range(1, 7):
            diff = r[h].mean() - ref[h].mean()
            se = math.sqrt(r[h].var() / len(r) + ref[h].var() / len(ref))
            true = truth["log_ratio_vs_reference"][g][str(h)]
            assert abs(diff - true) < K_SE * se
            assert truth["pct_change_vs_reference"][g][str(h)] == pytest.approx(
                100 * (math.exp(TC_EFFECTS[g][h - 1] - TC_EFFECTS["saline"][h - 1]) - 1)
            )
    # animal SD: the SD of each mouse's mean baseline log is about sqrt(sd_a^2 + var_e / 2)
    assert wide[[-2, -1]].mean(axis=1).std() == pytest.approx(0.4, rel=0.1)


def test_factorial_truth_recovered_at_large_n() -> None:
    n = 2000
    d, truth = _factorial(12, n_per_cell=n, cohorts=None, bounds=None)
    means = d.groupby(["treatment", "antibody"])["value"].agg(["mean", "var", "count"])
    for (a, b), row in means.iterrows():
        se = math.sqrt(row["var"] / row["count"])
        assert abs(row["mean"] - truth["cell_means"][f"{a}|{b}"]) < K_SE * se
    m, v = means["mean"], means["var"] / means["count"]
    inter = (m["ketamine", "IGF-1 nAb"] - m["saline", "IGF-1 nAb"]) - (
        m["ketamine", "IgG"] - m["saline", "IgG"]
    )
    assert abs(inter - truth["interaction"]["(ketamine - saline) x (IGF-1 nAb - IgG)"]) < (
        K_SE * math.sqrt(v.sum())
    )
    assert truth["interaction"]["(ketamine - saline) x (IGF-1 nAb - IgG)"] == pytest.approx(53.0)
    assert truth["simple_effects"]["treatment"]["ketamine - saline"] == {
        "IgG": pytest.approx(-60.0),
        "IGF-1 nAb": pytest.approx(-7.0),
    }
    assert truth["pct_blockade"]["ketamine - saline"]["IGF-1 nAb"] == pytest.approx(
        100 * (1 - 7 / 60)
    )


def test_factorial_lognormal_truth_and_censoring() -> None:
    medians = {("saline", "IgG"): 360.0, ("saline", "nAb"): 370.0,
               ("ketamine", "IgG"): 180.0, ("ketamine", "nAb"): 345.0}  # fmt: skip
    d, truth = simulate_factorial(
        cell_means=medians, n_per_cell=2000, residual_sd=0.5, factor_names=("t", "ab"),
        family="lognormal", seed=5,
    )  # fmt: skip
    ly = np.log(d["value"])
    for (a, b), g in ly.groupby([d["t"], d["ab"]]):
        se = g.std() / math.sqrt(len(g))
        assert abs(g.mean() - math.log(medians[(a, b)])) < K_SE * se
        assert truth["cell_log_means"][f"{a}|{b}"] == pytest.approx(math.log(medians[(a, b)]))
    assert truth["simple_effect_ratios"]["t"]["ketamine - saline"]["IgG"] == pytest.approx(0.5)

    c, tc = simulate_factorial(
        cell_means=medians, n_per_cell=2000, residual_sd=0.5, factor_names=("t", "ab"),
        family="lognormal", censor_at=600.0, seed=5,
    )  # fmt: skip
    above = d["value"] >= 600.0
    assert (c["censored"] == above).all()
    assert (c.loc[above, "value"] == 600.0).all()
    assert tc["n_censored"] == above.sum()
    # P(latency >= 600) in a saline/IgG mouse, as a k*SE check of the censored fraction
    cell = (c["t"] == "saline") & (c["ab"] == "IgG")
    p = 0.5 * math.erfc(math.log(600 / 360) / 0.5 / math.sqrt(2))
    assert abs(c.loc[cell, "censored"].mean() - p) < K_SE * math.sqrt(p * (1 - p) / 2000)


def test_cohorts_are_balanced_and_centred() -> None:
    d, truth = _factorial(4, n_per_cell={k: v for k, v in zip(FST_MEANS, (10, 9, 11, 8))})
    assert sorted(d["cohort"].unique()) == [1, 2, 3]
    per = d.groupby(["treatment", "antibody", "cohort"]).size()
    assert (per.groupby(["treatment", "antibody"]).agg(lambda s: s.max() - s.min()) <= 1).all()
    assert sum(truth["cohort_effects"].values()) == pytest.approx(0.0, abs=1e-9)
    assert d["value"].between(0, 240).all()


# ----------------------------------------------------------------------------- k factors, within animals

#: sex x treatment x antibody. Worked by hand: the treatment x antibody interaction is
#: (145 - 150) - (90 - 150) = 55 in females and (150 - 158) - (120 - 160) = 32 in males, so the
#: three-way interaction is 32 - 55 = -23; the % blockade of ketamine's effect by the nAb is
#: 100 (1 - (-5) / (-60)) = 91.67 % in females and 100 (1 - (-8) / (-40)) = 80 % in males.
THREE_WAY = {
    ("female", "saline", "IgG"): 150.0, ("female", "ketamine", "IgG"): 90.0,
    ("female", "saline", "nAb"): 150.0, ("female", "ketamine", "nAb"): 145.0,
    ("male", "saline", "IgG"): 160.0, ("male", "ketamine", "IgG"): 120.0,
    ("male", "saline", "nAb"): 158.0, ("male", "ketamine", "nAb"): 150.0,
}  # fmt: skip
SEX_TREATMENT_ANTIBODY = ("sex", "treatment", "antibody")


def test_three_factor_truth_worked_by_hand_and_recovered_at_large_n() -> None:
    n = 2000
    d, truth = simulate_factorial(cell_means=THREE_WAY, n_per_cell=n, residual_sd=30.0,
                                  factor_names=SEX_TREATMENT_ANTIBODY, seed=21)  # fmt: skip
    assert list(d.columns) == ["mouse", "sex", "treatment", "antibody", "value", "censored"]
    assert len(d) == 8 * n and d["mouse"].is_unique
    assert truth["n_per_cell"] == {"|".join(c): n for c in THREE_WAY}
    # The cell means are recovered by the sample means, each within K_SE standard errors.
    stats = d.groupby(list(SEX_TREATMENT_ANTIBODY))["value"].agg(["mean", "var", "count"])
    for cell, row in stats.iterrows():
        assert truth["cell_means"]["|".join(cell)] == THREE_WAY[cell]
        assert abs(row["mean"] - THREE_WAY[cell]) < K_SE * math.sqrt(row["var"] / row["count"])
    # The true contrasts, by hand (comment above THREE_WAY).
    assert truth["interaction"] == {"(male - female) x (ketamine - saline) x (nAb - IgG)": pytest.approx(-23.0)}
    ta = truth["simple_interactions"]["treatment:antibody"]["(ketamine - saline) x (nAb - IgG)"]
    assert ta == {"female": pytest.approx(55.0), "male": pytest.approx(32.0)}
    assert truth["simple_effects"]["treatment"]["ketamine - saline"] == {
        "female|IgG": pytest.approx(-60.0), "female|nAb": pytest.approx(-5.0),
        "male|IgG": pytest.approx(-40.0), "male|nAb": pytest.approx(-8.0),
    }  # fmt: skip
    assert truth["blocker"] == "antibody"
    assert truth["pct_blockade"]["treatment"]["ketamine - saline"] == {
        "female|nAb": pytest.approx(100 * (1 - 5 / 60)), "male|nAb": pytest.approx(80.0)}
    # The sample three-way interaction (an alternating sum of 8 means) is within K_SE of -23.
    m, v = stats["mean"], stats["var"] / stats["count"]
    sign = {"female": -1, "male": 1, "saline": -1, "ketamine": 1, "IgG": -1, "nAb": 1}
    sample = sum(sign[s] * sign[t] * sign[a] * m[(s, t, a)] for s, t, a in THREE_WAY)
    assert abs(sample - -23.0) < K_SE * math.sqrt(v.sum())
    # Main effects are of the unweighted marginal means: treatment (90+145+120+150)/4 - (150+150+160+158)/4.
    assert truth["main_effects"]["treatment"]["ketamine - saline"] == pytest.approx((505 - 618) / 4)


def test_three_factor_text_keys_give_the_same_data() -> None:
    text = {"|".join(c): v for c, v in THREE_WAY.items()}
    args = dict(n_per_cell=3, residual_sd=30.0, factor_names=SEX_TREATMENT_ANTIBODY, cohorts=2, seed=4)
    d1, t1 = simulate_factorial(cell_means=THREE_WAY, **args)
    d2, t2 = simulate_factorial(cell_means=text, **args)
    pd.testing.assert_frame_equal(d1, d2)
    assert t1 == t2


def test_within_animal_factor_truth_recovered_at_large_n() -> None:
    # 2 groups (between) x 3 test days (within): every animal is tested on every day.
    means = {("vehicle", "d1"): 100.0, ("vehicle", "d2"): 100.0, ("vehicle", "d3"): 100.0,
             ("drug", "d1"): 100.0, ("drug", "d2"): 80.0, ("drug", "d3"): 70.0}  # fmt: skip
    n, sd_a, sd_e = 1500, 20.0, 10.0
    d, truth = simulate_factorial(cell_means=means, n_per_cell=n, residual_sd=sd_e, factor_names=("group", "day"),
                                  within=["day"], animal_sd=sd_a, seed=8)  # fmt: skip
    assert len(d) == 2 * n * 3 and d["mouse"].nunique() == 2 * n == truth["n_animals"]
    per_animal = d.groupby("mouse")
    assert (per_animal.size() == 3).all() and (per_animal["group"].nunique() == 1).all()
    assert (per_animal["day"].agg(list).map(tuple) == ("d1", "d2", "d3")).all()
    assert truth["within"] == ["day"] and truth["n_per_cell"]["drug|d2"] == n
    stats = d.groupby(["group", "day"])["value"].agg(["mean", "var", "count"])
    for cell, row in stats.iterrows():
        # each cell mean averages n animals' intercepts and residuals: var = sd_a^2 + sd_e^2
        assert row["var"] == pytest.approx(sd_a**2 + sd_e**2, rel=0.1)
        assert abs(row["mean"] - means[cell]) < K_SE * math.sqrt((sd_a**2 + sd_e**2) / n)
    # (drug - vehicle) under d3 minus under d1 = (70 - 100) - (100 - 100) = -30
    assert truth["interaction"]["(drug - vehicle) x (d3 - d1)"] == pytest.approx(-30.0)
    # Within an animal the intercept cancels: day differences have SD sqrt(2) sd_e.
    wide = d.pivot(index="mouse", columns="day", values="value")
    diff = (wide["d2"] - wide["d1"]).groupby(d.groupby("mouse")["group"].first())
    assert diff.std().to_numpy() == pytest.approx([math.sqrt(2) * sd_e] * 2, rel=0.1)
    # The realised animal effects are the truth's, and their SD is sd_a.
    effects = pd.Series(truth["animal_effects"])
    assert effects.std() == pytest.approx(sd_a, rel=0.1)
    resid = d["value"] - [means[(g, t)] for g, t in zip(d["group"], d["day"], strict=True)] - d["mouse"].map(effects)
    assert resid.std() == pytest.approx(sd_e, rel=0.1)


def test_two_factor_call_is_unchanged_by_the_new_arguments() -> None:
    base = dict(cell_means=FST_MEANS, n_per_cell=5, residual_sd=30.0, factor_names=("treatment", "antibody"), seed=3)
    d1, t1 = simulate_factorial(**base)
    d2, t2 = simulate_factorial(**base, within=(), animal_sd=0.0)
    pd.testing.assert_frame_equal(d1, d2)
    assert t1 == t2 and "blocker" not in t1 and "within" not in t1


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kw",
    [
        {"effects": {"saline": [0.0] * 6}},
        {"effects": {g: [0.0] * 5 for g in TC_EFFECTS}},
        {"times": (1, 2, 3)},
        {"p_lost": 1.0},
        {"residual_sd": 0.0},
        {"n_per_group": 0},
    ],
)
def test_timecourse_rejects_bad_arguments(kw: dict) -> None:
    with pytest.raises(DesignError):
        _timecourse(1, **kw)


def test_negative_seed_rejected() -> None:
    with pytest.raises(DesignError):
        _timecourse(-1)
    with pytest.raises(DesignError):
        _factorial(-1)


@pytest.mark.parametrize(
    "kw",
    [
        {"cell_means": {("a", "x"): 1.0, ("b", "x"): 2.0, ("a", "y"): 3.0}},
        {"family": "poisson"},
        {"factor_names": ("treatment", "treatment")},
        {"factor_names": ("mouse", "antibody")},
        {"bounds": (240.0, 0.0)},
        {"cohorts": 0},
        {"n_per_cell": {("saline", "IgG"): 3}},
        {"cell_means": {("saline", "IgG", "x"): 1.0}},
        {"cell_means": {"saline|IgG": 1.0, "saline": 2.0}},
        {"within": ["day"]},
        {"animal_sd": 5.0},
        {"blocker": "sex"},
    ],
)
def test_factorial_rejects_bad_arguments(kw: dict) -> None:
    with pytest.raises(DesignError):
        _factorial(1, **kw)
