"""Reload without refitting: `load_result` rebuilds a report folder's AnalysisResult from results.json and
posterior.nc, and `write_report` / `bayes-igf1 report` write the same report again.

Two tiny fits (a censored factorial with a cohort block, and the time course); their diagnostics fail at
these settings, which does not matter here.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayes_igf1 as bi
from bayes_igf1.cli import main
from bayes_igf1.errors import DataError
from bayes_igf1.report.writer import MARKER, dataset_to_frame, frame_to_dataset, write_report
from bayes_igf1.results import ESTIMATE_COLUMNS, RELOAD_KEYS, load_result

DATA = Path(__file__).resolve().parent.parent / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAST = dict(draws=100, tune=100, chains=2, retry=False)


@pytest.fixture(scope="module")
def factorial(tmp_path_factory):
    root = tmp_path_factory.mktemp("nsf")
    raw = pd.read_csv(FIXTURES / "nsf_latency.csv")
    raw["cohort"] = np.where(np.arange(len(raw)) % 2 == 0, "c1", "c2")  # two cohorts, each in every cell
    raw.to_csv(root / "nsf_cohort.csv", index=False)
    res = bi.analyse_factorial(root / "nsf_cohort.csv", outcome="latency", factors=["treatment", "antibody"],
                               animal="mouse", cohort="cohort", censor_at=600, family="lognormal",
                               blocker="antibody", bf_sensitivity=False, **FAST)
    write_report(res, root / "report", figures=False)
    return res, root / "report"


@pytest.fixture(scope="module")
def timecourse(tmp_path_factory):
    from bayes_igf1 import checks

    root = tmp_path_factory.mktemp("tc")
    res = bi.analyse_timecourse(DATA / "microdialysis_igf1.csv", animal="mouse", group="treatment", time="hour",
                                value="igf1_pg_ml", lloq=8, time_unit="h", **FAST)
    # the tables the CLI adds with --prior-sensitivity and --compare (here without their refits)
    extra = {"prior_scale": checks.prior_scale_table({0.5: res, 1.0: res, 2.0: res}),
             "model_comparison": checks.compare_models({"as fitted": res.tree, "again": res.tree},
                                                       var_names=("y", "y_below_limit"))}
    res = dataclasses.replace(res, checks={**res.checks, **extra})
    write_report(res, root / "report", figures=False)
    return res, root / "report"


def _files(folder: Path) -> dict[str, str]:
    """Every text file of a report folder but the marker (which holds the time it was written)."""
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix in (".md", ".html", ".json", ".csv", ".tex")}


def _assert_same_report(a: Path, b: Path) -> None:
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    assert any(k.startswith("tables/") and k.endswith(".csv") for k in fa)
    for name in fa:
        assert fa[name] == fb[name], name
    listed = [json.loads((f / MARKER).read_text())["files"] for f in (a, b)]
    assert listed[0] == listed[1]


@pytest.mark.parametrize("which", ["factorial", "timecourse"])
def test_reloaded_result_writes_the_same_report(which, request, tmp_path):
    res, folder = request.getfixturevalue(which)
    back = load_result(folder)
    write_report(back, tmp_path / "again", figures=False)
    _assert_same_report(folder, tmp_path / "again")


@pytest.mark.parametrize("which", ["factorial", "timecourse"])
def test_reloaded_result_holds_what_the_analysis_made(which, request):
    res, folder = request.getfixturevalue(which)
    back = load_result(folder)
    assert (back.design, back.title, back.seed, back.model_text) == (res.design, res.title, res.seed, res.model_text)
    assert (back.settings, back.priors, back.notes) == (res.settings, res.priors, res.notes)
    assert (back.anova_data, back.mixed_model) == (res.anova_data, res.mixed_model)
    assert list(back.estimates.columns) == ESTIMATE_COLUMNS
    for name in ("estimates", "anova", "bayes_anova"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(res, name), check_exact=True)
    for block in ("frequentist_extra", "checks"):
        orig, new = getattr(res, block), getattr(back, block)
        assert list(new) == list(orig)
        for key, value in orig.items():
            if isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(new[key], value, check_exact=True)
            else:
                assert new[key] == value, (block, key)
    # the validated input: frame (categories in order, the reference first) and ledger
    pd.testing.assert_frame_equal(back.sheet.frame, res.sheet.frame, check_exact=True)
    pd.testing.assert_frame_equal(back.sheet.ledger.entries, res.sheet.ledger.entries, check_exact=True)
    for f in ("columns", "source", "design", "factors", "animal_ids_made_up", "time_unit", "reference_rule",
              "notes", "censoring_side"):
        assert getattr(back.sheet, f) == getattr(res.sheet, f), f
    assert (back.sheet.ledger.header_row, back.sheet.ledger.n_lines) == (res.sheet.ledger.header_row,
                                                                         res.sheet.ledger.n_lines)
    assert back.sheet.reference_levels() == res.sheet.reference_levels()
    # the diagnostics gate, with its per-parameter table
    d, e = res.diagnostics, back.diagnostics
    pd.testing.assert_frame_equal(e.table, d.table, check_exact=True)
    for f in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "treedepth_saturated", "min_bfmi",
              "passed", "problems", "attempts", "retried", "settings", "thresholds"):
        assert getattr(e, f) == getattr(d, f), f
    assert e.sampling_seconds == pytest.approx(d.sampling_seconds, abs=1e-3)  # results.json keeps ms
    # the draws, without the groups that hold the input
    assert list(back.tree.children) == list(res.tree.children)
    np.testing.assert_array_equal(back.tree["posterior"]["sigma"].values, res.tree["posterior"]["sigma"].values)


def test_factorial_specifics_come_back(factorial):
    res, folder = factorial
    back = load_result(folder)
    assert isinstance(back.checks["bayes_factor"], pd.DataFrame)
    assert list(back.sheet.frame["treatment"].cat.categories) == ["saline", "ketamine"]
    assert back.sheet.frame["censored"].dtype == bool and back.sheet.frame["censored"].sum() == 10
    surv = back.estimates["freq_survival"]
    assert isinstance(surv.iloc[0], dict) and surv.iloc[0]["test"] == "Kaplan-Meier"
    assert surv.isna().any()  # rows without a censoring-aware test: None


def test_timecourse_check_tables_are_frames(timecourse):
    _, folder = timecourse
    back = load_result(folder)
    for key in ("prior_scale", "model_comparison"):
        assert isinstance(back.checks[key], pd.DataFrame) and len(back.checks[key])


def test_results_json_and_posterior_hold_the_input(factorial):
    res, folder = factorial
    doc = json.loads((folder / "results.json").read_text())
    for key in ("design", "title", "estimates", "anova", "checks", "data", *RELOAD_KEYS):
        assert key in doc
    assert doc["sheet"]["factors"] == ["treatment", "antibody"] and doc["sheet"]["censoring_side"] == "right"
    assert "tukey" in doc["frequentist_extra"] and isinstance(doc["frequentist_extra"]["tukey"], list)
    assert len(doc["diagnostics_table"]) == len(res.diagnostics.table)
    with xr.open_datatree(folder / "posterior.nc", engine="h5netcdf") as tree:
        tidy = tree["tidy_data"].to_dataset()
        assert json.loads(tidy["treatment"].attrs["categories"]) == ["saline", "ketamine"]
        assert int(tree["row_ledger"].attrs["n_lines"]) == res.sheet.ledger.n_lines
        assert "posterior" in tree.children


def test_rerendering_in_place_needs_no_force(timecourse, tmp_path):
    _, folder = timecourse
    copy = tmp_path / "report"
    shutil.copytree(folder, copy)
    write_report(load_result(copy), copy, figures=False)
    _assert_same_report(folder, copy)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder or lock left


def test_cli_report(timecourse, tmp_path, capsys):
    res, folder = timecourse
    # a passing analysis: exit 0 (the diagnostics are marked passed, as test_report does)
    good = dataclasses.replace(res, diagnostics=dataclasses.replace(res.diagnostics, passed=True, problems=()))
    write_report(good, tmp_path / "good", figures=False)
    assert main(["report", str(tmp_path / "good"), "--out", str(tmp_path / "good2"), "--quiet"]) == 0
    assert (tmp_path / "good2" / "report.md").read_text() == (tmp_path / "good" / "report.md").read_text()
    assert not (tmp_path / "good2" / "figures").exists()  # the report had none
    # this tiny fit failed its gate: the re-rendered report says FAILED and the command exits 1, as the fit did
    assert main(["report", str(folder), "--out", str(tmp_path / "new"), "--quiet"]) == 1
    _assert_same_report(folder, tmp_path / "new")
    # in place (the default --out), no --force needed
    assert main(["report", str(tmp_path / "new"), "--quiet"]) == 1
    _assert_same_report(folder, tmp_path / "new")
    assert capsys.readouterr().err == ""
    # an --out that holds the source would delete it
    assert main(["report", str(tmp_path / "new"), "--out", str(tmp_path), "--quiet"]) == 2
    assert "holds the report folder" in capsys.readouterr().err
    assert (tmp_path / "new" / "report.md").exists()


def test_cli_report_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--out", "--force", "--quiet", "FOLDER", "without refitting"):
        assert option in text


def test_not_a_report_folder_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine\n")
    with pytest.raises(DataError, match="not a bayes-igf1 report folder"):
        load_result(tmp_path)
    with pytest.raises(DataError, match="not a folder"):
        load_result(tmp_path / "missing")
    (tmp_path / "results.json").write_text(json.dumps({"something": "else"}))
    with pytest.raises(DataError, match="not the results.json of a bayes-igf1 report"):
        load_result(tmp_path)
    assert main(["report", str(tmp_path), "--out", str(tmp_path.parent / "out-x"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not the results.json of a bayes-igf1 report" in err and "Traceback" not in err
    assert not (tmp_path.parent / "out-x").exists()


def test_report_of_an_older_version_says_rerun(factorial, tmp_path):
    _, folder = factorial
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    doc = json.loads((old / "results.json").read_text())
    for key in RELOAD_KEYS:
        doc.pop(key)
    (old / "results.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match="rerun the analysis with this version"):
        load_result(old)
    # results.json complete, but posterior.nc without the input groups
    shutil.copy(folder / "results.json", old / "results.json")
    with xr.open_datatree(folder / "posterior.nc", engine="h5netcdf") as tree:
        xr.DataTree.from_dict({"posterior": tree["posterior"].to_dataset().load()}).to_netcdf(
            old / "posterior.nc", engine="h5netcdf")
    with pytest.raises(DataError, match="tidy_data.*rerun the analysis with this version"):
        load_result(old)
    (old / "posterior.nc").unlink()
    with pytest.raises(DataError, match="no posterior.nc.*rerun the analysis with this version"):
        load_result(old)


def test_frame_round_trip_through_netcdf(tmp_path):
    frame = pd.DataFrame({
        "row": np.array([5, 7, 9], dtype=np.int64),
        "dose": pd.Categorical([30, 0, 10], categories=[0, 10, 30]),        # numbers as categories, in order
        "group": pd.Categorical(["b", None, "a"], categories=["b", "a"]),  # reference "b" first; one missing
        "animal": pd.array(["m1", None, "m3"], dtype="str"),
        "note": pd.Series(["x", None, "z"], dtype=object),
        "value": [1.5, np.nan, 3.0],
        "censored": [True, False, True],
        "a/b": ["p", "q", "r"],                                            # not a netCDF variable name
    }, index=[3, 4, 8])
    ds = frame_to_dataset(frame, dim="tidy_row")
    xr.DataTree.from_dict({"/t": ds}).to_netcdf(tmp_path / "f.nc", engine="h5netcdf")
    with xr.open_datatree(tmp_path / "f.nc", engine="h5netcdf") as tree:
        back = dataset_to_frame(tree["t"].to_dataset().load(), dim="tidy_row")
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    empty = frame.iloc[:0]
    back = dataset_to_frame(frame_to_dataset(empty, dim="r"), dim="r")
    assert list(back.columns) == list(frame.columns) and len(back) == 0
