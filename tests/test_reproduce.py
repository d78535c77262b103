"""`bayes-igf1 reproduce`: one analysis end to end, the index and its findings."""

from __future__ import annotations

import json

import pytest

from bayes_igf1 import reproduce
from bayes_igf1.cli import main


def test_study_covers_every_shipped_experiment():
    files = {a.file for a in reproduce.STUDY}
    assert files == {"microdialysis_igf1.csv", "fst_igf1_nab.csv", "behaviour_battery.csv", "bdnf_igf1_crossover.csv"}
    assert len({a.key for a in reproduce.STUDY}) == len(reproduce.STUDY)


def test_reproduce_one_analysis_writes_report_and_index(tmp_path, capsys):
    out = tmp_path / "results"
    code = main(["reproduce", "--out", str(out), "--only", "fst_nab", "--draws", "300", "--tune", "300",
                 "--chains", "2"])
    assert code in (0, 1)
    index = json.loads((out / "index.json").read_text())
    (row,) = index["analyses"]
    assert row["key"] == "fst_nab" and row["passed"] == (code == 0)
    assert "ketamine vs saline within IgG" in row["finding"] and "BF10" in row["finding"]
    assert (out / "fst_nab" / "report.html").is_file()
    page = (out / "index.html").read_text()
    assert "fst_nab/report.html" in page and "simulated" in page
    err = capsys.readouterr().err
    assert "(1/1)" in err and "index.html" in err  # progress, and where to look


def test_reproduce_unknown_key_is_a_usage_error(tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path), "--only", "nope"]) == 2
    assert "fst_nab" in capsys.readouterr().err


def test_run_from_first():
    from bayes_igf1.designs.timecourse import run_from_first

    assert run_from_first([1.0, 2.0, 3.0, 4.0], {1.0, 2.0, 4.0}) == [1.0, 2.0]
    assert run_from_first([1.0, 2.0], set()) == []
