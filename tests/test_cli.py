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
