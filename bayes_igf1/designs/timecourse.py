"""Time course design: a treatment's effect on an analyte sampled repeatedly per animal.

Model (log scale by default; effects are ratios)::

    y[i] = alpha[animal] + beta[group, time] + e[i]          post-injection fractions
    y[i] = alpha[animal] + e[i]                              baseline fractions (time <= 0)
    alpha[animal] ~ Normal(mu, sigma_animal)                 (centred; non-centred when few
                                                              fractions per animal)
    e ~ Student-t(nu, 0, sigma)  (or Normal), left-censored at the assay limit

so each animal's own level is estimated from all its fractions and the treatment effect
``beta`` is a ratio to the animal's baseline ("% of baseline" = 100 exp(beta)). Without a
baseline (``baseline="none"``) ``alpha ~ Normal(0, sigma_animal)`` and ``beta`` is the
group's level at each time.

Several group factors (``group=["treatment", "antibody"]``, CLI ``--group A --group B``): the
``group`` dimension runs over the combinations of their levels (``"a|b"``, every factor's
reference first, so the reference combination leads), so the per-group estimands above are
per combination vs the reference combination. Two or more factors add, per time, the
interaction of two factors (``interaction``: ratio of ratios) and, with ``blocker=`` (CLI
``--blocker``), the % of the treatment's effect the blocker abolishes, per time
(``blockade_pct``) and over the AUC (``blockade_auc_pct``). The twin is the mixed ANOVA with
every group factor between animals and the REML mixed model with every combination vs the
reference combination.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from bayes_igf1.designs.base import PipelineSteps
from bayes_igf1.constants import CI_KIND, CI_PROB
from bayes_igf1.errors import DesignError
from bayes_igf1.summaries import centre, describe, finite_population_sd

DESIGN = "timecourse"
#: Below this many fractions per animal the animal intercepts are non-centred.
CENTRED_MIN_FRACTIONS = 4


@dataclass(frozen=True)
class TimecourseOptions:
    """Modelling options of the time course (CLI flags of the same names)."""

    scale: str = "log"
    baseline: str = "auto"
    likelihood: str = "student"
    reference: str | None = None
    rope: float | None = None
    ci_prob: float = CI_PROB
    ci_kind: str = CI_KIND
    prior_scale: float = 1.0
    ar1: bool = False
    blocker: str | None = None

    def __post_init__(self) -> None:
        for name, allowed in (("scale", ("log", "identity")), ("baseline", ("auto", "none")),
                              ("likelihood", ("student", "normal")), ("ci_kind", ("hdi", "eti"))):
            if getattr(self, name) not in allowed:
                raise DesignError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}.")
        if not 0 < self.ci_prob < 1:
            raise DesignError(f"ci_prob must be between 0 and 1, not {self.ci_prob}.")
        if self.prior_scale <= 0:
            raise DesignError(f"prior_scale must be positive, not {self.prior_scale}.")


@dataclass(frozen=True)
class TimecourseData:
    """Arrays of the validated sheet, ready for the model."""

    frame: pd.DataFrame = field(repr=False)
    groups: tuple[str, ...]
    reference: str
    animals: tuple[str, ...]
    times: tuple[float, ...]            # modelled times (post-injection when a baseline is used)
    baseline_times: tuple[float, ...]
    animal_group: np.ndarray = field(repr=False)
    obs_animal: np.ndarray = field(repr=False)
    obs_cell_time: np.ndarray = field(repr=False)   # -1 for baseline fractions
    y: np.ndarray = field(repr=False)
    lower: np.ndarray = field(repr=False)           # censoring point, -inf when observed
    prev: np.ndarray = field(repr=False)            # index of the animal's previous fraction, -1 if none
    dt: np.ndarray = field(repr=False)              # time since that fraction (0 when none)
    has_baseline: bool = True
    scale: str = "log"
    time_unit: str = ""                             # "h", "min", "d", ...; "" when the sheet gives none
    factors: tuple[str, ...] = ()                   # the group factors when there are several ("" -> one)
    factor_levels: tuple[tuple[str, ...], ...] = ()  # each factor's levels, reference first
    blocker: str | None = None                      # the factor that blocks the other's effect

    @property
    def fractions_per_animal(self) -> float:
        return len(self.y) / len(self.animals)

    def show(self, group: str) -> str:
        """A group label as the report writes it: ``"a|b"`` -> ``"a, b"``."""
        return str(group).replace("|", ", ") if self.factors else str(group)


def prepare(frame: pd.DataFrame, options: TimecourseOptions, *, time_unit: str = "",
            factors: tuple[str, ...] = ()) -> TimecourseData:
    """Turn a validated tidy frame (io.read_timecourse) into model arrays (``time_unit``: the sheet's).

    ``factors``: the group factor columns of the frame when there are several (its ``group``
    holds their combinations ``"a|b"``, in the order of the factors' levels); empty for one
    group column.

    Raises DesignError (before any fit) when every value is below the assay limit or every
    value is the same: neither leaves anything to estimate; and when ``options.blocker`` is
    not one of two or more group factors.
    """
    factors, factor_levels = _check_factors(frame, tuple(factors), options.blocker)
    n = len(frame)
    if n and frame["censored"].to_numpy(dtype=bool).all():
        raise DesignError(
            f"Every one of the {n} values is below the assay limit: with no measured value there is "
            "nothing to estimate. Fix: check the value column (--value), its units and the assay limit "
            "(--lloq, or the '<LLOQ' cells of the sheet); at least some fractions must be measured."
        )
    values = frame["value"].to_numpy(dtype=float)
    if n and np.all(values == values[0]):
        raise DesignError(
            f"Every one of the {n} values is {values[0]:g}: an outcome that never varies gives the model "
            "nothing to estimate (its residual SD would be 0). Fix: check that --value names the measured "
            "column (not an ID, a dose or a constant) and that --where keeps the rows you meant."
        )
    groups = tuple(str(g) for g in frame["group"].cat.categories)
    reference = options.reference if options.reference is not None else groups[0]
    if reference not in groups:
        raise DesignError(
            f"Reference group {reference!r} is not a level of the group column; the levels are "
            f"{', '.join(map(repr, groups))}. Fix: pass one of them to --reference."
        )
    groups = (reference,) + tuple(g for g in groups if g != reference)
    times_all = np.sort(frame["time"].unique())
    if options.baseline == "auto":
        baseline_times = tuple(float(t) for t in times_all if t <= 0)
        times = tuple(float(t) for t in times_all if t > 0)
        if not baseline_times:
            raise DesignError(
                "baseline='auto' needs fractions at time <= 0 (before the injection) but the "
                f"times are {', '.join(f'{t:g}' for t in times_all)}. Fix: pass --baseline none, "
                "or code the baseline fractions with times <= 0."
            )
        if not times:
            raise DesignError("There are no fractions after the injection (time > 0).")
    else:
        baseline_times = ()
        times = tuple(float(t) for t in times_all)
    if options.scale == "log" and (frame["value"] <= 0).any():
        row = int(frame.loc[frame["value"] <= 0, "row"].iloc[0])
        raise DesignError(
            f"Row {row}: a value <= 0 cannot be modelled on the log scale. "
            "Fix: pass --scale identity, or check the units."
        )
    animals = tuple(pd.unique(frame["animal"].astype(str)))
    animal_index = {a: i for i, a in enumerate(animals)}
    group_index = {g: i for i, g in enumerate(groups)}
    first = frame.drop_duplicates("animal")
    animal_group = np.array([group_index[str(g)] for g in first.set_index("animal").loc[list(animals), "group"]])
    time_index = {t: i for i, t in enumerate(times)}
    obs_cell_time = np.array([time_index.get(float(t), -1) for t in frame["time"]])
    transform = np.log if options.scale == "log" else (lambda v: np.asarray(v, dtype=float))
    y = transform(frame["value"].to_numpy(dtype=float))
    censored = frame["censored"].to_numpy(dtype=bool)
    lower = np.where(censored, y, -np.inf)
    prev, dt = _previous_fraction(frame["animal"].astype(str).to_numpy(), frame["time"].to_numpy(dtype=float))
    return TimecourseData(
        frame=frame,
        groups=groups,
        reference=reference,
        animals=animals,
        times=times,
        baseline_times=baseline_times,
        animal_group=animal_group,
        obs_animal=np.array([animal_index[str(a)] for a in frame["animal"]]),
        obs_cell_time=obs_cell_time,
        y=y,
        lower=lower,
        prev=prev,
        dt=dt,
        has_baseline=options.baseline == "auto",
        scale=options.scale,
        time_unit=time_unit,
        factors=factors,
        factor_levels=factor_levels,
        blocker=options.blocker,
    )


def _check_factors(frame: pd.DataFrame, factors: tuple[str, ...],
                   blocker: str | None) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The group factors and their levels; the blocker must be one of two or more factors."""
    check_blocker(factors, blocker)
    if not factors:
        return (), ()
    if len(factors) == 1:
        raise DesignError(f"factors= names one group factor {factors}; give two or more, or none for one group column.")
    levels = tuple(tuple(str(x) for x in frame[f].cat.categories) for f in factors)
    combos = ["|".join(c) for c in itertools.product(*levels)]
    if [str(g) for g in frame["group"].cat.categories] != combos:
        raise DesignError("The frame's group column does not hold the combinations of the group factors in order; "
                          "read the sheet with bayes_igf1.io.read_timecourse(group=[...]).")
    return factors, levels


def check_blocker(factors: tuple[str, ...], blocker: str | None) -> None:
    """DesignError unless ``blocker`` is None or one of two or more group ``factors``."""
    if blocker is not None and len(factors) < 2:
        raise DesignError(
            f"--blocker {blocker!r} needs two or more group factors (the treatment and the blocker), but the time "
            f"course has one group column. Fix: give both factors, e.g. --group treatment --group {blocker} "
            f"--blocker {blocker}, or leave --blocker out."
        )
    if blocker is not None and blocker not in factors:
        raise DesignError(
            f"--blocker {blocker!r} is not one of the group factors {list(factors)}. Fix: name the group factor that "
            f"is the antagonist or antibody, e.g. --blocker {factors[-1]}, or leave --blocker out."
        )


def _previous_fraction(animals: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each fraction, the index of the same animal's previous fraction in time and the gap."""
    prev = np.full(len(times), -1)
    dt = np.zeros(len(times))
    order = np.lexsort((times, animals))
    for a, b in zip(order[:-1], order[1:], strict=True):
        if animals[a] == animals[b]:
            prev[b] = a
            dt[b] = times[b] - times[a]
    return prev, dt


def default_priors(data: TimecourseData, options: TimecourseOptions) -> dict[str, dict]:
    """Weakly informative priors scaled to the data (name -> distribution and parameters).

    ``s`` is the SD of the (transformed) outcome over all fractions and ``m`` the median of
    the baseline fractions (of all fractions without a baseline). The effect prior (beta, the
    change from baseline) has the scale 2 max(s, d), with d the largest observed change: the
    largest absolute mean change from the animals' baselines over the group x time cells, so
    that a large effect (a growth curve rising by 1.9 on the log scale) is not shrunk by a
    prior scaled from the spread around it.
    """
    s = float(np.std(data.y, ddof=1)) if len(data.y) > 1 else 1.0
    s = s if s > 0 else 1.0
    base = data.y[data.obs_cell_time < 0] if data.has_baseline else data.y
    m = float(np.median(base))
    k = options.prior_scale
    priors = {
        "beta": {"dist": "Normal", "mu": 0.0, "sigma": round(2.0 * max(s, largest_change(data)) * k, 4)},
        "sigma_animal": {"dist": "HalfNormal", "sigma": round(2.0 * s * k, 4)},
        "sigma": {"dist": "HalfNormal", "sigma": round(1.0 * s * k, 4)},
    }
    if data.has_baseline:
        priors["mu"] = {"dist": "Normal", "mu": round(m, 4), "sigma": round(2.5 * s * k, 4)}
    else:
        priors["beta"] = {"dist": "Normal", "mu": round(m, 4), "sigma": round(2.5 * s * k, 4)}
    if options.likelihood == "student":
        priors["nu"] = {"dist": "Gamma", "alpha": 2.0, "beta": round(0.1 / k, 4)}
    if options.ar1:
        priors["rho"] = {"dist": "Uniform", "lower": 0.0, "upper": 1.0}
    return priors


def largest_change(data: TimecourseData) -> float:
    """The largest absolute mean change from baseline over the group x time cells (model scale).

    Each post-injection fraction's change from its animal's mean baseline; 0 without a
    baseline. Below-limit values enter at their limit.
    """
    if not data.has_baseline:
        return 0.0
    before = data.obs_cell_time < 0
    base = np.bincount(data.obs_animal[before], weights=data.y[before], minlength=len(data.animals))
    n_base = np.bincount(data.obs_animal[before], minlength=len(data.animals))
    post = (data.obs_cell_time >= 0) & (n_base[data.obs_animal] > 0)
    if not post.any():
        return 0.0
    change = data.y[post] - (base / np.maximum(n_base, 1))[data.obs_animal[post]]
    cell = data.animal_group[data.obs_animal[post]] * len(data.times) + data.obs_cell_time[post]
    sums = np.bincount(cell, weights=change)
    counts = np.bincount(cell)
    return float(np.max(np.abs(sums[counts > 0] / counts[counts > 0])))


def _prior(name: str, spec: dict, **kwargs):
    params = {k: v for k, v in spec.items() if k != "dist"}
    return getattr(pm, spec["dist"])(name, **params, **kwargs)


def build_model(data: TimecourseData, priors: dict[str, dict], options: TimecourseOptions) -> pm.Model:
    """The PyMC model with named dims ``animal``, ``group``, ``time``, ``obs``."""
    coords = {
        "animal": list(data.animals),
        "group": list(data.groups),
        "time": list(data.times),
        "obs": np.flatnonzero(~np.isfinite(data.lower)),
        "obs_below_limit": np.flatnonzero(np.isfinite(data.lower)),
    }
    observed = coords["obs"]
    censored = coords["obs_below_limit"]
    centred = data.fractions_per_animal >= CENTRED_MIN_FRACTIONS
    with pm.Model(coords=coords) as model:
        obs_animal = pm.Data("obs_animal", data.obs_animal)
        obs_time = pm.Data("obs_time", data.obs_cell_time)
        animal_group = pm.Data("animal_group", data.animal_group, dims="animal")
        lower = data.lower
        beta = _prior("beta", priors["beta"], dims=("group", "time"))
        sigma_animal = _prior("sigma_animal", priors["sigma_animal"])
        centre_level = _prior("mu", priors["mu"]) if data.has_baseline else 0.0
        if centred:
            alpha = pm.Normal("alpha", centre_level, sigma_animal, dims="animal")
        else:
            z = pm.Normal("alpha_z", 0.0, 1.0, dims="animal")
            alpha = pm.Deterministic("alpha", centre_level + sigma_animal * z, dims="animal")
        cell = beta[animal_group[obs_animal], pm.math.maximum(obs_time, 0)]
        if data.has_baseline:
            cell = pm.math.where(obs_time < 0, 0.0, cell)
        mean = alpha[obs_animal] + cell
        sigma = _prior("sigma", priors["sigma"])
        # The observations are pm.Data so that a compiled model can take new data
        # (calibration, planning) without recompiling.
        y_data = pm.Data("y_data", data.y[observed], dims="obs")
        if options.ar1:
            # Continuous-time AR(1) residuals: a fraction's residual is rho^dt times the
            # previous fraction's plus an innovation of scale sigma sqrt(1 - rho^(2 dt)).
            rho = _prior("rho", priors["rho"])
            has_prev = data.prev >= 0
            before = np.maximum(data.prev, 0)
            decay = rho ** data.dt
            # Every fraction in frame order: the observed ones from y_data (so that the lag
            # follows data swapped in with with_data), the below-limit ones at their limit
            # (a constant; the observed rows of the constant are placeholders, overwritten).
            at_limit = np.where(np.isfinite(lower), lower, 0.0)
            y_all = pt.set_subtensor(pt.as_tensor(at_limit)[observed], y_data)
            lagged = (y_all[before] - mean[before]) * decay
            mean = mean + pm.math.where(has_prev, lagged, 0.0)
            sigma = sigma * pm.math.where(has_prev, pm.math.sqrt(1.0 - decay**2), 1.0)
        nu = _prior("nu", priors["nu"]) if options.likelihood == "student" else None
        # Observed and below-limit fractions are separate terms: a censored Student-t costs
        # a regularised incomplete beta function (and its gradient) per observation.
        m = mean[observed]
        s_obs = sigma[observed] if options.ar1 else sigma
        if nu is not None:
            pm.StudentT("y", nu=nu, mu=m, sigma=s_obs, observed=y_data, dims="obs")
        else:
            pm.Normal("y", mu=m, sigma=s_obs, observed=y_data, dims="obs")
        if len(censored):
            m = mean[censored]
            s_cen = sigma[censored] if options.ar1 else sigma
            dist = pm.StudentT.dist(nu=nu, mu=m, sigma=s_cen) if nu is not None else pm.Normal.dist(mu=m, sigma=s_cen)
            pm.Censored("y_below_limit", dist, lower=lower[censored], upper=None,
                        observed=data.y[censored], dims="obs_below_limit")
    return model


def free_parameters(data: TimecourseData, options: TimecourseOptions) -> list[str]:
    """Names of the parameters the diagnostics gate checks."""
    names = ["beta", "sigma_animal", "sigma", "alpha"]
    if data.has_baseline:
        names.append("mu")
    if options.likelihood == "student":
        names.append("nu")
    if options.ar1:
        names.append("rho")
    return names


def estimand_draws(posterior: xr.Dataset, data: TimecourseData) -> dict[str, xr.DataArray]:
    """Posterior draws of every reported quantity, on the reporting scale.

    Log scale: ``trajectory`` = 100 exp(beta) (group level relative to the animal's
    baseline; the level itself without a baseline), ``effect_vs_reference`` = 100
    (exp(beta_g - beta_ref) - 1). Identity scale: beta and the difference. Also the AUC, its
    difference, the peak, ``sustained`` and (one group column, three or more groups)
    ``between_treatments``.

    With several group factors the groups are their combinations, and `factor_contrasts`
    adds ``interaction`` (+ ``blockade_pct`` and ``blockade_auc_pct`` with a blocker).
    """
    beta = posterior["beta"]
    ref = data.reference
    others = [g for g in data.groups if g != ref]
    diff = beta.sel(group=others) - beta.sel(group=ref)
    out: dict[str, xr.DataArray] = {}
    log = data.scale == "log"
    if log:
        traj = 100 * np.exp(beta) if data.has_baseline else np.exp(beta)
        out["trajectory"] = traj
        out["effect_vs_reference"] = 100 * (np.exp(diff) - 1)
    else:
        traj = beta
        out["trajectory"] = traj
        out["effect_vs_reference"] = diff
    times = np.asarray(data.times, dtype=float)
    if len(times) >= 2:
        auc = traj.integrate("time")
        out["auc"] = auc
        out["auc_difference"] = auc.sel(group=others) - auc.sel(group=ref)
    peak_index = traj.argmax("time")
    out["peak_time"] = xr.DataArray(times[peak_index.values], dims=peak_index.dims, coords=peak_index.coords)
    out["peak_value"] = traj.max("time")
    out["sustained"] = (diff > 0).all("time").astype(float)
    for name, var in (("sd_animal", "sigma_animal"), ("sd_residual", "sigma"), ("rho", "rho")):
        if var in posterior:
            out[name] = posterior[var]
    if data.factors:
        out.update(factor_contrasts(beta, traj, data))
    elif len(others) >= 2:
        pairs = [(a, b) for i, a in enumerate(others) for b in others[i + 1:]]
        comp = xr.concat(
            [(beta.sel(group=b) - beta.sel(group=a)).expand_dims(comparison=[f"{b} vs {a}"]) for a, b in pairs],
            dim="comparison",
        )
        out["between_treatments"] = 100 * (np.exp(comp) - 1) if log else comp
    return out


#: Estimands of several group factors: dims (chain, draw, contrast[, time]), one contrast per
#: pair of factors and cell (coords ``pair`` "A:B", ``cell_label`` and ``ref_label`` "a|b").
FACTOR_ESTIMANDS = ("interaction", "blockade_pct", "blockade_auc_pct")


def _cube(da: xr.DataArray, data: TimecourseData) -> xr.DataArray:
    """``da``'s ``group`` dimension (the combinations "a|b") as one dimension per group factor."""
    combos = ["|".join(c) for c in itertools.product(*data.factor_levels)]
    x = da.sel(group=combos).transpose(..., "group")
    shape = [len(lv) for lv in data.factor_levels]
    coords = {d: x[d].values for d in x.dims[:-1] if d in x.coords}
    coords.update({f: list(lv) for f, lv in zip(data.factors, data.factor_levels, strict=True)})
    return xr.DataArray(x.values.reshape(*x.shape[:-1], *shape), dims=(*x.dims[:-1], *data.factors), coords=coords)


def _vs_reference(x: xr.DataArray, factor: str, data: TimecourseData) -> xr.DataArray:
    """Each non-reference level of ``factor`` minus its reference level."""
    levels = list(data.factor_levels[data.factors.index(factor)])
    return x.sel({factor: levels[1:]}) - x.sel({factor: levels[0]}, drop=True)


def _flatten(x: xr.DataArray, pair: tuple[str, str], data: TimecourseData) -> xr.DataArray:
    """The factor dimensions of a contrast of ``pair`` as one ``contrast`` dimension, with its cell
    ("a|b", every factor's level) and reference cell (the pair's factors at their reference)."""
    refs = {f: lv[0] for f, lv in zip(data.factors, data.factor_levels, strict=True)}
    stacked = x.stack(contrast=list(data.factors))
    cells = [tuple(str(v) for v in t) for t in stacked.indexes["contrast"]]
    stacked = stacked.drop_vars(["contrast", *data.factors])
    key = ":".join(pair)
    labels = ["|".join(c) for c in cells]
    ref_labels = ["|".join(refs[f] if f in pair else v for f, v in zip(data.factors, c, strict=True)) for c in cells]
    out = stacked.assign_coords(contrast=[f"{key}@{c}" for c in labels], pair=("contrast", [key] * len(cells)),
                                cell_label=("contrast", labels), ref_label=("contrast", ref_labels))
    return out.transpose("chain", "draw", "contrast", ...)


def factor_contrasts(beta: xr.DataArray, traj: xr.DataArray, data: TimecourseData) -> dict[str, xr.DataArray]:
    """Contrasts between the group factors (two or more), per time on the model scale.

    - ``interaction``: for two factors A, B (with a blocker: each other factor and the
      blocker; else every pair), within each combination of the other factors' levels, per
      time: (a vs a0 | b) / (a vs a0 | b0) = exp((beta[a,b] - beta[a0,b]) - (beta[a,b0] -
      beta[a0,b0])), the ratio of ratios (log scale; the difference of differences on the
      identity scale);
    - with a blocker B, for each other (treated) factor A: ``blockade_pct`` = 100 (1 -
      (beta[a,b] - beta[a0,b]) / (beta[a,b0] - beta[a0,b0])), the % of a's effect at each
      time (log ratio vs a0) that the blocker level b abolishes, and ``blockade_auc_pct`` =
      100 (1 - (AUC[a,b] - AUC[a0,b]) / (AUC[a,b0] - AUC[a0,b0])), the same over the area
      under the trajectory (% of baseline x time on the log scale with a baseline; two or
      more times).
    """
    log = data.scale == "log"
    cube = _cube(beta, data)
    blk = data.blocker
    if blk is not None:
        pairs = [(f, blk) for f in data.factors if f != blk]
    else:
        pairs = list(itertools.combinations(data.factors, 2))
    out: dict[str, xr.DataArray] = {}
    inter = [_flatten(_vs_reference(_vs_reference(cube, f, data), g, data), (f, g), data) for f, g in pairs]
    out["interaction"] = np.exp(xr.concat(inter, "contrast")) if log else xr.concat(inter, "contrast")
    if blk is None:
        return out
    b_levels = list(data.factor_levels[data.factors.index(blk)])

    def blockade(x: xr.DataArray, f: str) -> xr.DataArray:
        eff = _vs_reference(x, f, data)
        return _flatten(100.0 * (1.0 - eff.sel({blk: b_levels[1:]}) / eff.sel({blk: b_levels[0]}, drop=True)), (f, blk), data)

    out["blockade_pct"] = xr.concat([blockade(cube, f) for f, _ in pairs], "contrast")
    if len(data.times) >= 2:
        auc = _cube(traj.integrate("time"), data)
        out["blockade_auc_pct"] = xr.concat([blockade(auc, f) for f, _ in pairs], "contrast")
    return out


def gated_estimands(posterior: xr.Dataset, data: TimecourseData) -> dict[str, xr.DataArray]:
    """The continuous reported estimands, checked by the diagnostics gate like the parameters.

    The contrasts of several group factors get a dimension of their own (``<name>_contrast``),
    so that one Dataset holds them side by side.
    """
    draws = estimand_draws(posterior, data)
    out = {k: v for k, v in draws.items() if k not in ("peak_time", "sustained")}
    for k in FACTOR_ESTIMANDS:
        if k in out:
            out[k] = out[k].drop_vars(["pair", "cell_label", "ref_label"]).rename(contrast=f"{k}_contrast")
    return out


def bayesian_anova(posterior: xr.Dataset, data: TimecourseData) -> dict[str, xr.DataArray]:
    """Finite-population SD of each source (Gelman 2005) and the posterior partial eta squared.

    Sources: group, time, group:time (sum-to-zero decomposition of the post-injection cell
    effects ``beta``), animal (SD of the animal levels) and residual (SD of the
    observation-level residuals, censored values at their limit).

    ``sd``: Gelman's finite-population SDs (ddof = 1), a summary of their own.

    ``partial_eta_sq``, defined as the repeated-measures ANOVA defines it, on the model's
    scale and in its error strata, over the post-injection fractions: the effect variance of
    a source is the mean over the group x time cells of its squared sum-to-zero effect; the
    between-animal error variance is the mean over animals of the squared animal-level
    residual (the mean of the animal's post-injection residuals, less the mean of its
    baseline residuals when there is a baseline: the RM ANOVA analyses % of baseline; plus
    its deviation from the mean animal level when there is none); the within-animal error
    variance is the mean squared deviation of a post-injection residual from its animal's
    mean. So eta_p^2 = var_effect / (var_effect + var_error) mirrors SS / (SS + SS_error) of
    each stratum, both divided by the number of fractions.

    Several group factors: the sources are the ANOVA's (every factor and their interactions,
    ``time`` and its interactions with them, named as `frequentist.repeated.mixed_anova`
    names them), each the sum-to-zero effect of beta over the factors x time table.
    """
    beta = posterior["beta"]
    alpha = posterior["alpha"]
    fitted = _fitted(posterior, data)
    resid = xr.DataArray(data.y, dims="obs") - fitted
    if data.factors:
        effect_sd, effect_var = _factor_sources(beta, data)
        sds = {**effect_sd, "animal": finite_population_sd(alpha, ["animal"]),
               "residual": finite_population_sd(resid, ["obs"])}
    else:
        main_g = centre(beta.mean("time"), ["group"])
        main_t = centre(beta.mean("group"), ["time"])
        inter = centre(beta, ["group", "time"])
        sds = {
            "group": finite_population_sd(main_g, ["group"]),
            "time": finite_population_sd(main_t, ["time"]),
            "animal": finite_population_sd(alpha, ["animal"]),
            "residual": finite_population_sd(resid, ["obs"]),
        }
        # Finite-population SD of the interaction: sqrt(sum ab^2 / ((G-1)(T-1))).
        dof = (len(data.groups) - 1) * (len(data.times) - 1)
        sds["group:time"] = np.sqrt((inter**2).sum(["group", "time"]) / max(dof, 1))
        sds = {k: sds[k] for k in ("group", "time", "group:time", "animal", "residual")}
        effect_var = {
            "group": (main_g**2).mean("group"),
            "time": (main_t**2).mean("time"),
            "group:time": (inter**2).mean(["group", "time"]),
        }
    post = data.obs_cell_time >= 0
    by_animal = resid.assign_coords(unit=("obs", data.obs_animal))
    post_resid = by_animal.isel(obs=np.flatnonzero(post))
    post_mean = post_resid.groupby("unit").mean()
    if data.has_baseline:
        unit = post_mean - by_animal.isel(obs=np.flatnonzero(~post)).groupby("unit").mean()
    else:
        unit = post_mean + (alpha - alpha.mean("animal")).rename(animal="unit").assign_coords(
            unit=np.arange(len(data.animals))).sel(unit=post_mean["unit"])
    between_err = (unit**2).mean("unit")
    within_err = ((post_resid - post_mean.sel(unit=post_resid["unit"])) ** 2).mean("obs")
    # Sources with time are tested against the within-animal error, the others against the between-animal one.
    eta = {src: v / (v + (within_err if src.split(":")[-1] == "time" else between_err))
           for src, v in effect_var.items()}
    return {"sd": sds, "partial_eta_sq": eta}


def _factor_sources(beta: xr.DataArray, data: TimecourseData) -> tuple[dict, dict]:
    """Finite-population SD and mean squared effect of every ANOVA source of several group factors.

    The sources in afex's order (the factors' terms, ``time``, then each term ``:time``); a
    source's effects are the sum-to-zero (in each of its dimensions) marginal means of beta
    over the factors x time table; its SD is sqrt(sum effect^2 / prod(levels - 1)).
    """
    cube = _cube(beta, data)
    dims = [*data.factors, "time"]
    terms = [t for r in range(1, len(data.factors) + 1) for t in itertools.combinations(data.factors, r)]
    terms = [*terms, ("time",), *[(*t, "time") for t in terms]]
    sds, var = {}, {}
    for term in terms:
        eff = centre(cube.mean([d for d in dims if d not in term]), list(term))
        dof = int(np.prod([cube.sizes[d] - 1 for d in term]))
        name = ":".join(term)
        sds[name] = np.sqrt((eff**2).sum(list(term)) / max(dof, 1))
        var[name] = (eff**2).mean(list(term))
    return sds, var


def _fitted(posterior: xr.Dataset, data: TimecourseData) -> xr.DataArray:
    alpha = posterior["alpha"].isel(animal=xr.DataArray(data.obs_animal, dims="obs"))
    beta = posterior["beta"]
    g = xr.DataArray(data.animal_group[data.obs_animal], dims="obs")
    t = xr.DataArray(np.maximum(data.obs_cell_time, 0), dims="obs")
    cell = beta.isel(group=g, time=t)
    if data.has_baseline:
        cell = cell.where(xr.DataArray(data.obs_cell_time >= 0, dims="obs"), 0.0)
    return alpha + cell


def bayesian_anova_table(posterior: xr.Dataset, data: TimecourseData, *, ci_prob: float, ci_kind: str) -> pd.DataFrame:
    """The Bayesian ANOVA table: one row per source, SD and partial eta squared with intervals."""
    parts = bayesian_anova(posterior, data)
    rows = []
    for source, sd in parts["sd"].items():
        d = describe(sd, ci_prob=ci_prob, ci_kind=ci_kind).iloc[0]
        row = {"source": source, "sd_median": d["median"], "sd_ci_low": d["ci_low"], "sd_ci_high": d["ci_high"]}
        if source in parts["partial_eta_sq"]:
            e = describe(parts["partial_eta_sq"][source], ci_prob=ci_prob, ci_kind=ci_kind).iloc[0]
            row.update(eta_median=e["median"], eta_ci_low=e["ci_low"], eta_ci_high=e["ci_high"])
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- frequentist twin


def percent_of_baseline(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Post-injection fractions as % of each animal's mean baseline (what the lab computes).

    Below-limit values enter as limit/2. Returns the frame (``animal, group, time, value,
    value_sub, baseline, pct``) and the animals left out because none of their baseline fractions was kept.
    """
    f = frame.copy()
    f["value_sub"] = np.where(f["censored"], f["value"] / 2.0, f["value"])
    base = f[f["time"] <= 0].groupby("animal", observed=True)["value_sub"].mean()
    post = f[f["time"] > 0].copy()
    no_base = sorted(set(post["animal"]) - set(base.index))
    post = post[post["animal"].isin(base.index)]
    post["baseline"] = post["animal"].map(base)
    post["pct"] = 100.0 * post["value_sub"] / post["baseline"]
    return post, no_base


def frequentist_twin(frame: pd.DataFrame, data: TimecourseData, options: TimecourseOptions) -> dict:
    """RM ANOVA (group x time) and REML mixed model with group-vs-reference contrasts.

    With a baseline the ANOVA uses % of baseline of the post-injection fractions; the mixed
    model is fitted to log(% of baseline) on the log scale (its contrasts are ratios like
    the Bayesian ones) and to the change from baseline in units on the identity scale
    (differences, like the Bayesian ones). Without a baseline both use the values (logged
    for the mixed model on the log scale).

    With several group factors: `mixed_anova` with every factor between animals and time
    within (afex's ``aov_ez``), and `factorial_mixed_contrasts` (``dv ~ A * B * time + (1 |
    animal)``, every combination vs the reference combination at each time, Sidak over all).
    """
    from bayes_igf1.frequentist.repeated import (
        factorial_mixed_contrasts,
        mixed_anova,
        mixed_model_contrasts,
        rm_anova,
    )

    notes = []
    if data.has_baseline:
        work, no_base = percent_of_baseline(frame)
        dv_label = "% of baseline"
        if no_base:
            notes.append(f"Animals without a usable baseline fraction, left out of the frequentist analyses: {', '.join(no_base)}.")
    else:
        work = frame.copy()
        work["pct"] = np.where(work["censored"], work["value"] / 2.0, work["value"])
        no_base = []
        dv_label = "value"
    work = work.assign(group=work["group"].astype(str))
    if frame["censored"].any():
        notes.append("Below-limit values enter the ANOVA and the mixed model as limit/2; the Bayesian model treats them as left-censored.")
    factors = list(data.factors)
    if factors:
        aov = mixed_anova(work, subject="animal", dv="pct", between=factors, within=["time"])
    else:
        aov = rm_anova(work, subject="animal", between="group", within="time", dv="pct")
    table = aov.table.copy()
    log = options.scale == "log"
    if log:
        mm_work = work.assign(dv=np.log(work["pct"]))
    elif data.has_baseline:  # change from the animal's baseline, in units, like the Bayesian effect
        mm_work = work.assign(dv=work["value_sub"] - work["baseline"])
    else:
        mm_work = work.assign(dv=work["pct"])
    if factors:
        refs = {f: lv[0] for f, lv in zip(factors, data.factor_levels, strict=True)}
        mm = factorial_mixed_contrasts(mm_work, subject="animal", between=factors, time="time", dv="dv",
                                       reference=refs, ci_prob=options.ci_prob)
        cells = mm.contrasts[factors].astype(str)
        contrasts = mm.contrasts.assign(group=cells.agg("|".join, axis=1), reference=data.reference)
    else:
        mm = mixed_model_contrasts(mm_work, subject="animal", group="group", time="time", dv="dv",
                                   reference=data.reference, ci_prob=options.ci_prob)
        contrasts = mm.contrasts.copy()
    if log:
        for col in ("estimate", "ci_low", "ci_high", "ci_low_adjusted", "ci_high_adjusted"):
            contrasts[col] = 100.0 * (np.exp(contrasts[col]) - 1.0)
        contrasts["method"] = contrasts["method"] + "; log(% of baseline), back-transformed to % change (SE on the log scale)"
    anova_data = {
        "dv": dv_label,
        "n_animals": int(aov.n_subjects),
        "animals_dropped": [str(a) for a in list(aov.subjects_dropped) + no_base],
        "reason": "; ".join(r for r in [aov.drop_reason, "no baseline fraction" if no_base else ""] if r),
        "note": "The repeated-measures ANOVA needs every fraction of an animal; the Bayesian model and the mixed model use all fractions.",
    }
    mixed = {
        "dv": "log " + dv_label if log else ("change from baseline" if data.has_baseline else dv_label),
        "fixed_effects": mm.fixed_effects.to_dict("records"),
        "sd_animal": mm.sd_animal,
        "sd_residual": mm.sd_residual,
        "method": mm.method,
        "df_method": mm.df_method,
        "n_obs": mm.n_obs,
        "n_animals": mm.n_subjects,
        "contrasts": contrasts.to_dict("records"),
    }
    return {"anova": table, "mauchly": aov.mauchly, "anova_data": anova_data, "mixed_model": mixed,
            "contrasts": contrasts, "notes": notes}


# ----------------------------------------------------------------- estimates table


def _scale_labels(data: TimecourseData) -> dict[str, tuple[str, float]]:
    """Reporting scale and null value of each estimand."""
    log, base = data.scale == "log", data.has_baseline
    span = (max(data.times) - min(data.times)) if len(data.times) > 1 else 0.0
    traj = ("% of baseline", 100.0) if log and base else (("level", np.nan) if log else (("change from baseline", 0.0) if base else ("level", np.nan)))
    effect = ("% change vs reference", 0.0) if log else ("difference vs reference", 0.0)
    auc_null = 100.0 * span if log and base else (0.0 if base else np.nan)
    return {
        "trajectory": traj,
        "effect_vs_reference": effect,
        "auc": (f"AUC of {traj[0]} x time, trapezoidal over the post-injection times", auc_null),
        "auc_difference": ("AUC difference vs reference", 0.0),
        "peak_time": ("time of peak", np.nan),
        "peak_value": (f"peak {traj[0]}", traj[1]),
        "sustained": ("probability (effect > 0 at every time)", np.nan),
        "between_treatments": (effect[0].replace("reference", "the other treatment"), 0.0),
        "sd_animal": (f"SD between animals ({'log scale' if log else 'units'})", np.nan),
        "sd_residual": (f"residual scale ({'log scale' if log else 'units'})", np.nan),
        "rho": ("autocorrelation of successive residuals per time unit (AR(1))", np.nan),
        "interaction": ("ratio of ratios", 1.0) if log else ("difference of differences", 0.0),
        "blockade_pct": ("% of the effect abolished, " + ("log-ratio scale" if log else "difference scale")
                         + " (P relative to 50 %)", 50.0),
        "blockade_auc_pct": (f"% of the AUC difference abolished ({traj[0]} x time; P relative to 50 %)", 50.0),
    }


def estimates_table(draws: dict[str, xr.DataArray], data: TimecourseData, options: TimecourseOptions) -> pd.DataFrame:
    """One row per estimand element (``results.ESTIMATE_COLUMNS``)."""
    from bayes_igf1.results import ESTIMATE_COLUMNS

    labels = _scale_labels(data)
    frames = []
    for name, da in draws.items():
        scale, null = labels[name]
        rope = None
        if options.rope is not None and name in ("effect_vs_reference", "between_treatments"):
            rope = (-options.rope, options.rope)
        d = describe(da, ci_prob=options.ci_prob, ci_kind=options.ci_kind, rope=rope,
                     null=0.0 if np.isnan(null) else null)
        if np.isnan(null):
            d["prob_direction"] = np.nan
            d["prob_above"] = np.nan
        if name == "sustained":
            d[["median", "sd", "ci_low", "ci_high"]] = np.nan
        if name in FACTOR_ESTIMANDS:  # the pair of factors, the cell and its reference cell
            d = d.drop(columns="contrast").rename(columns={"pair": "group", "cell_label": "_cell",
                                                           "ref_label": "_reference"})
        d["name"] = name
        d["scale"] = scale
        frames.append(d)
    out = pd.concat(frames, ignore_index=True)
    if "comparison" not in out:
        out["comparison"] = np.nan
    out["reference"] = np.where(out["name"].isin(["effect_vs_reference", "auc_difference", "sustained"]), data.reference, None)
    out["cell"] = out["comparison"]
    if "_cell" in out:
        own = out["_cell"].notna().to_numpy()
        out["cell"] = out["cell"].astype(object)
        out.loc[own, "cell"] = out.loc[own, "_cell"]
        out.loc[own, "reference"] = out.loc[own, "_reference"]
    out["label"] = [_label(r, data) for r in out.to_dict("records")]
    out["headline"] = out["name"].isin(["effect_vs_reference", "auc_difference", "sustained", "between_treatments",
                                        *FACTOR_ESTIMANDS])
    for col in ESTIMATE_COLUMNS:
        if col not in out:
            out[col] = np.nan
    return out[ESTIMATE_COLUMNS]


def _label(rec: dict, data: TimecourseData) -> str:
    t = rec.get("time")
    if isinstance(t, float) and not np.isnan(t):
        at = f" at {t:g} {data.time_unit}" if data.time_unit else f" at time {t:g}"
    else:
        at = ""
    g = rec.get("group")
    name = rec["name"]
    if name in FACTOR_ESTIMANDS:
        return _factor_label(rec, data, at)
    show = data.show
    if name == "effect_vs_reference":
        return f"{show(g)} vs {show(data.reference)}{at}"
    if name == "trajectory":
        return f"{show(g)}{at}"
    if name == "between_treatments":
        return f"{rec['comparison']}{at}"
    if name == "auc_difference":
        return f"AUC {show(g)} vs {show(data.reference)}"
    if not isinstance(g, str):  # a model-level quantity (SDs, rho)
        return name.replace("_", " ")
    return f"{name.replace('_', ' ')} {show(g)}"


def _factor_label(rec: dict, data: TimecourseData, at: str) -> str:
    """"(ket vs saline) under nAb vs under IgG at 2 h", "% of the ket vs saline effect abolished by nAb
    (vs IgG) over the AUC", "... within F" (the other factors' levels) with three or more factors."""
    f, g = str(rec["group"]).split(":")
    cell = dict(zip(data.factors, str(rec["cell"]).split("|"), strict=True))
    ref = dict(zip(data.factors, str(rec["reference"]).split("|"), strict=True))
    others = [x for x in data.factors if x not in (f, g)]
    within = (" within " + ", ".join(cell[x] for x in others)) if others else ""
    if rec["name"] == "interaction":
        return f"({cell[f]} vs {ref[f]}) under {cell[g]} vs under {ref[g]}{within}{at}"
    where = " over the AUC" if rec["name"] == "blockade_auc_pct" else at
    return f"% of the {cell[f]} vs {ref[f]} effect abolished by {cell[g]} (vs {ref[g]}){within}{where}"


def attach_frequentist(estimates: pd.DataFrame, contrasts: pd.DataFrame) -> pd.DataFrame:
    """Put the mixed-model contrast beside each group-vs-reference estimate (same group and time)."""
    out = estimates.copy()
    out["freq_method"] = out["freq_method"].astype(object)
    c = contrasts.assign(group=contrasts["group"].astype(str), time=contrasts["time"].astype(float))
    key = out["name"] == "effect_vs_reference"
    merged = out.loc[key, ["group", "time"]].merge(c, on=["group", "time"], how="left")
    for col, src in (("freq_estimate", "estimate"), ("freq_se", "se"), ("freq_ci_low", "ci_low"),
                     ("freq_ci_high", "ci_high"), ("freq_ci_low_adjusted", "ci_low_adjusted"),
                     ("freq_ci_high_adjusted", "ci_high_adjusted"), ("freq_p", "p"),
                     ("freq_p_adjusted", "p_adjusted"), ("freq_method", "method")):
        out.loc[key, col] = merged[src].to_numpy()
    return out


# ----------------------------------------------------------------------- the analysis


def run_checks(tree: xr.DataTree, frame: pd.DataFrame, data: TimecourseData) -> dict:
    """Posterior predictive p-values per group, prior predictive range, PSIS-LOO, prior sensitivity.

    The plausible range of a fraction is 0.1× to 10× the median observed value (on the
    identity scale: 0 to 10× the largest value).
    """
    from bayes_igf1 import checks

    observed = data.y[~np.isfinite(data.lower)]
    if data.scale == "log":
        centre_ = float(np.median(observed))
        low, high = centre_ - np.log(10.0), centre_ + np.log(10.0)
        where = "log scale; plausible range 0.1× to 10× the median fraction"
    else:
        low, high = 0.0, 10.0 * float(np.max(observed))
        where = "plausible range 0 to 10× the largest fraction"
    below = np.isfinite(data.lower)
    if below.any():
        # Censored alike on both sides: every replicate below the assay limit is set at the
        # limit, as the below-limit fractions are in the data (each row at its own limit;
        # a fraction that was measured, at the largest limit of the sheet).
        limit = np.where(below, data.lower, float(np.max(data.lower[below])))
        rep = np.maximum(checks.replicates(tree, ("y", "y_below_limit"), len(data.y)), limit)
        groups = frame["group"].astype(str).to_numpy()
        ppc = checks.predictive_stats(rep, data.y, groups)
        share = []
        for g in pd.unique(groups):
            m = groups == g
            t_obs, t_rep = float(np.mean(below[m])), np.mean(rep[:, m] <= limit[m], axis=1)
            share.append({"group": g, "statistic": "share below the limit", "observed": t_obs,
                          "predicted_median": float(np.median(t_rep)),  # mid-p: a share ties
                          "p": float(np.mean(t_rep > t_obs) + 0.5 * np.mean(t_rep == t_obs))})
        ppc = pd.concat([ppc, pd.DataFrame(share)], ignore_index=True)
        scale = f"{data.scale}, below-limit values at the limit on both sides"
    else:
        ppc = checks.posterior_predictive_stats(tree, frame, by="group")
        scale = data.scale
    sens = checks.prior_sensitivity(tree, gated_estimands(tree["posterior"].to_dataset(), data))
    return {
        "sensitivity": {"table": sens.to_dict("records"),
                        "flagged": sens[sens["diagnosis"] != "ok"].to_dict("records"),
                        "method": "power-scaling (Kallioinen et al. 2024), arviz-stats psense, threshold 0.05"},
        "ppc": {"statistics": ppc.to_dict("records"), "scale": scale,
                "n_extreme": int(((ppc["p"] < 0.025) | (ppc["p"] > 0.975)).sum())},
        "prior_predictive": {**checks.prior_predictive_range(tree, low=low, high=high), "note": where},
        "loo": checks.loo_check(tree, frame, var_names=("y", "y_below_limit")),
    }



def model_text(data: TimecourseData, priors: dict[str, dict], options: TimecourseOptions, centred: bool) -> str:
    """The model in words and formulas, with every prior (methods section)."""
    y = "log(y)" if data.scale == "log" else "y"
    lik = "Student-t(nu, mean, sigma)" if options.likelihood == "student" else "Normal(mean, sigma)"
    lines = [
        f"{y}[i] ~ {lik}, left-censored at the assay limit for below-limit fractions",
        "mean[i] = alpha[animal[i]]" + (" + beta[group, time] for post-injection fractions (time > 0); "
                                        "mean[i] = alpha[animal[i]] for baseline fractions (time <= 0)"
                                        if data.has_baseline else " + beta[group, time]"),
        f"alpha[animal] ~ Normal({'mu' if data.has_baseline else '0'}, sigma_animal) "
        f"({'centred' if centred else 'non-centred'} parameterisation)",
    ]
    if options.ar1:
        lines.append("AR(1): e[i] = rho^dt e[previous fraction of the animal] + innovation of scale "
                     "sigma sqrt(1 - rho^(2 dt)), dt = time between the fractions; the first fraction has scale sigma")
    for name, spec in priors.items():
        params = ", ".join(f"{k}={v:g}" for k, v in spec.items() if k != "dist")
        lines.append(f"{name} ~ {spec['dist']}({params})")
    words = (
        "Hierarchical model of every fraction of every animal, with an animal-level random intercept "
        + ("estimated from all its fractions, baseline ones included, so that % of baseline is modelled "
           "rather than precomputed; the groups share the baseline (randomised) and the treatment effect "
           "at each post-injection time is the group's deviation from the reference group at that time. "
           if data.has_baseline else "and one level per group and time. ")
        + ("Effects are estimated on the log scale and reported as ratios (% change). "
           if data.scale == "log" else "Effects are differences on the measured scale. ")
        + "Time is a categorical factor (one effect per sampled time). "
        + (f"The groups are the {len(data.groups)} combinations of the levels of {' x '.join(data.factors)} "
           f"(one trajectory each; the reference combination is {data.show(data.reference)}). "
           if data.factors else "")
        + ("Successive residuals of an animal follow a continuous-time first-order autoregressive "
           "process (AR(1)); the lagged residual of a below-limit fraction is taken at its limit, "
           "an approximation. " if options.ar1 else "")
        + "Priors are weakly informative and scaled to the data (s = SD of the outcome on the modelled scale)."
    )
    return words + "\n\n" + "\n".join(lines)


def analyse_timecourse(
    source,
    *,
    animal: str,
    group: str | Sequence[str],
    time: str,
    value: str,
    sheet: str | int | None = None,
    where=(),
    lloq: float | None = None,
    layout: str = "long",
    scale: str = "log",
    baseline: str = "auto",
    likelihood: str = "student",
    reference: str | Mapping[str, str] | None = None,
    blocker: str | None = None,
    time_unit: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    label: str | None = None,
    unit: str | None = None,
    levels: Mapping[str, Mapping[str, str]] | None = None,
    rope: float | None = None,
    ci_prob: float = CI_PROB,
    ci_kind: str = CI_KIND,
    prior_scale: float = 1.0,
    ar1: bool = False,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    progress: bool = False,
    retry: bool = True,
):
    """Fit the time-course model and its frequentist twin to a sheet.

    Parameters
    ----------
    source : path or pandas.DataFrame
        Lab sheet (CSV / Excel), read by `bayes_igf1.io.read_timecourse`.
    animal, time, value : str
        Column names.
    group : str or sequence of str
        The group column, or several group factor columns (e.g. ``["treatment",
        "antibody"]``): the model then has one trajectory per combination of their levels,
        compared with the reference combination, plus the factors' interaction per time.
    scale : {"log", "identity"}
        Log: effects are ratios (% change); identity: differences.
    baseline : {"auto", "none"}
        Auto: fractions at time <= 0 are baseline.
    likelihood : {"student", "normal"}
    reference : str or mapping of str to str, optional
        Reference group (default: a level named like a control, else the lowest number, else
        the first in sorted order; see `bayes_igf1.io`); with several group factors
        ``{factor: level}`` for some or all of them.
    blocker : str, optional
        With several group factors, the one that is an antagonist or neutralizing antibody:
        adds the % of the other factors' effect it abolishes, per time and over the AUC.
    time_unit : str, optional
        Unit of the time column ("h", "min", "day", "week"), when the values do not say it.
    decimal, thousands : str, optional
        The sheet's decimal and thousands separators (see `bayes_igf1.io.read_timecourse`).
    label, unit : str, optional
        The outcome's name and unit in the report (e.g. "extracellular IGF-1", "pg/mL").
    levels : mapping, optional
        Level labels for the report, group column -> {level: label} (`bayes_igf1.io.relabel_levels`).
    rope : float, optional
        Half-width of the region of practical equivalence of the effect vs reference, on
        its reporting scale (% change on the log scale).
    ar1 : bool
        First-order autocorrelation of an animal's successive residuals (continuous time).
    draws, tune, chains, seed : sampler settings.
    retry : bool
        Refit once with more tuning when the diagnostics gate fails (default True).

    Returns
    -------
    bayes_igf1.results.AnalysisResult
    """
    from bayes_igf1.constants import DEFAULT_SEED
    from bayes_igf1.pipeline import analyse as run_pipeline

    seed = DEFAULT_SEED if seed is None else seed
    return run_pipeline(DESIGN, **{k: v for k, v in locals().items() if k not in ("DEFAULT_SEED", "run_pipeline")})


def _setup(source, *, animal, group, time, value, sheet, where, lloq, layout, scale, baseline, likelihood, reference,
           blocker, time_unit, decimal, thousands, label, unit, levels, rope, ci_prob, ci_kind, prior_scale, ar1):
    """Read, validate, prepare, set the priors and build the model (the pipeline's first step)."""
    from bayes_igf1.io import read_timecourse, relabel_levels
    from bayes_igf1.pipeline import Setup

    groups = [group] if isinstance(group, str) else [str(g) for g in group]
    factors = tuple(groups) if len(groups) > 1 else ()
    check_blocker(factors, blocker)  # known before the sheet is read
    data_sheet = read_timecourse(source, animal=animal, group=group, time=time, value=value, sheet=sheet,
                                 where=where, lloq=lloq, layout=layout, log_scale=scale == "log",
                                 reference=reference, time_unit=time_unit, decimal=decimal, thousands=thousands)
    data_sheet = relabel_levels(data_sheet, levels)
    one_ref = None if factors else str(data_sheet.frame["group"].cat.categories[0])  # the io's reference (first)
    options = TimecourseOptions(scale=scale, baseline=baseline, likelihood=likelihood, reference=one_ref,
                                rope=rope, ci_prob=ci_prob, ci_kind=ci_kind, prior_scale=prior_scale, ar1=ar1,
                                blocker=blocker)
    data = prepare(data_sheet.frame, options, time_unit=data_sheet.time_unit, factors=factors)
    priors = default_priors(data, options)
    settings = {
        "animal": animal, "group": group, "time": time, "value": value, "sheet": sheet,
        "where": list(where), "lloq": lloq, "layout": layout, "scale": scale, "baseline": baseline,
        "likelihood": likelihood, "reference": data.reference, "time_unit": data.time_unit, "decimal": decimal,
        "thousands": thousands, "rope": rope, "ci_prob": ci_prob,
        "ci_kind": ci_kind, "prior_scale": prior_scale, "ar1": ar1,
    }
    return Setup(data=data, model=build_model(data, priors, options), free=free_parameters(data, options),
                 gated=lambda post: gated_estimands(post, data),
                 stored=lambda post: xr.Dataset(gated_estimands(post, data)),  # every reported draw
                 state={"sheet": data_sheet, "options": options, "priors": priors, "groups": groups,
                        "factors": factors, "settings": settings,
                        "after": {"source": data_sheet.source, "label": label, "unit": unit,
                                  "levels": {k: dict(v) for k, v in (levels or {}).items()}}})


def _finish(setup, tree: xr.DataTree, diagnostics, *, sampler, retry: bool, progress: bool):
    """Estimates, the frequentist twin, checks and notes (the pipeline's last step)."""
    from bayes_igf1.results import AnalysisResult

    data, st = setup.data, setup.state
    options, priors, groups, factors = st["options"], st["priors"], st["groups"], st["factors"]
    data_sheet, group, time = st["sheet"], st["settings"]["group"], st["settings"]["time"]
    posterior = tree["posterior"].to_dataset()
    draws_ = estimand_draws(posterior, data)
    estimates = estimates_table(draws_, data, options)
    twin = frequentist_twin(data_sheet.frame, data, options)
    if factors:  # the factors are named as the user named them; time as the user's column
        def names(effect):
            return ":".join(time if p == "time" else p for p in str(effect).split(":"))
    else:
        names = {"group": group, "time": time, "group:time": f"{group}:{time}"}
    twin["anova"] = twin["anova"].assign(effect=twin["anova"]["effect"].map(names))
    twin["mauchly"] = twin["mauchly"].assign(effect=twin["mauchly"]["effect"].map(names))
    ad = twin["anova_data"]  # the ANOVA's reason for dropping animals, in the user's words
    ad["reason"] = str(ad.get("reason", "")).replace("'pct' value", str(ad.get("dv", "value"))).replace(
        "'time' level", f"'{time}'").replace("(no time ", f"(no {time} ")
    estimates = attach_frequentist(estimates, twin["contrasts"])
    centred = data.fractions_per_animal >= CENTRED_MIN_FRACTIONS
    notes = list(twin["notes"])
    model_checks = run_checks(tree, data_sheet.frame, data)
    if diagnostics.retried:
        s = diagnostics.settings
        notes.append(f"The first fit failed the diagnostics gate and was refitted once ({s.tune} tuning steps, "
                     f"{s.draws} draws per chain, target acceptance {s.target_accept:g}).")
    settings_dict = {**st["settings"], "draws": sampler.draws, "tune": sampler.tune, "chains": sampler.chains,
                     "seed": sampler.seed, **st["after"]}
    if factors:  # the reference above is the reference combination
        settings_dict.update(group=list(factors), blocker=options.blocker,
                             references={f: lv[0] for f, lv in zip(factors, data.factor_levels, strict=True)})
    return AnalysisResult(
        design=DESIGN,
        title=f"{st['after']['label'] or st['settings']['value']} by {' × '.join(groups)} over {time}",
        settings=settings_dict,
        seed=sampler.seed,
        sheet=data_sheet,
        priors=priors,
        model_text=model_text(data, priors, options, centred),
        tree=tree,
        diagnostics=diagnostics,
        estimates=estimates,
        bayes_anova=bayesian_anova_table(posterior, data, ci_prob=options.ci_prob, ci_kind=options.ci_kind),
        anova=twin["anova"],
        anova_data=twin["anova_data"],
        mixed_model=twin["mixed_model"],
        frequentist_extra={"mauchly": twin["mauchly"], "contrasts": twin["contrasts"]},
        checks=model_checks,
        notes=tuple(notes),
    )


# ----------------------------------------------------------------------- the design


def _reference_option(items, groups) -> str | dict[str, str] | None:
    """--reference of the time course: a level (one --group; GROUP=LEVEL too), FACTOR=LEVEL (several)."""
    from bayes_igf1.designs.base import references
    from bayes_igf1.errors import BayesIGF1Error

    if not items:
        return None
    if len(groups) == 1:
        if len(items) > 1:
            raise BayesIGF1Error(f"--reference is given {len(items)} times for one --group column. Fix: give one "
                                 "reference level, e.g. --reference saline.")
        key, sep, level = items[0].partition("=")
        return level.strip() if sep and key.strip().casefold() == groups[0].casefold() else items[0]
    bad = [item for item in items if "=" not in item]
    if bad:
        raise BayesIGF1Error(f"--reference {bad[0]!r} must be FACTOR=LEVEL with several --group columns. Fix: e.g. "
                             f"--reference {groups[0]}={bad[0]}.")
    return references(items)


class TimeCourse(PipelineSteps):
    """The time-course design (group factor(s) x time, animal random intercept): the
    `bayes_igf1.designs.base.Design` protocol. With several group factors the groups are
    their combinations ("a|b")."""

    name = "timecourse"
    unit_word = "group"
    description = ("Fit the hierarchical time-course model (animal random intercept, % of baseline modelled, "
                   "left-censored below-limit values) and its frequentist twin (two-way RM ANOVA, REML mixed "
                   "model), and write a report folder.")
    refit_options: dict = {}

    entry = "analyse_timecourse"

    def headline_draws(self, result, group: str = "estimands") -> dict[str, tuple[np.ndarray, str]]:
        """The AUC difference of each group vs the reference (the claim the verdict judges) from posterior.nc's
        ``group`` ("estimands", or "prior_estimands"): label -> (flat draws, scale)."""
        tree = result.tree
        if tree is None or group not in tree.children or "auc_difference" not in tree[group].data_vars:
            return {}
        da = tree[group]["auc_difference"]
        rows = result.estimates[result.estimates["name"] == "auc_difference"]
        return {row.label: (da.sel(group=row.group).values.ravel(), str(row.scale)) for row in rows.itertuples()
                if row.group in da["group"].values}

    def add_arguments(self, parser) -> None:
        from bayes_igf1.designs.base import add_label_options

        g = parser.add_argument_group("time-course columns")
        g.add_argument("--animal", required=True, help="column with the animal ID")
        g.add_argument("--group", required=True, action="append", metavar="COLUMN",
                       help="column with the treatment group; repeat it for several group factors (e.g. --group "
                            "treatment --group antibody): one trajectory per combination of their levels")
        g.add_argument("--time", required=True,
                       help="column with the sampling time (<= 0 is baseline); its unit is read from the values "
                            "('2 h', 'Day 2') or given with --time-unit")
        g.add_argument("--value", required=True, help="column with the measured value (e.g. IGF-1, pg/mL)")
        g.add_argument("--layout", choices=["long", "wide-time", "wide-group"], default="long",
                       help="long: one row per fraction (default); wide-time: one row per animal, one "
                            "column per time; wide-group: one column per group (Prism grouped table)")
        g.add_argument("--lloq", type=float, default=None,
                       help="assay limit for below-limit cells that do not state it ('<LLOQ', 'BLQ', 'ND')")
        g.add_argument("--time-unit", default=None, metavar="UNIT",
                       help="unit of the times: h, min, day or week (also s, hour, minute, d, wk); default: the unit "
                            "written with the times ('2 h', 'Day 2'), else none (no unit is printed)")
        g = parser.add_argument_group("model")
        g.add_argument("--scale", choices=["log", "identity"], default="log",
                       help="log (default): effects are ratios, reported as %% change; identity: differences")
        g.add_argument("--baseline", choices=["auto", "none"], default="auto",
                       help="auto (default): fractions at time <= 0 are baseline; none: no baseline")
        g.add_argument("--likelihood", choices=["student", "normal"], default="student",
                       help="residual distribution (default Student-t, robust to assay outliers)")
        g.add_argument("--reference", action="append", default=[], metavar="LEVEL",
                       help="reference group (default: a group named like a control, e.g. saline, vehicle, "
                            "control, IgG, WT, 0 mg/kg; else the lowest dose when every group is a number; else "
                            "the first in sorted order); with several --group columns FACTOR=LEVEL, repeatable")
        g.add_argument("--blocker", default=None, metavar="FACTOR",
                       help="with several --group columns, the one that is an antagonist or neutralizing antibody "
                            "(e.g. antibody): report the %% of the other group factor's time course it abolishes, "
                            "per time and over the AUC (default: no %% blockade)")
        g.add_argument("--ar1", action="store_true",
                       help="first-order autocorrelation of an animal's successive residuals (AR(1), continuous "
                            "time)")
        add_label_options(parser)

    def options_from_args(self, args) -> dict:
        from bayes_igf1.designs.base import label_kwargs

        return dict(animal=args.animal, group=args.group[0] if len(args.group) == 1 else list(args.group),
                    time=args.time, value=args.value, lloq=args.lloq, layout=args.layout, scale=args.scale,
                    baseline=args.baseline, reference=_reference_option(args.reference, args.group),
                    blocker=args.blocker, time_unit=args.time_unit, likelihood=args.likelihood, ar1=args.ar1,
                    **label_kwargs(args))

    def compare_alternatives(self, args) -> dict:
        return {"likelihood": "normal" if args.likelihood == "student" else "student", "ar1": not args.ar1}

    def groups(self, result) -> list[str]:
        ref = str(result.settings.get("reference"))
        levels = [str(g) for g in result.sheet.frame["group"].cat.categories]
        return ([ref] if ref in levels else []) + [g for g in levels if g != ref]

    def row_groups(self, result) -> pd.Series:
        return result.sheet.frame["group"].astype(str).reset_index(drop=True)

    def log_scale(self, result) -> bool:
        return result.settings.get("scale", "log") == "log"

    def predictive_transform(self, result):
        # the tree holds the modelled values: logs on the log scale
        def same(v):
            return np.asarray(v, dtype=float)

        return (same, np.exp, True) if self.log_scale(result) else (same, same, False)

    def data_sentences(self, result) -> list[str]:
        from bayes_igf1.designs.factorial import _and
        from bayes_igf1.report.format import fmt_number, outcome_unit

        summ = result.sheet.summary()
        times = summ.get("times", [])
        tcol = result.settings.get("time", "time")
        unit = f" {summ['time_unit']}" if summ.get("time_unit") else ""

        def fmt_t(ts):
            # "−2 and −1 h" with a unit; "hour −2 and −1" (the column's name) without one
            text = _and([fmt_number(t, 0 if abs(t - round(t)) < 1e-9 else 2) for t in ts])
            return f"{text}{unit}" if unit else f"{tcol} {text}"

        def count(n, noun):
            return f"{n} {noun}{'' if n == 1 else 's'}"

        out = []
        if result.settings.get("baseline", "auto") == "auto":
            base, post = [t for t in times if t <= 0], [t for t in times if t > 0]
            out.append(f"Each animal was sampled at {count(len(base), 'baseline time')} ({fmt_t(base)}) "
                       f"and {count(len(post), 'post-injection time')} ({fmt_t(post)}); "
                       f"{summ['n_observations']} observations in all.")
        else:
            out.append(f"Each animal was sampled at {count(len(times), 'time')} ({fmt_t(times)}); "
                       f"{summ['n_observations']} observations in all.")
        n = summ["n_censored"]
        if n:
            lloq = result.settings.get("lloq")
            y_unit = f" {outcome_unit(result)}" if outcome_unit(result) else ""
            limit = f" ({fmt_number(lloq, 2).rstrip('0').rstrip('.')}{y_unit})" if lloq is not None else ""
            out.append(f"{count(n, 'value')} {'was' if n == 1 else 'were'} below the assay limit{limit}.")
        return out

    def why_bayesian(self, result) -> str:
        return ("Why Bayesian: a hierarchical model uses every fraction of every animal (the repeated-measures "
                "ANOVA must drop animals with a missing fraction), treats values below the assay limit as censored "
                "rather than substituting limit/2, models % of baseline instead of precomputing it from noisy "
                "baselines, and gives direct posterior probabilities for directional claims.")

    def frequentist_methods(self, result) -> str:
        from bayes_igf1.report.format import TIMES

        g, t = result.settings.get("group", "group"), result.settings.get("time", "time")
        ad = result.anova_data or {}
        mm = result.mixed_model or {}
        if not isinstance(g, str):  # several group factors
            g = f" {TIMES} ".join(map(str, g))
            return (f"For comparison, the analysis a laboratory would run: a {_way(result)} mixed-design "
                    f"repeated-measures ANOVA ({g} between animals {TIMES} {t} within animals; type III sums of "
                    f"squares, as the R package afex computes them) on {ad.get('dv', 'the outcome')} of the post-injection "
                    "fractions, with Mauchly's test of sphericity and Greenhouse-Geisser (GG) and Huynh-Feldt (HF) "
                    "corrected df and p values, partial and generalized eta squared; and a linear mixed model fitted "
                    f"by {mm.get('method', 'REML')} ({mm.get('dv', 'the outcome')} ~ {g} {TIMES} {t} + (1 | animal); "
                    f"{mm.get('n_obs', '?')} observations of {mm.get('n_animals', '?')} animals) with each "
                    f"combination of the groups compared with {str(result.settings.get('reference', 'the reference')).replace('|', ', ')} "
                    f"at each time ({mm.get('df_method', 'Satterthwaite')} degrees of freedom, Sidak adjustment of p "
                    "and intervals over the family of contrasts, as emmeans computes them). The interaction and % "
                    "blockade have no frequentist counterpart here.")
        return (f"For comparison, the analysis a laboratory would run: a two-way mixed-design repeated-measures "
                f"ANOVA ({g} between animals {TIMES} {t} within animals; type III sums of squares, as "
                f"the R packages afex and car compute them) on {ad.get('dv', 'the outcome')} of the post-injection "
                "fractions, with Mauchly's test of sphericity and Greenhouse-Geisser (GG) and Huynh-Feldt (HF) "
                f"corrected df and p values; and a linear mixed model fitted by {mm.get('method', 'REML')} "
                f"({mm.get('dv', 'the outcome')} ~ {g} {TIMES} {t} + (1 | animal); {mm.get('n_obs', '?')} "
                f"observations of {mm.get('n_animals', '?')} animals) with each group compared with "
                f"{result.settings.get('reference', 'the reference')} at each time ({mm.get('df_method', 'Satterthwaite')} "
                "degrees of freedom, Sidak adjustment of p and intervals over the family of contrasts, as emmeans "
                "computes them).")

    def anova_head(self, result) -> str:
        ad = result.anova_data or {}
        return (f"{_way(result).capitalize()} repeated-measures ANOVA on {ad.get('dv', 'the outcome')} "
                f"({ad.get('n_animals', '?')} of {result.sheet.summary()['n_animals']} animals; type III)")

    def results_sentences(self, result) -> list[tuple[str, str]]:
        from bayes_igf1.report.text import timecourse_sentences

        return timecourse_sentences(result)

    def rope_unit(self, result) -> str:
        return "%" if self.log_scale(result) else ""

    def effect_name(self, source: str, result) -> str:
        roles = dict(result.sheet.columns)
        return ":".join(str(result.settings.get(p, roles.get(p, p))) if p in ("group", "time") and (
            isinstance(result.settings.get(p, ""), str)) else p for p in str(source).split(":"))

    def frequentist_scale_note(self, result) -> str:
        # On the identity scale with a baseline the Bayesian effect is a difference in the measured
        # units while the mixed model works on % of baseline: say so beside them.
        dv = str((result.mixed_model or {}).get("dv") or "")
        eff = result.estimates.loc[result.estimates["name"] == "effect_vs_reference", "scale"]
        bayes_pct = len(eff) > 0 and str(eff.iloc[0]).startswith("%")
        return dv.replace("log ", "") if "%" in dv and not bayes_pct else ""

    def figures(self, result) -> dict:
        from bayes_igf1.report import figures as F

        ci = f"{round(100 * float(result.settings.get('ci_prob', 0.95)))}%"
        kind = str(result.settings.get("ci_kind", "hdi")).upper()
        fig, _ = F.timecourse_figure(result)
        has_rope = result.estimates.loc[result.estimates["name"] == "effect_vs_reference", "rope_low"].notna().any()
        return {"timecourse": (fig, (
            f"(a) Observed mean ± SEM of each group's % of baseline (the lab's computation; below-limit values as "
            f"limit/2) over the posterior median of the model's trajectory and its {ci} {kind} band. "
            f"(b) Posterior % change vs the reference group at each time (filled: median, {ci} {kind}; open: REML "
            f"mixed model, {ci} CI)" + ("; grey band: ROPE" if has_rope else "") + ". "
            "(c) Every animal's observed values (open triangles: below the assay limit, drawn at the limit)."))}

    def finding(self, result) -> str:
        from bayes_igf1.report.format import decimals_for, fmt_num, fmt_number

        eff = result.estimates[result.estimates["name"] == "effect_vs_reference"]
        p95 = "P(increase) > .95"  # the threshold in the APA style of a probability
        unit = f" {result.sheet.time_unit}" if result.sheet.time_unit else ""  # the sheet's unit, none if unknown
        parts = []
        for g, rows in eff.groupby("group", sort=False):
            up = set(rows[rows["prob_above"] > 0.95]["time"].to_numpy())
            times = run_from_first(np.sort(rows["time"].to_numpy()), up)
            peak = rows.loc[rows["median"].idxmax()]
            g = str(g).replace("|", ", ")
            parts.append(f"{g}: {p95} from {times[0]:g} to {times[-1]:g}{unit}" if times
                         else f"{g}: no time with {p95}")
            lo, hi = peak.get("ci_low", np.nan), peak.get("ci_high", np.nan)  # decimals by the interval
            largest = (fmt_number(peak["median"], decimals_for(lo, hi), sign=True)
                       if np.isfinite(lo) and np.isfinite(hi)
                       else ("+" if peak["median"] > 0 else "") + fmt_num(peak["median"]))
            parts[-1] += f"; largest {largest}% at {peak['time']:g}{unit}"
        return "; ".join(parts) + "."

    #: Claim kinds `verdict` judges.
    claims = ("raised",)

    def verdict(self, result, claim: str) -> tuple[str, str]:
        """The decision rule for "the treatment raises the outcome": supported when, for every group
        against the reference, the 95% interval of the AUC difference lies above 0; not supported
        when no time's interval of the effect vs the reference lies above no change; else undecided
        (there is no Bayes factor for a time course)."""
        from bayes_igf1.report.format import fmt_interval

        if claim not in self.claims:
            raise DesignError(f"no decision rule for a {claim!r} claim. Fix: use one of {self.claims}.")
        e = result.estimates
        auc = e[e["name"] == "auc_difference"]
        eff = e[e["name"] == "effect_vs_reference"]
        if not len(auc):
            return "undecided", "no AUC difference estimated"
        words = "; ".join(f"{str(r['group']).replace('|', ', ')}: AUC difference "
                          f"{fmt_interval(r['ci_low'], r['ci_high'])}" for r in auc.to_dict("records"))
        null = 1.0 if str(eff["scale"].iloc[0] if len(eff) else "").startswith("ratio") else 0.0
        if (auc["ci_low"] > 0).all():
            return "supported", words
        if not (eff["ci_low"] > null).any():
            return "not supported", words
        return "undecided", words

    # ---------------------------------------------------------------- plan and calibrate

    #: ``bayes-igf1 plan`` options only this design takes: (flag, argparse dest).
    plan_options = (("--pct-change", "pct_change"), ("--groups", "groups"), ("--times", "times"),
                    ("--animal-sd", "animal_sd"), ("--residual-sd", "residual_sd"), ("--nu", "nu"))

    def plan_from_args(self, args, **common):
        from bayes_igf1 import plan

        return plan.plan_timecourse(source=args.source, groups=args.groups, times=args.times,
                                    pct_change=args.pct_change, animal_sd=args.animal_sd,
                                    residual_sd=args.residual_sd, baseline_level=args.baseline_level,
                                    residual_nu=args.nu, **common)

    def plan_source(self, source, notes: list[str]) -> dict:
        from bayes_igf1.plan import _source_timecourse

        return _source_timecourse(source, notes)

    def plan_simulate(self, spec, n: int, index: int, seed: int) -> tuple[pd.DataFrame, dict]:
        from bayes_igf1.plan import _simulate_timecourse

        return _simulate_timecourse(spec, n, index, seed)

    def plan_prepare(self, spec, frame: pd.DataFrame):
        options = TimecourseOptions(likelihood=spec.likelihood, reference=spec.groups[0])
        return prepare(frame, options), options

    def plan_model(self, spec, data, options) -> tuple[pm.Model, list[str]]:
        return build_model(data, spec.priors, options), free_parameters(data, options)

    def plan_observations(self, spec, frame: pd.DataFrame) -> np.ndarray:
        # the model's y_data holds the log values
        return np.log(frame["value"].to_numpy(dtype=float))

    def plan_frequentist(self, spec, frame: pd.DataFrame) -> dict[str, float]:
        from bayes_igf1.plan import _timecourse_freq

        return _timecourse_freq(spec, frame)

    def plan_targets(self, spec) -> list[str]:
        return list(spec.groups[1:])

    def plan_rules(self, spec, post, data, truth: dict) -> list[dict]:
        from bayes_igf1.plan import _timecourse_rules

        return _timecourse_rules(spec, post, data, truth)

    def plan_rule_names(self, spec) -> list[tuple[str, str, str]]:
        from bayes_igf1.plan import _timecourse_rule_names

        return _timecourse_rule_names(spec)

    def calibration_model(self, data_dir):
        from bayes_igf1.calibrate import timecourse_model

        return timecourse_model(data_dir)


def _way(result) -> str:
    """"two-way", "three-way", ...: the group factors and time."""
    g = result.settings.get("group", "group")
    k = 1 if isinstance(g, str) else len(g)
    return {1: "two-way", 2: "three-way", 3: "four-way", 4: "five-way"}.get(k, f"{k + 1}-way")


def run_from_first(times, hits: set) -> list[float]:
    """The times from the first post-injection time on, up to the first miss."""
    run = []
    for t in times:
        if t not in hits:
            break
        run.append(float(t))
    return run
