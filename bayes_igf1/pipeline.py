"""``analyse(design, source, ...)``: the one place that runs an analysis's steps in order.

    design.setup(source, **options)      read + validate (Sheet, RowLedger) -> prepare -> priors -> PyMC model
    sampling.fit                         nutpie + the diagnostics gate on the free parameters and the
                                         gated estimands + one automatic refit + predictive groups
    estimands group                      the draws of every reported estimand, stored in posterior.nc
                                         (and ``prior_estimands``: the same under the prior draws)
    design.finish(setup, tree, diag)     estimates -> checks -> frequentist twin -> AnalysisResult

Every registered design's ``analyse_*`` function (``analyse_timecourse``, ``analyse_factorial``,
``analyse_summary``, ``analyse_battery``) is a thin keyword-checked wrapper over this function.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from bayes_igf1.constants import DEFAULT_SEED
from bayes_igf1.errors import DesignError

if TYPE_CHECKING:
    import pymc as pm

    from bayes_igf1.designs.base import Design
    from bayes_igf1.results import AnalysisResult


#: The pipeline's own keyword arguments; every other one is the design's.
SAMPLER_OPTIONS = ("draws", "tune", "chains", "seed", "progress", "retry")


@dataclass(frozen=True)
class Setup:
    """What a design's ``setup`` hands the pipeline: the model and what the gate and the store need.

    ``data`` is the design's prepared data and ``state`` whatever its ``finish`` needs besides
    (the Sheet, options, resolved priors, the user's settings); the pipeline does not look inside.
    """

    data: object
    model: pm.Model
    #: Parameters the diagnostics gate checks.
    free: list[str]
    #: posterior -> estimand draws the gate checks too (name -> DataArray).
    gated: Callable[[xr.Dataset], dict]
    #: posterior -> the ``estimands`` group of posterior.nc (every reported draw).
    stored: Callable[[xr.Dataset], xr.Dataset]
    state: dict = field(default_factory=dict)
    #: Warnings the design expects while sampling, silenced: (category, message regex) pairs.
    expected_warnings: tuple[tuple[type[Warning], str], ...] = ()
    #: Keyword arguments of `bayes_igf1.sampling.fit` beyond the settings (e.g. ``predictive=False``).
    fit_options: dict = field(default_factory=dict)


def sampler_settings(*, draws: int, tune: int, chains: int, seed: int):
    """The NUTS settings, each checked (a bad value: `DesignError` naming it and the fix)."""
    from bayes_igf1.sampling import SamplerSettings

    for name, value, low, example in (("draws", draws, 10, 1000), ("tune", tune, 0, 1000), ("chains", chains, 2, 4)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise DesignError(f"{name} must be a whole number >= {low}, not {value!r}. Fix: e.g. {name}={example}.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise DesignError(f"seed must be a non-negative whole number, not {seed!r}. Fix: seed={DEFAULT_SEED}.")
    return SamplerSettings(draws=int(draws), tune=int(tune), chains=int(chains), seed=int(seed))


def analyse(
    design: str | Design,
    source,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    retry: bool = True,
    **options,
) -> AnalysisResult:
    """Read, fit, check and set beside the frequentist twin, for any registered design.

    Parameters
    ----------
    design : str or Design
        A registry name ("timecourse", "factorial", ...; `bayes_igf1.designs.base.DESIGNS`) or a design.
    source : str, Path or pandas.DataFrame
        The sheet.
    draws, tune, chains, seed : int
        NUTS settings (nutpie); the seed fixes every random step.
    progress : bool
        Show nutpie's progress bar.
    retry : bool
        Refit once with more tuning when the diagnostics gate fails.
    **options
        The design's own keyword arguments (its ``analyse_*`` function documents them); an
        unknown one is an error.

    Returns
    -------
    AnalysisResult
    """
    from bayes_igf1.designs.base import get_design
    from bayes_igf1.sampling import fit

    if isinstance(design, str):
        design = get_design(design)
    settings = sampler_settings(draws=draws, tune=tune, chains=chains, seed=seed)
    setup = design.setup(source, **options)
    with warnings.catch_warnings():
        for category, message in setup.expected_warnings:
            warnings.filterwarnings("ignore", category=category, message=message)
        tree, diag = fit(setup.model, settings=settings, var_names=setup.free, progress=progress, retry=retry,
                         derived=setup.gated, **setup.fit_options)
    tree["estimands"] = xr.DataTree(setup.stored(tree["posterior"].to_dataset()))
    if "prior" in tree.children:  # the same estimands under the prior: the report's prior-vs-posterior panel
        tree["prior_estimands"] = xr.DataTree(setup.stored(tree["prior"].to_dataset()))
    return design.finish(setup, tree, diag, sampler=settings, retry=bool(retry), progress=progress)


def bind_options(func: Callable, source, options: dict) -> dict:
    """``options`` bound to the keyword arguments of a design's ``analyse_*`` function (its documented
    signature is the one list of a design's options): defaults filled in, an unknown name an error, the
    sampler's options (`SAMPLER_OPTIONS`, the pipeline's own) left out."""
    import inspect

    sig = inspect.signature(func)
    unknown = sorted(set(options) - set(sig.parameters))
    if unknown:
        known = [n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY]
        raise DesignError(f"{func.__name__} has no option {', '.join(map(repr, unknown))}. Fix: use one of "
                          f"{', '.join(known)}.")
    bound = sig.bind(source, **options)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k not in SAMPLER_OPTIONS}
