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


# ------------------------------------------------------------------ synthetic shapes (issue 12)


@pytest.mark.parametrize(
    ("shape", "dims", "params", "n_obs"),
    [
        # 2 x 2 x 2 between animals: 8 cells x 8 animals, one row each
        ("2x2x2", {"A": ("a1", "a2"), "B": ("b1", "b2"), "C": ("c1", "c2")}, ["cell_mean", "sigma"], 64),
        # 2 between x 3 within: 2 x 8 animals, each on the 3 levels of B; 3 rows per animal: non-centred intercept
        ("2x3w", {"A": ("a1", "a2"), "B": ("b1", "b2", "b3")}, ["cell_mean", "sigma", "sigma_animal", "animal_z"], 48),
    ],
)
def test_calibration_model_builds_for_the_new_shapes(shape, dims, params, n_obs):
    from bayes_igf1.designs.base import get_design

    model, names, priors = get_design("factorial").calibration_model(DATA, shape=shape)
    assert names == params
    assert {d: tuple(model.coords[d]) for d in dims} == dims
    assert len(model.coords["obs"]) == n_obs
    if "animal_z" in names:
        assert len(model.coords["animal"]) == 16 and "sigma_animal" in priors
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert all(np.all(np.isfinite(g)) for g in model.compile_dlogp()(point))
    # the data the SBC swaps in: y_data of the observed rows
    assert model["y_data"].get_value().shape == (n_obs,)


@pytest.mark.parametrize(("shape", "match"), [("2", "at least two"), ("2x1", "'1' is not"), ("2xw", "'w' is not"),
                                              ("", "at least two"), ("2x3q", "'3q' is not")])
def test_parse_shape_errors(shape, match):
    from bayes_igf1.errors import DesignError

    with pytest.raises(DesignError, match=match):
        calibrate.parse_shape(shape)
    assert calibrate.parse_shape("3 x 2W") == ([3, 2], [False, True])


def test_calibrate_cli_shape_errors(tmp_path, capsys):
    assert main(["calibrate", "timecourse", "--shape", "2x2", "--out", str(tmp_path / "a"), "--quiet"]) == 2
    assert "shipped study only (no --shape)" in capsys.readouterr().err
    assert main(["calibrate", "factorial", "--n-per-cell", "4", "--out", str(tmp_path / "b"), "--quiet"]) == 2
    assert "--n-per-cell sets the size of a synthetic --shape" in capsys.readouterr().err
    assert main(["calibrate", "factorial", "--shape", "2x1", "--out", str(tmp_path / "c"), "--quiet"]) == 2
    assert "Fix: e.g. --shape 2x2x2" in capsys.readouterr().err


def test_calibrate_cli_runs_a_within_shape(tmp_path):
    out = tmp_path / "cal"
    code = main(["calibrate", "factorial", "--shape", "2x3w", "--n-per-cell", "3", "--sims", "10", "--draws", "100",
                 "--tune", "100", "--chains", "2", "--out", str(out), "--quiet"])
    assert code == 0
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["shape"] == "2x3w" and summary["n_sims"] == 10
    # 6 cell means, sigma, sigma_animal and one animal_z per animal (2 groups x 3)
    assert summary["n_parameters"] == 6 + 2 + 6
    assert set(pd.read_csv(out / "ranks.csv")["parameter"]) >= {"cell_mean[a2, b3]", "sigma_animal", "animal_z[M06]"}


def test_run_sbc_refuses_a_model_it_cannot_simulate_from():
    import pymc as pm

    from bayes_igf1.errors import DesignError
    from bayes_igf1.sampling import SamplerSettings

    with pm.Model() as model:  # the likelihood as a potential: no generative 'y' to draw data sets from
        mu = pm.Normal("mu", 0, 1)
        y = pm.Data("y_data", np.zeros(3))
        pm.Potential("y_joint", pm.logp(pm.Normal.dist(mu, 1), y).sum())
    with pytest.raises(DesignError, match="has no observed variable 'y'.*cannot run on it yet"):
        calibrate.run_sbc(model, design="joint", parameters=["mu"], n_sims=10, settings=SamplerSettings(chains=2))
