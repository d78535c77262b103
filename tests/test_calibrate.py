"""Simulation-based calibration: the rank statistics by hand, and a short real run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_igf1 import calibrate
from bayes_igf1.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"


def test_uniformity_chi_square_by_hand():
    # 40 ranks among 0..99 in 4 bins: counts 10, 10, 10, 10 -> chi2 0, p 1.
    ranks = pd.DataFrame({"parameter": "a", "rank": np.repeat([5, 30, 60, 90], 10)})
    u = calibrate.uniformity(ranks, n_ranks=99, bins=4)
    assert u.loc[0, "chi2"] == 0.0 and u.loc[0, "p"] == pytest.approx(1.0)
    # All 40 in one bin: chi2 = sum((o - e)^2 / e) = (30^2 + 3 * 10^2) / 10 = 120, df 3.
    ranks = pd.DataFrame({"parameter": "b", "rank": np.repeat([5], 40)})
    u = calibrate.uniformity(ranks, n_ranks=99, bins=4)
    assert u.loc[0, "chi2"] == pytest.approx(120.0)
    assert u.loc[0, "p"] == pytest.approx(stats.chi2.sf(120.0, 3))


def test_flatten_labels_elements():
    import xarray as xr

    ds = xr.Dataset({"b": (("chain", "draw", "g"), np.arange(12.0).reshape(2, 3, 2))}, coords={"g": ["x", "y"]})
    flat = calibrate._flatten(ds, ["b"], ("chain", "draw"))
    assert sorted(flat) == ["b[x]", "b[y]"]
    np.testing.assert_array_equal(flat["b[x]"], [0, 2, 4, 6, 8, 10])


def test_calibrate_cli_writes_its_outputs(tmp_path):
    out = tmp_path / "cal"
    code = main(["calibrate", "factorial", "--sims", "10", "--draws", "100", "--tune", "100", "--chains", "2",
                 "--out", str(out), "--quiet"])
    assert code == 0
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["n_sims"] == 10
    ranks = pd.read_csv(out / "ranks.csv")
    assert set(ranks["sim"]) == set(range(10))
    assert ranks["rank"].between(0, 99).all()
    assert (out / "rank_histograms.png").stat().st_size > 0
    cov = pd.read_csv(out / "coverage.csv")
    assert set(cov["level"]) == {0.5, 0.8, 0.95}


def test_calibrate_refuses_too_few_sims(capsys):
    assert main(["calibrate", "timecourse", "--sims", "3", "--quiet"]) == 2
    assert "at least 10" in capsys.readouterr().err
