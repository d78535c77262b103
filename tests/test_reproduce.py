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
    assert "Claim supported?" in page and "MCMC diagnostics" in page and reproduce.DECISION_RULE[:40] in page
    assert row["verdict"] in ("supported", "not supported", "undecided") and "BF10" in row["verdict_reason"]
    manuscript = (out / "manuscript.tex").read_text()
    assert r"\input{fst_nab/tables/descriptives.tex}" in manuscript
    assert manuscript.index("descriptives.tex") < manuscript.index("contrasts.tex")
    # each figure through its own .tex (its report caption), the analysis's folder on the graphics path
    assert r"\graphicspath{{fst_nab/}}" in manuscript and r"\input{fst_nab/figures/factorial.tex}" in manuscript
    assert manuscript.index("figures/factorial.tex") < manuscript.index("figures/ppc.tex")  # the design's first
    figure = (out / "fst_nab" / "figures" / "factorial.tex").read_text()
    assert r"\includegraphics[width=\linewidth]{figures/factorial.png}" in figure and "Interaction plot" in figure
    err = capsys.readouterr().err
    assert "(1/1)" in err and "index.html" in err  # progress, and where to look


def test_reproduce_unknown_key_is_a_usage_error(tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path), "--only", "nope"]) == 2
    assert "fst_nab" in capsys.readouterr().err


def test_run_from_first():
    from bayes_igf1.designs.timecourse import run_from_first

    assert run_from_first([1.0, 2.0, 3.0, 4.0], {1.0, 2.0, 4.0}) == [1.0, 2.0]
    assert run_from_first([1.0, 2.0], set()) == []


def _result(inter, effect, bf10, *, rope=None, ratio=False):
    """A result with just what the factorial's verdict reads: one interaction, one simple effect, one BF."""
    from types import SimpleNamespace

    import pandas as pd

    scale = "ratio of ratios" if ratio else "difference of differences"
    rows = [
        {"name": "interaction", "cell": "k|n", "reference": "s|I", "group": "t:a", "scale": scale,
         "ci_low": inter[0], "ci_high": inter[1], "ci_prob": 0.95, "ci_kind": "hdi",
         "prob_in_rope": rope if rope is not None else float("nan"), "rope_low": -20.0, "rope_high": 20.0},
        {"name": "simple_effect", "cell": "k|I", "reference": "s|I", "group": "t", "scale": scale,
         "ci_low": effect[0], "ci_high": effect[1], "ci_prob": 0.95, "ci_kind": "hdi"},
    ]
    bf = pd.DataFrame({"prior_multiplier": [1.0], "cell": ["k|n"], "BF10": [bf10]})
    return SimpleNamespace(estimates=pd.DataFrame(rows), checks={"bayes_factor": bf}, settings={"blocker": "a"},
                           sheet=SimpleNamespace(factors=("t", "a")))


@pytest.mark.parametrize("claim, inter, effect, bf10, rope, word", [
    # blocked: a credible effect (-80 to -40), an interaction of the opposite sign, BF10 > 3
    ("blocked", (30, 90), (-80, -40), 12.0, None, "supported"),
    ("blocked", (30, 90), (-80, -40), 2.0, None, "undecided"),       # BF10 not > 3
    ("blocked", (-90, -30), (-80, -40), 12.0, None, "undecided"),    # same direction: more effect, not blockade
    ("blocked", (-10, 40), (-80, -40), 0.2, None, "not supported"),  # includes 0 and BF10 < 1/3
    ("blocked", (-10, 40), (-80, -40), 0.5, None, "undecided"),
    # not blocked: equivalence and BF01 > 3 with a credible effect
    ("not blocked", (-12, 15), (-60, -15), 0.1, 0.97, "supported"),
    ("not blocked", (-12, 15), (-60, -15), 0.1, 0.90, "undecided"),
    ("not blocked", (-12, 15), (-60, -15), 0.1, None, "undecided"),   # no ROPE: not judged
    ("not blocked", (25, 70), (-60, -15), 8.0, 0.01, "not supported"),
])
def test_factorial_verdict_applies_the_stated_rule(claim, inter, effect, bf10, rope, word):
    from bayes_igf1.designs.base import get_design

    assert get_design("factorial").verdict(_result(inter, effect, bf10, rope=rope), claim)[0] == word


def test_verdict_on_a_ratio_scale_uses_one_as_no_effect():
    from bayes_igf1.designs.base import get_design

    res = _result((1.4, 3.0), (0.3, 0.8), 20.0, ratio=True)
    assert get_design("factorial").verdict(res, "blocked")[0] == "supported"
    res = _result((0.76, 3.43), (0.28, 0.80), 0.649, ratio=True)  # the shipped NSFT
    assert get_design("factorial").verdict(res, "blocked")[0] == "undecided"


@pytest.mark.parametrize("auc, eff_low, word", [
    ([(160, 300), (500, 700)], [5, 20], "supported"),
    ([(-20, 300), (500, 700)], [5, 20], "undecided"),
    ([(-200, 30), (-100, 40)], [-5, -2], "not supported"),
])
def test_timecourse_verdict_applies_the_stated_rule(auc, eff_low, word):
    from types import SimpleNamespace

    import pandas as pd

    from bayes_igf1.designs.base import get_design

    rows = [{"name": "auc_difference", "group": f"g{i}", "ci_low": lo, "ci_high": hi, "scale": "% of baseline x h"}
            for i, (lo, hi) in enumerate(auc)]
    rows += [{"name": "effect_vs_reference", "group": "g0", "ci_low": lo, "ci_high": lo + 50, "scale": "difference"}
             for lo in eff_low]
    res = SimpleNamespace(estimates=pd.DataFrame(rows))
    assert get_design("timecourse").verdict(res, "raised")[0] == word
