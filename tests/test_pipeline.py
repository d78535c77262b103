"""The generic pipeline (bayes_igf1.pipeline.analyse): its steps, in order, for any design."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

import bayes_igf1
from bayes_igf1.designs.base import DESIGNS, get_design
from bayes_igf1.errors import DesignError
from bayes_igf1.pipeline import SAMPLER_OPTIONS, Setup, analyse


class _MeanDesign:
    """A one-parameter design: y ~ Normal(mu, 1), mu ~ Normal(0, 10); the estimand is 2 mu."""

    name = "mean"

    def __init__(self):
        self.calls = []

    def setup(self, source, *, scale=1.0):
        self.calls.append("setup")
        y = np.asarray(source, dtype=float)
        with pm.Model() as model:
            mu = pm.Normal("mu", 0.0, 10.0)
            pm.Normal("y", mu, scale, observed=y)

        def twice(post):
            return {"twice_mu": 2 * post["mu"]}

        def gated(post):  # called by the gate, during the fit
            warnings.warn("expected by the design", UserWarning, stacklevel=1)
            return twice(post)

        return Setup(data=y, model=model, free=["mu"], gated=gated, stored=lambda post: xr.Dataset(twice(post)),
                     state={"scale": scale}, fit_options={"predictive": False},
                     expected_warnings=((UserWarning, r"(?s).*expected by the design"),))

    def finish(self, setup, tree, diag, *, sampler, retry, progress):
        self.calls.append("finish")
        return {"tree": tree, "diag": diag, "sampler": sampler, "retry": retry, "state": setup.state}


def test_the_pipeline_runs_setup_fit_store_finish_in_order():
    y = np.random.default_rng(1).normal(3.0, 1.0, size=50)
    design = _MeanDesign()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = analyse(design, y, draws=300, tune=300, chains=2, seed=7, retry=False, scale=1.0)
    assert not [w for w in seen if "expected by the design" in str(w.message)]  # the design's expected warning
    assert design.calls == ["setup", "finish"]
    tree = out["tree"]
    # the estimands group holds the stored draws: exactly twice the posterior draws of mu
    np.testing.assert_array_equal(tree["estimands"]["twice_mu"].values, 2 * tree["posterior"]["mu"].values)
    # the posterior is the conjugate one: mean 50 ybar / (50 + 1/100), SD 1 / sqrt(50 + 0.01)
    prec = 50 + 1 / 100
    assert abs(float(tree["posterior"]["mu"].mean()) - y.sum() / prec) < 4 * (1 / np.sqrt(prec)) / np.sqrt(200)
    assert "posterior_predictive" not in tree.children  # the design's fit option
    assert out["sampler"].draws == 300 and out["sampler"].seed == 7 and out["retry"] is False
    assert out["state"] == {"scale": 1.0}


@pytest.mark.parametrize("bad, message", [({"draws": 5}, "draws must be a whole number >= 10"),
                                          ({"chains": 1}, "chains must be a whole number >= 2"),
                                          ({"seed": -1}, "seed must be a non-negative whole number")])
def test_bad_sampler_settings_stop_before_the_design_is_asked(bad, message):
    design = _MeanDesign()
    with pytest.raises(DesignError, match=message):
        analyse(design, [1.0, 2.0], **bad)
    assert design.calls == []


def test_an_unknown_option_is_an_error_listing_the_known_ones():
    frame = pd.DataFrame({"a": ["x", "y"], "b": ["u", "v"], "y": [1.0, 2.0]})
    with pytest.raises(DesignError, match=r"analyse_factorial has no option 'factor'.*outcome, factors"):
        bayes_igf1.analyse("factorial", frame, outcome="y", factor=["a", "b"])


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_each_designs_setup_takes_exactly_its_analyse_functions_options(name):
    """The analyse_* signature is the one list of a design's options: the pipeline's setup step must take
    every one of them (bar the sampler's), no more (an option added to one and not the other fails here)."""
    design = get_design(name)
    module = inspect.getmodule(type(design))
    func = getattr(module, design.entry)
    public = [p for p, v in inspect.signature(func).parameters.items() if v.kind is v.KEYWORD_ONLY
              and p not in SAMPLER_OPTIONS]
    setup = [p for p, v in inspect.signature(module._setup).parameters.items() if v.kind is v.KEYWORD_ONLY]
    assert sorted(public) == sorted(setup)


def test_the_public_api_exposes_the_pipeline():
    assert bayes_igf1.analyse is analyse
