"""Model checks on hand-made draws, with answers worked by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_igf1 import checks


def _tree(ll: np.ndarray, *, obs_positions, extra=None) -> xr.DataTree:
    """A tree whose log-likelihood is ``ll`` (chain, draw, obs) for observations at these positions."""
    chains, draws, _ = ll.shape
    rng = np.random.default_rng(0)
    groups = {
        "posterior": xr.Dataset({"theta": (("chain", "draw"), rng.normal(size=(chains, draws)))}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), ll)}, coords={"obs": list(obs_positions)}),
    }
    if extra:
        groups.update(extra)
    return xr.DataTree.from_dict(groups)


def test_loo_of_a_constant_log_likelihood_is_its_sum():
    # Every draw gives (to within 1e-7) the same pointwise log-likelihood: the importance
    # weights are uniform, so elpd_loo = sum of the pointwise values and p_loo = 0.
    # (Exactly equal draws leave Pareto smoothing nothing to fit.)
    point = np.array([-1.0, -2.0, -0.5, -1.5])
    ll = point + 1e-7 * np.random.default_rng(1).normal(size=(2, 200, 4))
    frame = pd.DataFrame({"animal": ["a", "a", "b", "b"]})
    out = checks.loo_check(_tree(ll, obs_positions=[0, 1, 2, 3]), frame)
    assert out["elpd_loo"] == pytest.approx(point.sum(), abs=1e-5)
    assert out["p_loo"] == pytest.approx(0.0, abs=1e-5)
    assert out["n_obs"] == 4 and out["animals_flagged"] == []


def test_compare_models_ranks_and_weights():
    noise = 1e-7 * np.random.default_rng(2).normal(size=(2, 100, 3))
    good = -1.0 + noise
    bad = -3.0 + noise
    table = checks.compare_models({"good": _tree(good, obs_positions=[0, 1, 2]),
                                   "bad": _tree(bad, obs_positions=[0, 1, 2])}, var_names=("y",))
    assert list(table["model"]) == ["good", "bad"]
    assert table["elpd_loo"].tolist() == pytest.approx([-3.0, -9.0], abs=1e-5)
    assert table["elpd_diff"].tolist() == pytest.approx([0.0, -6.0], abs=1e-5)
    assert table["weight"].iloc[0] == pytest.approx(1.0, abs=1e-6)


def test_posterior_predictive_p_values_by_hand():
    # Observed y = [1, 3] in group g; replicates: draw 1 -> [0, 2] (mean 1), draw 2 -> [4, 6] (mean 5).
    obs = xr.Dataset({"y": (("obs",), [1.0, 3.0])}, coords={"obs": [0, 1]})
    rep = xr.Dataset({"y": (("chain", "draw", "obs"), np.array([[[0.0, 2.0], [4.0, 6.0]]]))}, coords={"obs": [0, 1]})
    tree = xr.DataTree.from_dict({"observed_data": obs, "posterior_predictive": rep})
    frame = pd.DataFrame({"group": ["g", "g"]})
    out = checks.posterior_predictive_stats(tree, frame, by="group").set_index("statistic")
    assert out.loc["mean", "observed"] == 2.0
    assert out.loc["mean", "p"] == 0.5          # P(mean(yrep) >= 2) = 1/2
    assert out.loc["max", "p"] == 0.5           # maxima 2 and 6 against 3
    assert out.loc["sd", "p"] == 1.0            # every replicate has SD sqrt(2), as observed


def test_prior_predictive_share_outside():
    prior = xr.Dataset({"y": (("chain", "draw", "obs"), np.arange(10.0).reshape(1, 10, 1))})
    tree = xr.DataTree.from_dict({"prior_predictive": prior})
    out = checks.prior_predictive_range(tree, low=2.0, high=7.0)
    assert out["share_outside"] == pytest.approx(0.4)  # 0, 1, 8, 9


def test_prior_scale_table_keeps_headline_rows_per_multiplier():
    def result(shift):
        est = pd.DataFrame({"label": ["a", "b"], "name": ["x", "y"], "headline": [True, False],
                            "median": [1.0 + shift, 5.0], "ci_low": [0.0, 4.0], "ci_high": [2.0, 6.0]})
        return SimpleNamespace(estimates=est)

    table = checks.prior_scale_table({1.0: result(0.0), 0.5: result(-0.1), 2.0: result(0.2)})
    assert table["label"].unique().tolist() == ["a"]
    assert table["multiplier"].tolist() == [0.5, 1.0, 2.0]
    assert table["median"].tolist() == pytest.approx([0.9, 1.0, 1.2])
