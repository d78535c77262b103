"""bayes-igf1 plan: assurance by simulation (tiny K and draws; the full run is in benchmarks/)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pandas.testing import assert_frame_equal

from bayes_igf1.cli import main
from bayes_igf1.errors import BayesIGF1Error, DesignError
from bayes_igf1.plan import (
    TABLE_COLUMNS,
    parse_cell_means,
    parse_pct_change,
    plan_factorial,
    plan_timecourse,
    write_plan,
)

CELLS = "saline|IgG=150,ketamine|IgG=90,saline|IGF-1 nAb=150,ketamine|IGF-1 nAb=145"
NULL_CELLS = "saline|IgG=150,ketamine|IgG=150,saline|IGF-1 nAb=150,ketamine|IGF-1 nAb=150"
TINY = {"n": [4], "sims": 4, "draws": 100, "tune": 100, "chains": 2, "seed": 7}
TC = {"pct_change": {"ketamine": 50.0}, "animal_sd": 0.3, "residual_sd": 0.15}


@pytest.fixture(scope="module")
def tiny_plan():
    """K = 4 simulated 2 x 2 studies with 4 mice per cell, fitted in this process."""
    return plan_factorial(cell_means=CELLS, sd=30, workers=1, **TINY)


def _deterministic(sims: pd.DataFrame) -> pd.DataFrame:
    return sims.drop(columns=["fit_seconds"])


# ------------------------------------------------------------------ Bayesian runs


def test_tiny_factorial_plan_has_every_rule_and_the_power(tiny_plan):
    tab = tiny_plan.table
    assert list(tab.columns) == TABLE_COLUMNS
    assert set(tab["rule"]) == {"interaction_hdi_excludes_0", "p_blockade_gt_50_above_0.9", "bf10_gt_3"}
    assert (tab["n"] == 4).all() and (tab["sims"] == 4).all() and (tab["target"] == "ketamine|IGF-1 nAb").all()
    for p, se in zip(tab["assurance"], tab["mc_se"], strict=True):
        assert 0 <= p <= 1 and se == pytest.approx(math.sqrt(p * (1 - p) / 4))
    # The truth of every simulation: (90 - 150) removed to (145 - 150) = +55 s interaction.
    assert np.allclose(tiny_plan.simulations["true_interaction"], 55.0)
    # Power beside each rule is the ANOVA's on the same data sets.
    sims = tiny_plan.simulations
    power = float((sims["anova treatment:antibody p"] < 0.05).mean())
    assert np.allclose(tab["power"], power)
    # 2 x 100 draws cannot reach ESS 400: the gate fails, and the plan says so.
    assert tiny_plan.failed_gate == {4: 4}
    assert (tab["failed_gate"] == 4).all()
    assert any("failed in 4 of 4 fits" in note for note in tiny_plan.notes)


def test_same_table_with_one_or_two_worker_processes(tiny_plan):
    two = plan_factorial(cell_means=CELLS, sd=30, workers=2, **TINY)
    assert_frame_equal(two.table, tiny_plan.table)
    assert_frame_equal(_deterministic(two.simulations), _deterministic(tiny_plan.simulations))


def test_dask_local_cluster_gives_the_same_table(tiny_plan):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = plan_factorial(cell_means=CELLS, sd=30, dask=cluster.scheduler_address, **TINY)
    assert_frame_equal(result.table, tiny_plan.table)
    assert result.settings["dask"] == cluster.scheduler_address


def test_write_plan_writes_csv_json_and_the_figure(tiny_plan, tmp_path):
    files = write_plan(tiny_plan, tmp_path)
    for name in ("plan.csv", "plan.json", "assurance.png", "assurance.svg", "simulations.csv"):
        assert files[name].exists() and files[name].stat().st_size > 0
    back = pd.read_csv(tmp_path / "plan.csv")
    assert list(back.columns) == TABLE_COLUMNS and len(back) == 3
    doc = json.loads((tmp_path / "plan.json").read_text())
    assert doc["design"] == "factorial" and doc["settings"]["sims"] == 4 and doc["failed_gate"] == {"4": 4}
    assert doc["design_prior"]["kind"] == "stated" and doc["priors"]["cell_mean"]["dist"] == "Normal"


def test_cli_plan_writes_the_folder_and_exits_1_when_fits_fail_the_gate(tiny_plan, tmp_path, capsys):
    out = tmp_path / "plan"
    code = main(["plan", "factorial", "--cell-means", CELLS, "--sd", "30", "--n", "4", "--sims", "4", "--draws",
                 "100", "--tune", "100", "--seed", "7", "--workers", "1", "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 1  # every tiny fit failed the gate (> 5 %)
    assert captured.err == ""  # --quiet
    assert "BF10 of the interaction > 3" in captured.out and "assurance" in captured.out
    assert_frame_equal(pd.read_csv(out / "plan.csv"), tiny_plan.table, check_dtype=False)


def test_tiny_timecourse_plan(tmp_path):
    # n = 3 per group: 4 error df for 5 time contrasts, so the GG correction is undefined.
    result = plan_timecourse(n=[3], sims=2, draws=100, tune=100, chains=2, seed=3, workers=1,
                             times=(-1, 1, 2, 3, 4, 5, 6), **TC)
    tab = result.table
    assert set(tab["rule"]) == {"sustained_hdi_excludes_0", "peak_hdi_excludes_0"}
    assert (tab["target"] == "ketamine").all()
    assert result.settings["peak_times"] == {"ketamine": 1.0}  # constant effect: the first post time
    freq = result.frequentist.set_index("test")
    assert freq.loc["RM ANOVA group:time, Greenhouse-Geisser p < 0.05", "undefined"] == 2
    assert np.allclose(result.simulations["true_peak_pct_change"], 50.0)
    files = write_plan(result, tmp_path)
    assert files["assurance.svg"].exists()


# ------------------------------------------------------------------ frequentist power


def _binomial_tolerance(p: float, k: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / k)


def test_factorial_power_known_answers():
    k = 150
    null = plan_factorial(cell_means=NULL_CELLS, sd=30, n=[6], sims=k, bayesian=False, workers=1, seed=11)
    power = float(null.frequentist["power"].iloc[0])
    assert abs(power - 0.05) < _binomial_tolerance(0.05, k)
    assert null.table["assurance"].isna().all()
    huge = plan_factorial(cell_means="a|x=0,b|x=100,a|y=0,b|y=0", sd=5, n=[4], sims=20, bayesian=False,
                          workers=1, factors=("drug", "antibody"))
    assert float(huge.frequentist["power"].iloc[0]) == 1.0
    assert huge.frequentist["test"].iloc[0] == "two-way ANOVA (type III) drug:antibody p < 0.05"


def test_timecourse_power_known_answers():
    k = 150
    null = plan_timecourse(n=[6], sims=k, pct_change={"ketamine": 0.0}, animal_sd=0.3, residual_sd=0.15,
                           bayesian=False, workers=1, seed=12)
    inter = null.frequentist.set_index("test").loc["RM ANOVA group:time, Greenhouse-Geisser p < 0.05", "power"]
    assert abs(inter - 0.05) < _binomial_tolerance(0.05, k)
    huge = plan_timecourse(n=[5], sims=20, pct_change={"ketamine": [300, 200, 100, 50, 0, 0]}, animal_sd=0.3,
                           residual_sd=0.1, bayesian=False, workers=1)
    assert float(huge.table["power"].iloc[0]) == 1.0


# ------------------------------------------------------------------ from a results folder


def _fake_results(folder, *, design="factorial"):
    rng = np.random.default_rng(0)
    folder.mkdir()
    cm = np.array([[150.0, 150.0], [90.0, 145.0]]) + rng.normal(0, 3, size=(2, 50, 2, 2))
    post = xr.Dataset(
        {"cell_mean": (("chain", "draw", "treatment", "antibody"), cm),
         "sigma": (("chain", "draw"), 30 + rng.normal(0, 1, size=(2, 50)))},
        coords={"chain": [0, 1], "draw": np.arange(50), "treatment": ["saline", "ketamine"],
                "antibody": ["IgG", "IGF-1 nAb"]},
    )
    xr.DataTree.from_dict({"posterior": post}).to_netcdf(folder / "posterior.nc", engine="h5netcdf")
    results = {"design": design, "settings": {"family": "normal", "factors": ["treatment", "antibody"],
                                              "reference": {"treatment": "saline", "antibody": "IgG"}},
               "priors": {"cell_mean": {"dist": "Normal", "mu": 140.0, "sigma": 100.0},
                          "sigma": {"dist": "HalfNormal", "sigma": 40.0}}}
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def test_plan_from_a_results_folder_draws_the_truth_from_the_posterior(tmp_path):
    folder = _fake_results(tmp_path / "res")
    result = plan_factorial(source=folder, n=[5], sims=30, bayesian=False, workers=1)
    assert result.design_prior == {"kind": "posterior", "source": str(folder), "draws": 100, "family": "normal"}
    assert result.priors["cell_mean"] == {"dist": "Normal", "mu": 140.0, "sigma": 100.0}
    truth = result.simulations.drop_duplicates("k")
    assert truth["draw"].nunique() > 20  # a posterior draw per simulated study
    with pytest.raises(DesignError, match="not a time course"):
        plan_timecourse(source=folder, n=[5], sims=2, bayesian=False, workers=1)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cell_means": CELLS, "sd": 30, "n": [1]}, "whole number >= 2"),
        ({"cell_means": CELLS, "sd": 30, "n": [6, 6]}, "repeat"),
        ({"cell_means": CELLS, "sd": 30, "n": "6"}, "candidate sample sizes"),
        ({"cell_means": CELLS, "sd": 0, "n": [6]}, "sd must be a positive number"),
        ({"cell_means": CELLS, "n": [6]}, "sd must be a positive number"),
        ({"n": [6]}, "either a results folder"),
        ({"cell_means": CELLS, "sd": 30, "source": "x", "n": [6]}, "not both"),
        ({"cell_means": "saline|IgG=150,ketamine|IgG=90,saline|nAb=150", "sd": 30, "n": [6]}, "miss the cell"),
        ({"cell_means": "saline=150", "sd": 30, "n": [6]}, "LEVEL_A|LEVEL_B=MEAN"),
        ({"cell_means": "saline|IgG=abc", "sd": 30, "n": [6]}, "not a number"),
        ({"cell_means": CELLS, "sd": 30, "n": [6], "sims": 0}, "sims must be"),
        ({"cell_means": CELLS, "sd": 30, "n": [6], "family": "student"}, "normal' or 'lognormal"),
        ({"cell_means": CELLS.replace("150", "-1", 1), "sd": 30, "n": [6], "family": "lognormal"}, "above 0"),
        ({"source": "/no/such/folder", "n": [6]}, "does not exist"),
    ],
)
def test_factorial_input_errors_say_the_fix(kwargs, match):
    with pytest.raises(DesignError, match=match) as err:
        plan_factorial(bayesian=False, workers=1, **kwargs)
    assert "Fix" in str(err.value) or "must be" in str(err.value)


def test_zero_workers_is_an_error():
    with pytest.raises(DesignError, match="workers must be"):
        plan_factorial(cell_means=CELLS, sd=30, n=[6], workers=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pct_change": {"ketamine 30": 20}, "groups": ["saline", "ketamine 10"]}, "not a treated group"),
        ({"pct_change": {"ketamine": [10, 20]}}, "one per post time"),
        ({"pct_change": {"ketamine": -100}}, "above -100"),
        ({"pct_change": {"ketamine": 10}, "animal_sd": None}, "animal_sd must be"),
        ({"pct_change": {"ketamine": 10}, "times": [1, 2, 3]}, "baseline time"),
        ({"pct_change": {"ketamine": 10}, "likelihood": "cauchy"}, "likelihood must be"),
    ],
)
def test_timecourse_input_errors_say_the_fix(kwargs, match):
    args = {"animal_sd": 0.3, "residual_sd": 0.15, "n": [6], "bayesian": False, "workers": 1, **kwargs}
    with pytest.raises(DesignError, match=match):
        plan_timecourse(**args)


def test_parsers():
    assert parse_cell_means(CELLS)[("ketamine", "IGF-1 nAb")] == 145.0
    assert parse_pct_change(["ketamine 10=30", "ketamine 30=40,35"]) == {"ketamine 10": [30.0],
                                                                         "ketamine 30": [40.0, 35.0]}
    assert parse_pct_change("a=1,b=2") == {"a": [1.0], "b": [2.0]}
    with pytest.raises(BayesIGF1Error, match="twice"):
        parse_cell_means("a|x=1,a|x=2")


def test_cli_plan_bad_input_exits_2_with_the_fix(capsys):
    code = main(["plan", "factorial", "--cell-means", "saline|IgG=150", "--sd", "30", "--n", "6"])
    err = capsys.readouterr().err
    assert code == 2 and "Fix" in err and "Traceback" not in err
    code = main(["plan", "timecourse", "--cell-means", CELLS, "--n", "6"])
    assert code == 2 and "--cell-means" in capsys.readouterr().err


def test_cli_plan_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["plan", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--from", "--cell-means", "--sd", "--pct-change", "--n", "--sims", "--workers", "--dask",
                   "--quiet", "--seed", "--out"):
        assert option in text


# ------------------------------------------------------------------ the design answers (issue 12)


def test_plan_factorial_refuses_a_time_course_folder(tmp_path):
    folder = _fake_results(tmp_path / "res", design="timecourse")
    with pytest.raises(DesignError, match="holds a 'timecourse' analysis, not a factorial one.*plan timecourse"):
        plan_factorial(source=folder, n=[5], sims=2, bayesian=False, workers=1)


def test_cli_plan_names_every_option_of_the_other_design(tmp_path, capsys):
    code = main(["plan", "factorial", "--cell-means", CELLS, "--sd", "30", "--pct-change", "k=10", "--nu", "5",
                 "--n", "6", "--out", str(tmp_path / "p")])
    assert code == 2
    assert "--pct-change, --nu belong to the other design, not to 'plan factorial'" in capsys.readouterr().err
    code = main(["plan", "factorial", "--cell-means", CELLS, "--sd", "30", "--factor", "drug", "--n", "6",
                 "--out", str(tmp_path / "p"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "give 2 level(s) per cell (e.g. 'saline|IgG') but 1 factor(s) are named (drug)" in err
    code = main(["plan", "timecourse", "--pct-change", "k=10", "--within", "day", "--n", "6",
                 "--out", str(tmp_path / "p"), "--quiet"])
    assert code == 2 and "--within belong to the other design" in capsys.readouterr().err


def test_cli_plan_timecourse_frequentist_only(tmp_path, capsys):
    out = tmp_path / "plan"
    code = main(["plan", "timecourse", "--pct-change", "ketamine=50", "--animal-sd", "0.3", "--residual-sd", "0.15",
                 "--n", "4", "--sims", "5", "--frequentist-only", "--workers", "1", "--out", str(out), "--quiet"])
    assert code == 0
    table = pd.read_csv(out / "plan.csv")
    assert set(table["rule"]) == {"sustained_hdi_excludes_0", "peak_hdi_excludes_0"}
    assert (table["target"] == "ketamine").all() and table["assurance"].isna().all()
    assert json.loads((out / "plan.json").read_text())["design"] == "timecourse"


# ------------------------------------------------------------------ k factors and within animals (issue 12)

#: sex x treatment x antibody; by hand: the treatment x antibody interaction is (145 - 150) - (90 - 150) = 55
#: in females and (150 - 158) - (120 - 160) = 32 in males, so the three-way interaction is 32 - 55 = -23.
CELLS3 = ("female|saline|IgG=150,female|ketamine|IgG=90,female|saline|nAb=150,female|ketamine|nAb=145,"
          "male|saline|IgG=160,male|ketamine|IgG=120,male|saline|nAb=158,male|ketamine|nAb=150")
FACTORS3 = ("sex", "treatment", "antibody")


def test_parse_cell_means_k_factors():
    cells = parse_cell_means(CELLS3)
    assert len(cells) == 8 and cells[("male", "ketamine", "nAb")] == 150.0
    assert list(cells)[0] == ("female", "saline", "IgG")  # the order given: the references first
    # several --cell-means options, each a comma list, and spaces around the levels
    split = parse_cell_means([CELLS3.split(",male")[0], "male" + ",male".join(CELLS3.split(",male")[1:])])
    assert split == cells
    assert parse_cell_means(" a | x = 1 , b|x=2") == {("a", "x"): 1.0, ("b", "x"): 2.0}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("a|x|p=1,b|x=2", "names 2 levels but 'a|x|p=1' names 3"),
        ("a||p=1", "a level name of each factor"),
        ("a|x|p=inf", "a finite mean"),
        ("a|x|p=one", "'one' is not a number"),
        ("a|x|p=1,a|x|p=2", "the cell a|x|p twice"),
        ("a=1", "LEVEL_A|LEVEL_B=MEAN"),
    ],
)
def test_parse_cell_means_errors_say_the_fix(text, match):
    with pytest.raises(DesignError, match=match.replace("|", "[|]")) as err:
        parse_cell_means(text)
    assert "Fix" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "the cell means give 3 level[(]s[)] per cell .* but 2 factor[(]s[)] are named [(]treatment, antibody; "
             "the default[)]"),
        ({"factors": ("sex", "treatment", "sex")}, "at least two different names"),
        ({"factors": FACTORS3, "blocker": "cohort"}, "the blocker 'cohort' is not one of the factors"),
        ({"factors": FACTORS3, "treated": "antibody"}, "the treated factor 'antibody' is not one of the factors "
                                                       "other than the blocker"),
        ({"factors": FACTORS3, "animal_sd": 10}, "animal_sd is the SD of the animal intercepts"),
        ({"factors": ("sex", "treatment"), "within": ("antibody",)}, "animal_sd must be a positive number"),
        ({"factors": FACTORS3, "cell_means": CELLS3.rsplit(",", 1)[0]}, "miss the cell[(]s[)] male[|]ketamine[|]nAb"),
    ],
)
def test_three_factor_input_errors_say_the_fix(kwargs, match):
    args = {"cell_means": CELLS3, "sd": 30, "n": [6], "bayesian": False, "workers": 1, **kwargs}
    with pytest.raises(DesignError, match=match) as err:
        plan_factorial(**args)
    assert "Fix" in str(err.value)


def test_tiny_three_factor_plan_judges_the_three_way_interaction_and_the_blockade_in_each_sex():
    result = plan_factorial(cell_means=CELLS3, sd=30, factors=FACTORS3, treated="treatment", n=[3], sims=2,
                            draws=100, tune=100, chains=2, seed=5, workers=1)
    tab = result.table
    assert list(tab.columns) == TABLE_COLUMNS
    # the interaction rules at the cell of the highest-order contrast; the blockade of ketamine by the nAb in each sex
    assert [(r, t) for r, t in zip(tab["rule"], tab["target"], strict=True)] == [
        ("p_blockade_gt_50_above_0.9", "female|ketamine|nAb"),
        ("interaction_hdi_excludes_0", "male|ketamine|nAb"),
        ("p_blockade_gt_50_above_0.9", "male|ketamine|nAb"),
        ("bf10_gt_3", "male|ketamine|nAb"),
    ]
    assert (tab["test"] == "three-way ANOVA (type III) sex:treatment:antibody p < 0.05").all()
    assert tab["assurance"].between(0, 1).all() and (tab["sims"] == 2).all()
    sims = result.simulations
    inter = sims[sims["target"] == "male|ketamine|nAb"]
    assert np.allclose(inter["true_interaction"], -23.0)  # worked by hand above
    assert sims.loc[sims["target"] == "female|ketamine|nAb", "true_interaction"].isna().all()
    assert sims["anova sex:treatment:antibody p"].between(0, 1).all()
    assert result.settings["levels"] == {"sex": ["female", "male"], "treatment": ["saline", "ketamine"],
                                         "antibody": ["IgG", "nAb"]}
    assert result.settings["blocker"] == "antibody" and result.settings["treated"] == "treatment"
    assert result.design_prior["cell_means"]["male|saline|nAb"] == 158.0
    assert any("effect of treatment abolished by antibody" in note for note in result.notes)


def test_within_animal_plan_uses_the_mixed_anova_and_the_animal_sd(tmp_path, capsys):
    out = tmp_path / "plan"
    code = main(["plan", "factorial", "--cell-means", "vehicle|d1=100,vehicle|d2=100,vehicle|d3=100",
                 "--cell-means", "drug|d1=100,drug|d2=80,drug|d3=70", "--factor", "group", "--within", "day",
                 "--sd", "10", "--animal-intercept-sd", "20", "--n", "4", "--sims", "3", "--frequentist-only",
                 "--workers", "1",
                 "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    doc = json.loads((out / "plan.json").read_text())
    assert doc["settings"]["within"] == ["day"] and doc["design_prior"]["animal_sd"] == 20.0
    freq = pd.read_csv(out / "frequentist.csv")
    assert freq["test"].tolist() == ["mixed ANOVA (type III) group:day, Greenhouse-Geisser p < 0.05"]
    assert pd.read_csv(out / "simulations.csv")["mixed_anova group:day p_gg"].between(0, 1).all()
    # a tiny Bayesian run: the model has the animal intercept, the rules are judged per interaction cell
    result = plan_factorial(cell_means="v|d1=100,v|d2=100,v|d3=100,x|d1=100,x|d2=80,x|d3=70", sd=10, animal_sd=20,
                            factors=["group"], within=["day"], n=[3], sims=2, draws=100, tune=100, chains=2, seed=2,
                            workers=1)
    assert result.priors["sigma_animal"]["dist"] == "HalfNormal"
    sims = result.simulations.set_index(["k", "target"])
    # (x - v) under d2 minus under d1 = (80 - 100) - (100 - 100) = -20; under d3: -30
    assert sims["true_interaction"].xs("x|d2", level="target").tolist() == [-20.0, -20.0]
    assert sims["true_interaction"].xs("x|d3", level="target").tolist() == [-30.0, -30.0]
    assert set(result.table["target"]) == {"x|d2", "x|d3"}


def test_plan_from_a_three_factor_within_results_folder(tmp_path):
    # a fitted sex x treatment (between) x day (within) analysis: the plan keeps its shape and its animal SD
    rng = np.random.default_rng(1)
    folder = tmp_path / "res"
    folder.mkdir()
    shape = (2, 2, 3)
    post = xr.Dataset(
        {"cell_mean": (("chain", "draw", "sex", "treatment", "day"), 100 + rng.normal(0, 3, size=(2, 20, *shape))),
         "sigma": (("chain", "draw"), 10 + rng.normal(0, 1, size=(2, 20))),
         "sigma_animal": (("chain", "draw"), 20 + rng.normal(0, 1, size=(2, 20)))},
        coords={"chain": [0, 1], "draw": np.arange(20), "sex": ["f", "m"], "treatment": ["saline", "ketamine"],
                "day": ["d1", "d2", "d3"]},
    )
    xr.DataTree.from_dict({"posterior": post}).to_netcdf(folder / "posterior.nc", engine="h5netcdf")
    (folder / "results.json").write_text(json.dumps({"design": "factorial", "settings": {
        "family": "normal", "factors": ["sex", "treatment"], "within": ["day"], "blocker": None,
        "reference": {"sex": "f", "treatment": "saline", "day": "d1"}}, "priors": {}}))
    result = plan_factorial(source=folder, n=[3], sims=2, bayesian=False, workers=1, treated="treatment")
    assert result.settings["factors"] == ["sex", "treatment", "day"] and result.settings["within"] == ["day"]
    assert result.settings["blocker"] == "day"  # the last factor by default
    assert result.frequentist["test"].tolist() == [
        "mixed ANOVA (type III) sex:treatment:day, Greenhouse-Geisser p < 0.05"]
    # the interaction cells (m|ketamine|d2, m|ketamine|d3) and the blockade of ketamine in each sex
    assert set(result.table["target"]) == {"m|ketamine|d2", "m|ketamine|d3", "f|ketamine|d2", "f|ketamine|d3"}
    assert result.priors["sigma_animal"]["dist"] == "HalfNormal"
    with pytest.raises(DesignError, match="leave out --within with --from"):
        plan_factorial(source=folder, n=[3], within=["day"], bayesian=False, workers=1)
