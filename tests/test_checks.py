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
    assert out.loc["sd", "p"] == 0.5            # every replicate has SD sqrt(2), as observed: a tie, mid-p 1/2


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


# --------------------------------------------------------------- right-censored data, censored alike


def test_km_summaries_match_survfit_on_the_rats_study():
    # survival::rats (tests/fixtures/reviewer_golden.R): survfit(Surv(time, status) ~ rx + sex),
    # print(..., rmean = 104): medians NA, NA, 103, NA; restricted means below.
    from pathlib import Path

    rats = pd.read_csv(Path(__file__).parent / "fixtures" / "rats.csv")
    r_rmean = {(0, "f"): 97.5644100555538, (0, "m"): 103.299625468165, (1, "f"): 93.4081796661079, (1, "m"): 104.0}
    r_median = {(0, "f"): np.inf, (0, "m"): np.inf, (1, "f"): 103.0, (1, "m"): np.inf}
    for key, g in rats.groupby(["rx", "sex"]):
        median, rmean = checks.km_summaries(g["time"].to_numpy(), g["status"].to_numpy() == 1, tau=104.0)
        assert rmean == pytest.approx(r_rmean[key], rel=1e-12)
        assert median == r_median[key]


def test_km_summaries_by_hand_and_row_by_row():
    # times 2, 3+, 3, 5, 8+ (+ = censored): S = 4/5 after 2; at 3 the event comes before the
    # censoring, S = 4/5 x 3/4 = 3/5; after 5, 3/5 x 1/2 = 3/10 -> median 5. Area to tau = 6:
    # 2 x 1 + 1 x 4/5 + 2 x 3/5 + 1 x 3/10 = 4.3.
    t = np.array([3.0, 2.0, 5.0, 3.0, 8.0])
    e = np.array([False, True, True, True, False])
    median, rmean = checks.km_summaries(t, e, tau=6.0)
    assert (median, rmean) == (5.0, pytest.approx(4.3))
    # vectorised over draws: each row as if alone
    rng = np.random.default_rng(3)
    tt, ee = rng.exponential(size=(7, 12)) + 0.01, rng.random((7, 12)) < 0.6
    med, rm = checks.km_summaries(tt, ee, tau=1.5)
    for i in range(7):
        assert (med[i], rm[i]) == checks.km_summaries(tt[i], ee[i], tau=1.5)


def test_censored_ppc_censors_each_replicate_at_its_own_time():
    # Truth: exponential times, each animal followed for its own time (0.3 to 3). Replicates
    # drawn from the truth and censored at each animal's own time reproduce the observed
    # number censored; censoring every replicate at the smallest follow-up (the old rule)
    # would predict nearly every animal censored.
    rng = np.random.default_rng(11)
    n, draws = 300, 2000
    follow = rng.uniform(0.3, 3.0, n)
    true = rng.exponential(1.0, n)
    censored = true >= follow
    value = np.where(censored, follow, true)
    rep = rng.exponential(1.0, (draws, n))
    rep = np.where(censored, np.minimum(rep, follow), rep)  # what PyMC gives for a censored term: clipped
    cut = np.where(censored, value, follow)  # here the follow-up of every animal is known
    table = checks.censored_ppc(rep, value, censored, cut, np.array(["all"] * n))
    share = table.set_index("statistic").loc["share censored"]
    assert share["observed"] == pytest.approx(censored.mean())
    assert 0.05 < share["p"] < 0.95
    assert abs(share["predicted_median"] - censored.mean()) < 0.05
    assert table["statistic"].tolist() == ["share censored", "Kaplan-Meier median",
                                           f"restricted mean to {cut.max():.4g}"]
    assert ((table["p"] > 0.025) & (table["p"] < 0.975)).all()
    old_rule = np.mean(rep >= follow.min(), axis=1) * n
    assert np.median(old_rule) > censored.sum() + 100  # about 216 vs 77 observed


def test_predictive_stats_mid_p_by_hand():
    # One group of 2 rows, 4 replicate draws. Observed min 1 (a value at the limit 1): the
    # replicates' minima 1, 1, 2, 0.5 -> P(> 1) = 1/4, P(= 1) = 2/4 -> mid-p 1/4 + 1/4 = 1/2.
    y = np.array([1.0, 3.0])
    rep = np.array([[1.0, 2.0], [1.0, 5.0], [2.0, 2.5], [0.5, 4.0]])
    t = checks.predictive_stats(rep, y, np.array(["g", "g"])).set_index("statistic")
    assert t.loc["min", "p"] == pytest.approx(0.5)
    # mean 2 vs replicate means 1.5, 3, 2.25, 2.25 -> 3 of 4 above, none equal
    assert t.loc["mean", "p"] == pytest.approx(0.75)
    assert t.loc["max", "predicted_median"] == pytest.approx(3.25)
