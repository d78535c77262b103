"""Posterior summaries on plain xarray draws (never imports pymc).

Every function takes the interval settings explicitly (``ci_prob``, ``ci_kind``): ArviZ 1.x
defaults to a 0.89 equal-tailed interval, the package to a 0.95 HDI.
"""

from __future__ import annotations

from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

SAMPLE_DIMS = ("chain", "draw")


def interval(draws: xr.DataArray, *, ci_prob: float, ci_kind: str) -> tuple[xr.DataArray, xr.DataArray]:
    """Lower and upper bound of the ``ci_kind`` ("hdi" or "eti") interval over chain and draw."""
    if ci_kind == "hdi":
        bounds = az.hdi(draws, prob=ci_prob)
    elif ci_kind == "eti":
        bounds = az.eti(draws, prob=ci_prob)
    else:
        raise ValueError(f"ci_kind must be 'hdi' or 'eti', not {ci_kind!r}")
    return bounds.sel(ci_bound="lower", drop=True), bounds.sel(ci_bound="upper", drop=True)


def describe(
    draws: xr.DataArray,
    *,
    ci_prob: float,
    ci_kind: str,
    rope: tuple[float, float] | None = None,
    null: float = 0.0,
) -> pd.DataFrame:
    """One row per element of ``draws``: mean, median, sd, interval, P(direction), ROPE.

    ``prob_direction`` is the posterior probability of the sign the median has, relative
    to ``null`` (the probability of direction of Makowski et al. 2019); ``prob_above`` is
    P(draw > null). ``prob_in_rope`` is the posterior mass inside ``rope``.
    """
    low, high = interval(draws, ci_prob=ci_prob, ci_kind=ci_kind)
    above = (draws > null).mean(SAMPLE_DIMS)
    parts = {
        "mean": draws.mean(SAMPLE_DIMS),
        "median": draws.median(SAMPLE_DIMS),
        "sd": draws.std(SAMPLE_DIMS, ddof=1),
        "ci_low": low,
        "ci_high": high,
        "prob_above": above,
        "prob_direction": xr.where(draws.median(SAMPLE_DIMS) >= null, above, 1 - above),
    }
    if rope is not None:
        parts["prob_in_rope"] = ((draws >= rope[0]) & (draws <= rope[1])).mean(SAMPLE_DIMS)
    frame = xr.Dataset(parts).to_dataframe() if draws.ndim > 2 else pd.DataFrame(
        {k: [float(v)] for k, v in parts.items()}
    )
    frame = frame.reset_index() if draws.ndim > 2 else frame
    frame = frame[[c for c in frame.columns if c not in SAMPLE_DIMS]]
    frame["ci_prob"] = ci_prob
    frame["ci_kind"] = ci_kind
    frame["rope_low"] = rope[0] if rope is not None else np.nan
    frame["rope_high"] = rope[1] if rope is not None else np.nan
    if rope is None:
        frame["prob_in_rope"] = np.nan
    return frame


def finite_population_sd(effects: xr.DataArray, dims: Sequence[str]) -> xr.DataArray:
    """Finite-population SD of a batch of effects over ``dims`` (Gelman 2005, Ann. Stat. 33:1-53)."""
    return effects.std(list(dims), ddof=1)


def centre(effects: xr.DataArray, dims: Sequence[str]) -> xr.DataArray:
    """Sum-to-zero version of ``effects`` over each of ``dims`` in turn (main effects / interaction)."""
    out = effects
    for d in dims:
        out = out - out.mean(d)
    return out


def savage_dickey_bf10(posterior: np.ndarray, prior_density_at_null: float, *, null: float = 0.0) -> dict:
    """Bayes factor BF10 for ``theta != null`` by the Savage-Dickey density ratio.

    BF01 = p(null | data) / p(null), the posterior density estimated by a Gaussian KDE
    of the draws when ``null`` lies inside their central 99%; in the far tail a KDE has no
    draws to go on, so a normal approximation of the posterior is used there instead
    (the ``method`` entry says which). Returns BF10, BF01 and the two densities.
    """
    draws = np.asarray(posterior, dtype=float).ravel()
    lo, hi = np.quantile(draws, [0.005, 0.995])
    if lo <= null <= hi:
        density = float(stats.gaussian_kde(draws)(null)[0])
        method = "Savage-Dickey, Gaussian KDE of the posterior draws"
    else:
        density = float(stats.norm.pdf(null, loc=draws.mean(), scale=draws.std(ddof=1)))
        method = "Savage-Dickey, normal approximation of the posterior (null in its far tail)"
    bf01 = density / prior_density_at_null
    bf10 = np.inf if bf01 == 0 else 1.0 / bf01
    return {
        "BF10": float(bf10),
        "BF01": float(bf01),
        "posterior_density": density,
        "prior_density": float(prior_density_at_null),
        "method": method,
    }
