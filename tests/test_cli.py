"""The command line: help, inspect, exit codes, the FAILED path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bayes_igf1.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"
MICRO = str(DATA / "microdialysis_igf1.csv")
TC_COLUMNS = ["--animal", "mouse", "--group", "treatment", "--time", "hour", "--value", "igf1_pg_ml", "--lloq", "8"]


@pytest.mark.parametrize("command", [[], ["inspect"], ["timecourse"], ["factorial"], ["reproduce"]])
def test_help_explains_every_option(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main(command + ["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "usage: bayes-igf1" in text
    if command in (["timecourse"], ["factorial"]):
        for option in ("--where", "--reference", "--seed", "--draws", "--tune", "--chains", "--out", "--quiet", "--rope"):
            assert option in text


def test_inspect_json_gives_the_data_block(capsys):
    assert main(["inspect", MICRO, *TC_COLUMNS, "--json"]) == 0
    block = json.loads(capsys.readouterr().out)
    assert block["rows_read"] == 168
    assert block["rows_used"] == 165
    assert {e["reason"] for e in block["excluded"]} == {"missing value (lost fraction)"}
    assert block["n_per_group"] == {"saline": 7, "ketamine 10": 8, "ketamine 30": 6}


def test_inspect_text_prints_ledger_and_design(capsys):
    assert main(["inspect", str(DATA / "fst_igf1_nab.csv"), "--outcome", "immobility_s", "--factor", "treatment",
                 "--factor", "antibody", "--animal", "mouse"]) == 0
    out = capsys.readouterr().out
    assert "38 animals" in out
    assert "saline|IgG: 10" in out


def test_bad_input_exits_2_with_a_message_not_a_traceback(tmp_path, capsys):
    sheet = tmp_path / "bad.csv"
    sheet.write_text("mouse,treatment,hour,igf1\nM1,saline,-1,12\nM1,saline,1,abc\n")
    code = main(["inspect", str(sheet), "--animal", "mouse", "--group", "treatment", "--time", "hour",
                 "--value", "igf1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.csv" in err and "row 3" in err and "Fix" in err
    assert "Traceback" not in err


def test_missing_column_lists_the_columns(capsys):
    code = main(["inspect", MICRO, "--animal", "mouse", "--group", "treatment", "--time", "hour", "--value", "IGF"])
    err = capsys.readouterr().err
    assert code == 2 and "igf1_pg_ml" in err


def test_missing_file_exits_2(capsys):
    assert main(["inspect", "no/such/file.csv", *TC_COLUMNS]) == 2
    assert "no/such/file.csv" in capsys.readouterr().err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["timecourse", MICRO, "--animal", "mouse"])
    assert exc.value.code == 2


def test_failed_diagnostics_write_a_failed_report_and_exit_1(tmp_path, capsys):
    """10 tuning steps and 20 draws cannot pass the gate, even after the automatic refit."""
    out = tmp_path / "res"
    code = main(["timecourse", MICRO, *TC_COLUMNS, "--tune", "10", "--draws", "20", "--chains", "2",
                 "--out", str(out), "--quiet"])
    assert code == 1
    doc = json.loads((out / "results.json").read_text())
    assert doc["diagnostics"]["passed"] is False
    assert doc["diagnostics"]["attempts"] == 2
    assert (out / "report.md").read_text().lstrip().startswith("# FAILED") or "FAILED" in (out / "report.md").read_text()[:400]
    assert capsys.readouterr().err == ""  # --quiet silences progress
    # written whole: the marker lists every file; no temporary folder or lock is left beside it
    marker = json.loads((out / ".bayes-igf1").read_text())
    assert marker["kind"] == "report" and "results.json" in marker["files"] and "posterior.nc" in marker["files"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        sorted([*marker["files"], ".bayes-igf1"])
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_timecourse_options_from_the_cli(tmp_path):
    """--where (OR on one column), --reference, --scale, --baseline, --seed, --ci, --draws/--tune/--chains, --out."""
    out = tmp_path / "tc"
    code = main(["timecourse", MICRO, *TC_COLUMNS, "--where", "treatment=saline", "--where", "treatment=ketamine 30",
                 "--reference", "ketamine 30", "--scale", "identity", "--baseline", "none", "--seed", "7",
                 "--ci", "0.9", "--draws", "200", "--tune", "200", "--chains", "2", "--no-retry", "--out", str(out),
                 "--quiet"])
    assert code in (0, 1)
    doc = json.loads((out / "results.json").read_text())
    s = doc["settings"]
    assert (s["reference"], s["scale"], s["baseline"], s["seed"], s["draws"], s["chains"]) == \
        ("ketamine 30", "identity", "none", 7, 200, 2)
    assert doc["data"]["n_per_group"] == {"ketamine 30": 6, "saline": 7}
    excluded = [e["reason"] for e in doc["data"]["excluded"]]
    assert excluded.count("filtered out by --where treatment=saline or treatment=ketamine 30") == 8 * 8
    eff = [e for e in doc["estimates"] if e["name"] == "effect_vs_reference"]
    assert {e["group"] for e in eff} == {"saline"} and {e["reference"] for e in eff} == {"ketamine 30"}
    assert len({e["time"] for e in eff}) == 8  # no baseline: every sampled time is modelled
    assert all(e["ci_prob"] == 0.9 and e["scale"] == "difference vs reference" for e in eff)
    # saline is lower than ketamine 30 after the injection on the measured scale too
    assert sum(e["median"] < 0 for e in eff if e["time"] > 0) >= 5


def test_same_seed_same_numbers():
    from bayes_igf1.designs.factorial import analyse_factorial

    kw = dict(outcome="immobility_s", factors=["treatment", "antibody"], draws=200, tune=200, chains=2, seed=3,
              retry=False, bf_sensitivity=False)
    a = analyse_factorial(DATA / "fst_igf1_nab.csv", **kw).estimates
    b = analyse_factorial(DATA / "fst_igf1_nab.csv", **kw).estimates
    assert a[["median", "ci_low", "ci_high"]].equals(b[["median", "ci_low", "ci_high"]])


def test_prior_sensitivity_and_compare_refits(tmp_path):
    out = tmp_path / "fx"
    code = main(["factorial", str(DATA / "fst_igf1_nab.csv"), "--outcome", "immobility_s", "--factor", "treatment",
                 "--factor", "antibody", "--prior-sensitivity", "--compare", "--draws", "200", "--tune", "200",
                 "--chains", "2", "--no-retry", "--out", str(out), "--quiet"])
    assert code in (0, 1)
    doc = json.loads((out / "results.json").read_text())
    scales = {r["multiplier"] for r in doc["checks"]["prior_scale"]}
    assert scales == {0.5, 1.0, 2.0}
    models = [r["model"] for r in doc["checks"]["model_comparison"]]
    assert sorted(models) == ["as fitted (family=normal)", "family=student"]
    assert sum(r["weight"] for r in doc["checks"]["model_comparison"]) == pytest.approx(1.0)
    text = (out / "report.md").read_text()
    assert "Model comparison (PSIS-LOO" in text and "Prior scales ×0.5, ×2" in text


def test_new_options_are_in_the_help(capsys):
    for command, options in ((["timecourse"], ("--time-unit",)), (["inspect"], ("--time-unit", "--event")),
                             (["factorial"], ("--event", "--censored", "--censor-at"))):
        with pytest.raises(SystemExit):
            main(command + ["--help"])
        text = capsys.readouterr().out
        for option in options:
            assert option in text


def test_inspect_time_unit_and_references(capsys):
    assert main(["inspect", MICRO, *TC_COLUMNS]) == 0
    out = capsys.readouterr().out
    assert "times: -2, -1, 1, 2, 3, 4, 5, 6\n" in out  # the sheet has no unit: none is printed
    assert "reference treatment = saline: named like a control (saline)" in out
    assert main(["inspect", MICRO, *TC_COLUMNS, "--time-unit", "hours"]) == 0
    assert "times: -2, -1, 1, 2, 3, 4, 5, 6 h\n" in capsys.readouterr().out
    assert main(["inspect", MICRO, *TC_COLUMNS, "--json"]) == 0
    block = json.loads(capsys.readouterr().out)
    assert block["reference_level"] == {"treatment": "saline"}
    assert block["reference_rule"] == {"treatment": "named like a control (saline)"}


def test_inspect_time_unit_errors_exit_2(tmp_path, capsys):
    sheet = tmp_path / "days.csv"
    sheet.write_text("mouse,treatment,day,y\n" + "".join(
        f"{m},{g},Day {t},{10 + t}\n" for m, g in (("a", "veh"), ("b", "veh"), ("c", "drug"), ("d", "drug"))
        for t in (0, 1)))
    cols = ["--animal", "mouse", "--group", "treatment", "--time", "day", "--value", "y"]
    assert main(["inspect", str(sheet), *cols]) == 0
    assert "times: 0, 1 d\n" in capsys.readouterr().out
    assert main(["inspect", str(sheet), *cols, "--time-unit", "h"]) == 2
    err = capsys.readouterr().err
    assert "days.csv" in err and "row 2" in err and "column 'day'" in err and "--time-unit gives h" in err
    assert main(["inspect", str(sheet), *cols, "--time-unit", "fortnight"]) == 2
    assert "h, min, day or week" in capsys.readouterr().err


def test_inspect_event_and_censored_columns(capsys):
    nsf = str(Path(__file__).parent / "fixtures" / "nsf_latency.csv")
    cols = ["--outcome", "latency", "--factor", "treatment", "--factor", "antibody", "--animal", "mouse"]
    # 'ate' is FALSE in 10 of the 37 rows (all at the 600 s cut-off): 10 censored
    assert main(["inspect", nsf, *cols, "--event", "ate"]) == 0
    assert "censored values: 10 (right)" in capsys.readouterr().out
    assert main(["inspect", nsf, *cols, "--event", "ate", "--censored", "ate"]) == 2
    assert "both --censored 'ate' and --event 'ate' are given" in capsys.readouterr().err


def _record(seen: dict, name: str):
    """A stand-in for an API function: records its keyword arguments, then stops (exit 2)."""
    from bayes_igf1.errors import BayesIGF1Error

    def call(source, **kw):
        seen[name] = kw
        raise BayesIGF1Error("stop here: the test only checks what the CLI passes")
    return call


def test_timecourse_and_factorial_pass_time_unit_and_event_to_the_api(monkeypatch):
    """The CLI hands --time-unit and --event to analyse_timecourse / analyse_factorial (no fit here)."""
    import bayes_igf1.designs.factorial as fx
    import bayes_igf1.designs.timecourse as tc

    seen = {}
    monkeypatch.setattr(tc, "analyse_timecourse", _record(seen, "timecourse"))
    monkeypatch.setattr(fx, "analyse_factorial", _record(seen, "factorial"))
    assert main(["timecourse", MICRO, *TC_COLUMNS, "--time-unit", "day", "--quiet"]) == 2
    assert seen["timecourse"]["time_unit"] == "day"
    assert main(["timecourse", MICRO, *TC_COLUMNS, "--quiet"]) == 2
    assert seen["timecourse"]["time_unit"] is None
    nsf = str(Path(__file__).parent / "fixtures" / "nsf_latency.csv")
    assert main(["factorial", nsf, "--outcome", "latency", "--factor", "treatment", "--factor", "antibody",
                 "--event", "ate", "--quiet"]) == 2
    assert seen["factorial"]["event"] == "ate" and seen["factorial"]["censored"] is None
    assert main(["factorial", nsf, "--outcome", "latency", "--factor", "treatment", "--factor", "antibody",
                 "--decimal", ",", "--thousands", ".", "--quiet"]) == 2
    assert (seen["factorial"]["decimal"], seen["factorial"]["thousands"]) == (",", ".")
    assert main(["timecourse", MICRO, *TC_COLUMNS, "--decimal", ",", "--quiet"]) == 2
    assert (seen["timecourse"]["decimal"], seen["timecourse"]["thousands"]) == (",", None)


def test_mostly_censored_is_a_one_line_warning_and_a_note(tmp_path, capsys):
    sheet = tmp_path / "mostly.csv"
    rows = ["mouse,treatment,antibody,latency,cut"]
    for k in range(20):  # 19 of 20 censored at 600 s
        rows.append(f"n{k},{('saline', 'ket')[k % 2]},{('IgG', 'nAb')[(k // 2) % 2]},{100 if k == 0 else 600},"
                    f"{0 if k == 0 else 1}")
    sheet.write_text("\n".join(rows) + "\n")
    assert main(["inspect", str(sheet), "--outcome", "latency", "--factor", "treatment", "--factor", "antibody",
                 "--censored", "cut"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("bayes-igf1: warning: mostly.csv: 19 of 20 rows (95.0%) are right-censored")
    assert "Warning" not in captured.err and captured.err.count("\n") == 1
    assert "note: 19 of 20 rows (95.0%)" in captured.out and "1 = censored" in captured.out


# ------------------------------------------------- exit codes 2 and 3, output folders

FST = str(DATA / "fst_igf1_nab.csv")
FX = ["factorial", FST, "--outcome", "immobility_s", "--factor", "treatment", "--factor", "antibody", "--quiet"]


@pytest.fixture
def no_fit(monkeypatch):
    """Fail the test if an analysis starts: these errors must come before fitting."""
    import bayes_igf1.designs.factorial as fx
    import bayes_igf1.designs.timecourse as tc

    def fit(*args, **kwargs):
        pytest.fail("the analysis started although the error was known before fitting")

    monkeypatch.setattr(fx, "analyse_factorial", fit)
    monkeypatch.setattr(tc, "analyse_timecourse", fit)


@pytest.mark.parametrize("option, value, message, fix", [
    ("--chains", "0", "--chains 0: --chains must be at least 2", "Fix: --chains 4 (the default"),
    ("--chains", "1", "--chains 1: --chains must be at least 2 (the diagnostics gate's R-hat compares the chains)",
     "or --chains 2 for a quick look"),
    ("--draws", "5", "--draws 5: --draws must be at least 10", "Fix: --draws 1000 (the default)"),
    ("--tune", "-1", "--tune -1: --tune must be 0 or more", "Fix: --tune 1000"),
    ("--seed", "-3", "--seed -3: --seed must be a whole number from 0", "Fix: --seed 20220412"),
    ("--ci", "95", "--ci 95: --ci must be a probability between 0 and 1", "Fix: --ci 0.95 (a probability, not a "
                                                                          "percentage)"),
    ("--ci", "0", "--ci 0: --ci must be a probability", "Fix: --ci 0.95 (the default)"),
    ("--rope", "0", "--rope 0: --rope must be a positive number", "Fix: e.g. --rope 10"),
    ("--rope", "nan", "--rope nan: --rope must be a positive number", "leave --rope out"),
    ("--prior-scale", "-1", "--prior-scale -1: --prior-scale must be a positive number", "Fix: --prior-scale 1"),
])
def test_option_errors_name_the_option_and_a_fix(option, value, message, fix, tmp_path, capsys, no_fit):
    assert main([*FX, option, value, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and fix in err and "chains=" not in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("command", [["reproduce"], ["calibrate", "factorial"], ["plan", "factorial", "--n", "6"]])
def test_sampler_options_are_checked_for_every_command(command, capsys):
    assert main([*command, "--chains", "0"]) == 2
    assert "--chains 0: --chains must be at least 2" in capsys.readouterr().err


def test_out_problems_exit_2_before_fitting(tmp_path, capsys, monkeypatch, no_fit):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("a\n")
    assert main([*FX, "--out", str(sheet)]) == 2
    assert f"--out '{sheet}' is a file, not a folder. Fix: give a folder for the report, e.g. --out " in \
        capsys.readouterr().err
    assert main([*FX, "--out", str(sheet / "res")]) == 2
    assert "lies under" in capsys.readouterr().err
    user = tmp_path / "mine"
    (user / "tables").mkdir(parents=True)
    (user / "report.md").write_text("my own")
    (user / "tables" / "anova.csv").write_text("my own")
    assert main([*FX, "--out", str(user)]) == 2
    err = capsys.readouterr().err
    assert "holds files bayes-igf1 did not write (report.md, tables/anova.csv)" in err and "add --force" in err
    assert (user / "report.md").read_text() == "my own"
    monkeypatch.chdir(tmp_path)
    assert main([*FX, "--out", ".", "--force"]) == 2
    assert "--out '.' is the root, home or working folder" in capsys.readouterr().err
    import bayes_igf1.report.writer as writer

    monkeypatch.setattr(writer, "_probe_writable", lambda folder: "read-only file system")
    assert main([*FX, "--out", str(tmp_path / "new")]) == 2
    assert "cannot be written" in capsys.readouterr().err and not (tmp_path / "new").exists()
    # calibrate and plan check their --out too (they write into it directly)
    assert main(["calibrate", "factorial", "--out", str(sheet)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_reproduce_refuses_others_files_and_leaves_nothing_on_error(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "index.html").write_text("my own page")
    assert main(["reproduce", "--out", str(out), "--only", "fst_nab"]) == 2
    assert "holds files bayes-igf1 did not write (index.html)" in capsys.readouterr().err
    assert main(["reproduce", "--out", str(out), "--only", "nope", "--force"]) == 2  # fails before any fit
    assert "fst_nab" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no temporary folder or lock left
    assert (out / "index.html").read_text() == "my own page"


def test_constant_outcome_is_exit_2_naming_the_column(tmp_path, capsys):
    sheet = tmp_path / "flat.csv"
    sheet.write_text("mouse,drug,ab,score\n" + "".join(
        f"m{k},{('veh', 'ket')[k % 2]},{('IgG', 'nAb')[k // 2 % 2]},5\n" for k in range(12)))
    code = main(["factorial", str(sheet), "--outcome", "score", "--factor", "drug", "--factor", "ab", "--quiet",
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "every value of the outcome column 'score' is 5 (in all 12 rows used)" in err and "Fix:" in err


def test_internal_error_is_exit_3_with_one_paragraph_and_a_log(tmp_path, capsys, monkeypatch):
    import bayes_igf1.designs.factorial as fx

    def crash(*args, **kwargs):
        raise ValueError("shape mismatch\nin  cell_mean")

    monkeypatch.setattr(fx, "analyse_factorial", crash)
    out = tmp_path / "res"
    assert main([*FX, "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err  # one paragraph
    assert err.startswith("bayes-igf1: internal error: the 'factorial' command failed with ValueError: "
                          "shape mismatch in cell_mean.")
    assert "not a failed diagnostic (exit 1) or input it recognised as bad (exit 2)" in err
    (log,) = tmp_path.glob("bayes-igf1-error-*.log")
    assert str(log) in err
    text = log.read_text()
    assert "Traceback" in text and "shape mismatch" in text and "command: bayes-igf1 factorial" in text
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [log.name]


def test_internal_error_log_goes_to_the_temp_folder_without_an_out(tmp_path, capsys, monkeypatch):
    import tempfile

    import bayes_igf1.io as io

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(io, "read_timecourse", lambda *a, **k: 1 / 0)
    assert main(["inspect", MICRO, *TC_COLUMNS]) == 3
    err = capsys.readouterr().err
    (log,) = tmp_path.glob("bayes-igf1-error-*.log")
    assert "the 'inspect' command failed with ZeroDivisionError: division by zero" in err and str(log) in err


def test_help_lists_the_exit_codes(capsys):
    for command in ([], ["factorial"], ["timecourse"], ["reproduce"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        text = capsys.readouterr().out
        assert "exit codes:\n  0  the analysis ran and passed" in text
        assert "\n  3  internal error" in text
        if command:
            assert "--force" in text


def test_inspect_json_into_a_closed_pipe_is_quiet(tmp_path):
    """`bayes-igf1 inspect ... --json | head -1`: no BrokenPipeError traceback, exit 0."""
    import subprocess
    import sys

    sheet = tmp_path / "big.csv"  # ~140 kB of JSON (every excluded row), more than a pipe holds
    sheet.write_text("mouse,treatment,hour,y\n" + "".join(
        f"{g}{m},{g},{t},{10 + m % 7}\n" for g in ("sal", "ket", "keu") for m in range(150)
        for t in (-2, -1, 1, 2, 3, 4, 5, 6)))
    proc = subprocess.Popen([sys.executable, "-m", "bayes_igf1.cli", "inspect", str(sheet), "--animal", "mouse",
                             "--group", "treatment", "--time", "hour", "--value", "y", "--where", "treatment=sal",
                             "--where", "treatment=ket", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parent.parent)
    assert proc.stdout.readline() == b"{\n"
    proc.stdout.close()  # as `head -1` does
    code = proc.wait(60)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert code == 0 and "Traceback" not in err and "BrokenPipe" not in err and err == ""


def test_inspect_passes_decimal_and_thousands_to_the_reader(monkeypatch):
    import bayes_igf1.io as io

    seen = {}
    monkeypatch.setattr(io, "read_timecourse", _record(seen, "timecourse"))
    monkeypatch.setattr(io, "read_factorial", _record(seen, "factorial"))
    assert main(["inspect", MICRO, *TC_COLUMNS, "--decimal", ",", "--thousands", "."]) == 2
    assert (seen["timecourse"]["decimal"], seen["timecourse"]["thousands"]) == (",", ".")
    assert main(["inspect", FST, "--outcome", "immobility_s", "--factor", "treatment", "--factor", "antibody"]) == 2
    assert (seen["factorial"]["decimal"], seen["factorial"]["thousands"]) == (None, None)  # not given: the reader decides
