"""Factorial design: an A x B between-animal experiment (e.g. treatment x antibody).

Model (one row per observation ``i`` of animal ``j`` in cell ``(a, b)``, cohort ``c``)::

    y[i] ~ Normal(mu[i], sigma)           family "normal" (default)
         ~ StudentT(nu, mu[i], sigma)     family "student"
         ~ LogNormal(mu[i], sigma)        family "lognormal" (mu on the log scale)
    mu[i] = cell_mean[a, b] + cohort_effect[c] + animal_effect[j]
    cell_mean[a, b] ~ Normal(m, s_cell)                      iid over the cells
    cohort_effect   ~ ZeroSumNormal(s_cohort)                fixed block, < 5 cohorts
                    = sigma_cohort * z, z ~ Normal(0, 1)     random effect, >= 5 cohorts
    animal_effect   ~ Normal(0, sigma_animal)                only with several rows per
                                                             animal (centred when many)

Right-censored rows (e.g. an NSFT latency at the 600 s cut-off) enter through their
survival probability (``pm.Censored``, upper = the cut-off) as a likelihood term
``y_censored`` separate from the observed rows ``y``: never dropped, never replaced.

The cell means are also reported as sum-to-zero main effects and interaction (the
deterministics ``grand_mean``, ``main_effect_a``, ``main_effect_b``, ``interaction_effect``).

Estimands (``estimates`` rows, ``name``): ``cell_mean`` (``cell_median`` for lognormal),
``main_effect``, ``simple_effect`` (each non-reference level vs the reference within each
level of the other factor; ratios for lognormal), ``pct_change`` (lognormal only),
``interaction`` (difference of differences of every 2 x 2 sub-table against the reference
levels: (a - a0 | b) - (a - a0 | b0); a ratio of ratios for lognormal), ``blockade_pct``
(100 (1 - effect of a under b / effect of a under b0); ``prob_above`` and
``prob_direction`` of these rows are relative to 50 %, so ``prob_above`` = P(blockade >
50 %)), ``cohens_d`` (contrast / residual SD; log scale for lognormal) and
``cohens_d_total`` (contrast / sqrt(sigma^2 + sigma_animal^2 + sigma_cohort^2), only with
random effects).

Bayes factor of each interaction contrast by Savage-Dickey: with iid Normal(m, s) cell
means the contrast mu_ab - mu_a0b - mu_ab0 + mu_a0b0 has the prior Normal(0, 2 s). The
prior scale of the cell means is declared with ``pm.Data`` so that the x0.5 and x2
sensitivity refits reuse one nutpie compilation (``compiled.with_data(...)``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from pymc.exceptions import ImplicitFreezeWarning
from scipy import stats

from bayes_igf1.constants import ANIMAL, CENSORED, CI_KIND, CI_PROB, COHORT, DEFAULT_SEED, ROW, VALUE
from bayes_igf1.errors import ConvergenceError, DesignError
from bayes_igf1.frequentist import between
from bayes_igf1.io import read_factorial
from bayes_igf1.report.format import bf_category, fmt_bf
from bayes_igf1.results import ESTIMATE_COLUMNS, AnalysisResult, jsonable
from bayes_igf1.sampling import SamplerSettings, diagnose, fit, sample_compiled
from bayes_igf1.summaries import centre, describe, finite_population_sd, savage_dickey_bf10

DESIGN = "factorial"
FAMILIES = ("normal", "student", "lognormal")
#: With fewer cohorts than this the cohort is a fixed (sum-to-zero) block effect.
COHORT_RANDOM_MIN = 5
#: From this many observations per animal (on average) the animal intercepts are centred.
CENTRED_MIN_OBS = 4
#: Multipliers of the cell-mean prior scale in the Bayes factor sensitivity refits.
BF_PRIOR_MULTIPLIERS = (0.5, 1.0, 2.0)
#: Names a factor cannot have: model dimensions and variables, summary columns.
RESERVED_NAMES = frozenset({
    "chain", "draw", "obs", "obs_censored", "obs_all", ANIMAL, COHORT, ROW, VALUE, CENSORED,
    "cell_mean", "sigma", "nu", "sigma_animal", "animal_mean", "animal_z", "animal_effect",
    "cohort_effect", "cohort_z", "sigma_cohort", "grand_mean", "main_effect_a", "main_effect_b",
    "interaction_effect", "y", "y_censored", "cell_mean_prior_mu", "cell_mean_prior_sigma",
    "mean", "median", "sd", "ci_low", "ci_high", "prob_above", "prob_direction", "prob_in_rope",
    "ci_prob", "ci_kind", "rope_low", "rope_high",
})
PRIOR_NAMES = ("cell_mean", "sigma", "nu", "sigma_animal", "cohort_effect", "sigma_cohort")


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class FactorialOptions:
    """Modelling options of the factorial design (CLI flags of the same names).

    ``rope`` is the half-width of the region of practical equivalence around no effect, in
    the outcome's units for ``normal`` / ``student``; for ``lognormal`` a % change, the
    ROPE of a ratio being [1 / (1 + rope / 100), 1 + rope / 100].

    ``blocker`` names the factor that is an antagonist or neutralizing antibody: the % of the
    other factor's effect that it abolishes (``blockade_pct``) is reported only then.
    """

    family: str = "normal"
    rope: float | None = None
    ss_type: int = 3
    ci_prob: float = CI_PROB
    ci_kind: str = CI_KIND
    prior_scale: float = 1.0
    blocker: str | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise DesignError(
                f"family must be one of {FAMILIES}, not {self.family!r}. Fix: pass "
                "family='normal' (default), 'student' (outliers) or 'lognormal' (skewed "
                "positive outcomes such as latencies)."
            )
        if self.ci_kind not in ("hdi", "eti"):
            raise DesignError(f"ci_kind must be 'hdi' or 'eti', not {self.ci_kind!r}. Fix: ci_kind='hdi'.")
        if not _is_number(self.ci_prob) or not 0 < self.ci_prob < 1:
            raise DesignError(f"ci_prob must be between 0 and 1, not {self.ci_prob!r}. Fix: ci_prob=0.95.")
        if not _is_number(self.prior_scale) or not (self.prior_scale > 0 and math.isfinite(self.prior_scale)):
            raise DesignError(
                f"prior_scale must be a positive number, not {self.prior_scale!r}. Fix: prior_scale=1 "
                "(the default), 0.5 for tighter or 2 for wider priors."
            )
        if self.ss_type not in (2, 3) or isinstance(self.ss_type, bool):
            raise DesignError(f"ss_type must be 2 or 3, not {self.ss_type!r}. Fix: ss_type=3 (afex / SPSS default).")
        if self.rope is not None and (not _is_number(self.rope) or not (self.rope > 0 and math.isfinite(self.rope))):
            raise DesignError(
                f"rope must be a positive number (half-width of the ROPE), not {self.rope!r}. "
                "Fix: e.g. rope=10 (outcome units; % change for lognormal), or leave it out."
            )

    @property
    def log(self) -> bool:
        return self.family == "lognormal"


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class FactorialData:
    """Arrays of the validated sheet, ready for the model.

    ``y`` is on the model scale (log for lognormal), ``value`` as read. Row-level indices
    ``obs_*`` point into ``levels_a``, ``levels_b``, ``animals`` and ``cohorts``.
    """

    frame: pd.DataFrame = field(repr=False)
    factors: tuple[str, str]
    levels_a: tuple[str, ...]
    levels_b: tuple[str, ...]
    animals: tuple[str, ...]
    cohorts: tuple[str, ...]
    obs_a: np.ndarray = field(repr=False)
    obs_b: np.ndarray = field(repr=False)
    obs_animal: np.ndarray = field(repr=False)
    obs_cohort: np.ndarray = field(repr=False)
    animal_a: np.ndarray = field(repr=False)
    animal_b: np.ndarray = field(repr=False)
    animal_cohort: np.ndarray = field(repr=False)
    value: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    censored: np.ndarray = field(repr=False)
    family: str = "normal"
    animal_ids_made_up: bool = False
    blocker: str | None = None

    @property
    def n_obs(self) -> int:
        return len(self.y)

    @property
    def obs_per_animal(self) -> float:
        return self.n_obs / len(self.animals)

    @property
    def animal_effect(self) -> bool:
        """True when some animal has several observations (animal random intercept)."""
        return self.n_obs > len(self.animals)

    @property
    def centred(self) -> bool:
        return self.obs_per_animal >= CENTRED_MIN_OBS

    @property
    def cohort_kind(self) -> str:
        """"none", "fixed" (fewer than 5 cohorts) or "random"."""
        if not self.cohorts:
            return "none"
        return "fixed" if len(self.cohorts) < COHORT_RANDOM_MIN else "random"

    @property
    def random_effects(self) -> bool:
        return self.animal_effect or self.cohort_kind == "random"

    @property
    def reference(self) -> tuple[str, str]:
        return self.levels_a[0], self.levels_b[0]


def prepare(frame: pd.DataFrame, factors: Sequence[str], options: FactorialOptions, *,
            animal_ids_made_up: bool = False, outcome: str | None = None) -> FactorialData:
    """Turn a validated tidy frame (``io.read_factorial``) into model arrays.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``row, animal, <A>, <B>, value, censored`` (+ ``cohort``); the factor
        columns are Categoricals with the reference level first.
    factors : sequence of str
        The two factor columns (A, B).
    options : FactorialOptions
    animal_ids_made_up : bool
        No animal column was given (each row is one animal).
    outcome : str, optional
        The sheet's name of the outcome column (for messages).
    """
    factors = _check_factors(factors)
    a_name, b_name = factors
    if options.blocker is not None and options.blocker not in factors:
        raise DesignError(
            f"the blocker {options.blocker!r} is not one of the factors {list(factors)}. Fix: name the factor that "
            f"is the antagonist or antibody, e.g. --blocker {b_name}, or leave --blocker out (no % blockade)."
        )
    for col in (ANIMAL, VALUE, CENSORED, *factors):
        if col not in frame.columns:
            raise DesignError(f"the tidy frame has no column {col!r}. Fix: read the sheet with io.read_factorial.")
    levels = []
    for name in factors:
        col = frame[name]
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else list(pd.unique(col))
        cats = [str(c) for c in cats]
        if len(cats) < 2:
            raise DesignError(
                f"factor {name!r} has a single level ({cats[0]!r}); an A x B design needs at least "
                "two levels per factor. Fix: check the column and --where, or analyse the other factor alone."
            )
        if len(set(cats)) != len(cats):
            raise DesignError(f"factor {name!r} has levels that read the same as text ({cats}). Fix: relabel them.")
        levels.append(tuple(cats))
    levels_a, levels_b = levels
    a_txt = frame[a_name].astype(str).to_numpy()
    b_txt = frame[b_name].astype(str).to_numpy()
    ia = {lv: i for i, lv in enumerate(levels_a)}
    ib = {lv: i for i, lv in enumerate(levels_b)}
    obs_a = np.array([ia[v] for v in a_txt], dtype=np.int64)
    obs_b = np.array([ib[v] for v in b_txt], dtype=np.int64)
    animal_txt = frame[ANIMAL].astype(str).to_numpy()
    animals = tuple(pd.unique(animal_txt))
    index = {a: i for i, a in enumerate(animals)}
    obs_animal = np.array([index[a] for a in animal_txt], dtype=np.int64)
    rows = frame[ROW].to_numpy() if ROW in frame.columns else np.arange(len(frame)) + 2
    # An animal belongs to one cell (and one cohort): this is a between-animal design.
    first = np.full(len(animals), -1)
    for k, j in enumerate(obs_animal):
        if first[j] < 0:
            first[j] = k
        elif (obs_a[k], obs_b[k]) != (obs_a[first[j]], obs_b[first[j]]):
            raise DesignError(
                f"row {rows[k]}: animal {animals[j]!r} is in cell {a_txt[k]}|{b_txt[k]} but also in "
                f"{a_txt[first[j]]}|{b_txt[first[j]]} (row {rows[first[j]]}); in a between-animal design "
                "each animal belongs to one cell. Fix: correct the animal ID or the factor levels."
            )
    animal_a, animal_b = obs_a[first], obs_b[first]
    # Every cell needs >= 2 animals.
    counts = np.zeros((len(levels_a), len(levels_b)), dtype=int)
    np.add.at(counts, (animal_a, animal_b), 1)
    for i, la in enumerate(levels_a):
        for j, lb in enumerate(levels_b):
            if counts[i, j] < 2:
                raise DesignError(
                    f"the cell {a_name}={la}, {b_name}={lb} has {counts[i, j]} animal(s); every cell needs "
                    "at least 2 animals. Fix: add animals, or drop the level with --where."
                )
    cohorts: tuple[str, ...] = ()
    obs_cohort = np.zeros(len(frame), dtype=np.int64)
    animal_cohort = np.zeros(len(animals), dtype=np.int64)
    if COHORT in frame.columns:
        c_txt = frame[COHORT].astype(str).to_numpy()
        cohorts = tuple(sorted(pd.unique(c_txt), key=_natural))
        ic = {c: i for i, c in enumerate(cohorts)}
        obs_cohort = np.array([ic[c] for c in c_txt], dtype=np.int64)
        animal_cohort = obs_cohort[first]
        bad = np.flatnonzero(obs_cohort != animal_cohort[obs_animal])
        if len(bad):
            k = bad[0]
            raise DesignError(
                f"row {rows[k]}: animal {animal_txt[k]!r} is in cohort {c_txt[k]!r} but also in cohort "
                f"{cohorts[animal_cohort[obs_animal[k]]]!r}. Fix: an animal is tested in one cohort; correct "
                "the cohort or the animal ID."
            )
        if len(cohorts) < 2:
            cohorts, obs_cohort, animal_cohort = (), np.zeros(len(frame), np.int64), np.zeros(len(animals), np.int64)
    value = frame[VALUE].to_numpy(dtype=float)
    censored = frame[CENSORED].to_numpy(dtype=bool)
    if not np.all(np.isfinite(value)):
        raise DesignError("the outcome has missing or infinite values. Fix: read the sheet with io.read_factorial.")
    if options.log:
        bad = np.flatnonzero(value <= 0)
        if len(bad):
            raise DesignError(
                f"row {rows[bad[0]]}: the value {value[bad[0]]:g} is not above zero, so it has no logarithm "
                "(family='lognormal'). Fix: use family='normal' or 'student', or check the value."
            )
    if censored.all():
        raise DesignError(
            "every value is censored (at the cut-off), so the cell means cannot be estimated. Fix: check "
            "the censoring column or --censor-at."
        )
    if len(value) and np.all(value == value[0]):
        column = f"the outcome column {outcome!r}" if outcome else "the outcome"
        raise DesignError(
            f"every value of {column} is {value[0]:g} (in all {len(value)} rows used), so there is no variation to "
            "model: the residual SD, the effects and the checks are undefined. Fix: check that the outcome (--outcome) "
            "names the measured column and that --where keeps the rows you mean."
        )
    y = np.log(value) if options.log else value.copy()
    data = FactorialData(
        frame=frame.reset_index(drop=True),
        factors=factors,
        levels_a=levels_a,
        levels_b=levels_b,
        animals=animals,
        cohorts=cohorts,
        obs_a=obs_a,
        obs_b=obs_b,
        obs_animal=obs_animal,
        obs_cohort=obs_cohort,
        animal_a=animal_a,
        animal_b=animal_b,
        animal_cohort=animal_cohort,
        value=value,
        y=y,
        censored=censored,
        family=options.family,
        animal_ids_made_up=animal_ids_made_up,
        blocker=options.blocker,
    )
    if data.cohort_kind == "fixed":
        why = _cohort_confounding(data)
        if why:
            raise DesignError(
                f"the cohort is confounded with the factors: {why}. A fixed cohort block cannot be "
                "estimated beside them (in the Bayesian model or the ANOVA). Fix: leave out --cohort, or "
                "analyse the cohort as a factor."
            )
    return data


def _natural(text: str):
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _check_factors(factors: Sequence[str]) -> tuple[str, str]:
    if isinstance(factors, str) or not isinstance(factors, Sequence) or len(factors) != 2:
        raise DesignError(
            f"factors must name exactly two columns (A and B), got {factors!r}. "
            'Fix: factors=["treatment", "antibody"] (--factor treatment --factor antibody).'
        )
    a, b = (str(f) for f in factors)
    if a == b:
        raise DesignError(f"the two factors are the same column {a!r}. Fix: name two different columns.")
    for f in (a, b):
        if f in RESERVED_NAMES:
            raise DesignError(
                f"a factor cannot be called {f!r}, a name the model or its tables use. Fix: rename the "
                "column in the sheet (e.g. 'Treatment')."
            )
    return a, b


# ------------------------------------------------------------------------------ priors


def location_scale(y: np.ndarray, censored: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood mean and SD of a normal sample with right-censored values.

    ``y`` on the model scale (log for lognormal), censored values at their censoring time;
    a censored value contributes P(Y > y). Without censoring: the sample mean and the SD
    (ddof = 1, as before). With censoring: R's ``survreg(Surv(y, event) ~ 1, dist =
    "gaussian")`` (``"lognormal"`` on the raw times), so that a prior scaled from it respects
    the censoring instead of taking the censored values as observed.
    """
    y = np.asarray(y, dtype=float)
    censored = np.asarray(censored, dtype=bool)
    m = float(np.mean(y))
    s = float(np.std(y, ddof=1)) if len(y) > 1 else 1.0
    s = s if np.isfinite(s) and s > 0 else 1.0
    if not censored.any() or censored.all():
        return m, s
    from scipy.optimize import minimize

    obs, cens = y[~censored], y[censored]

    def nll(theta):
        mu, log_sd = theta
        sd = np.exp(log_sd)
        return -(stats.norm.logpdf(obs, mu, sd).sum() + stats.norm.logsf(cens, mu, sd).sum())

    fit = minimize(nll, x0=[m, np.log(s)], method="Nelder-Mead",
                   options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 20000, "maxfev": 40000})
    mu, sd = float(fit.x[0]), float(np.exp(fit.x[1]))
    if not (fit.success and np.isfinite(mu) and np.isfinite(sd) and sd > 0):
        return m, s
    return mu, sd


def default_priors(data: FactorialData, options: FactorialOptions) -> dict[str, dict]:
    """Weakly informative priors scaled to the data (name -> distribution and parameters).

    ``m`` and ``s`` are the mean and SD of the outcome on the model scale (log for
    lognormal) over all rows; with censored rows, the maximum-likelihood mean and SD of a
    censored normal sample (`location_scale`), never the censored values taken as observed.
    ``prior_scale`` multiplies every scale (and divides the rate of nu's Gamma).
    """
    m, s = location_scale(data.y, data.censored)
    k = float(options.prior_scale)
    priors = {
        "cell_mean": {"dist": "Normal", "mu": round(m, 6), "sigma": round(2.5 * s * k, 6)},
        "sigma": {"dist": "HalfNormal", "sigma": round(s * k, 6)},
    }
    if data.family == "student":
        priors["nu"] = {"dist": "Gamma", "alpha": 2.0, "beta": round(0.1 / k, 6)}
    if data.animal_effect:
        priors["sigma_animal"] = {"dist": "HalfNormal", "sigma": round(s * k, 6)}
    if data.cohort_kind == "fixed":
        priors["cohort_effect"] = {"dist": "ZeroSumNormal", "sigma": round(s * k, 6)}
    elif data.cohort_kind == "random":
        priors["sigma_cohort"] = {"dist": "HalfNormal", "sigma": round(s * k, 6)}
    return priors


def resolve_priors(data: FactorialData, options: FactorialOptions, user: Mapping[str, Mapping] | None = None) -> dict:
    """Priors merged user > data-scaled > default.

    A user entry with ``"dist"`` replaces the default entry; without it, it updates the
    default's parameters (``{"sigma": {"sigma": 10}}``). The cell-mean prior must stay
    Normal: the Savage-Dickey Bayes factor uses its closed form.
    """
    priors = {k: dict(v) for k, v in default_priors(data, options).items()}
    for name, spec in (user or {}).items():
        if name not in priors:
            allowed = ", ".join(priors)
            raise DesignError(
                f"there is no prior called {name!r} in this model. Fix: use one of {allowed}."
            )
        if not isinstance(spec, Mapping):
            raise DesignError(f"prior {name!r} must be a dict like {{'dist': 'Normal', 'mu': 0, 'sigma': 1}}.")
        spec = dict(spec)
        if "dist" in spec:
            if not hasattr(pm, str(spec["dist"])):
                raise DesignError(f"prior {name!r}: PyMC has no distribution {spec['dist']!r}. Fix: e.g. 'HalfNormal'.")
            priors[name] = spec
        else:
            priors[name].update(spec)
    cm = priors["cell_mean"]
    if cm.get("dist") != "Normal" or set(cm) != {"dist", "mu", "sigma"}:
        raise DesignError(
            "the cell-mean prior must be Normal(mu, sigma) (the Savage-Dickey Bayes factor of the "
            "interaction uses its closed form). Fix: give {'mu': ..., 'sigma': ...} for 'cell_mean'."
        )
    return priors


def _prior(name: str, spec: dict, **kwargs):
    params = {k: v for k, v in spec.items() if k != "dist"}
    return getattr(pm, spec["dist"])(name, **params, **kwargs)


def interaction_prior_sd(cell_mean_sigma: float) -> float:
    """Prior SD of a 2 x 2 interaction contrast under iid Normal(m, s) cell means: 2 s.

    mu_ab - mu_a0b - mu_ab0 + mu_a0b0 is a sum of four independent terms of variance s^2
    (m cancels), so its prior is Normal(0, sqrt(4 s^2)) = Normal(0, 2 s).
    """
    return 2.0 * float(cell_mean_sigma)


def interaction_prior_density_at_zero(cell_mean_sigma: float) -> float:
    """Prior density of the interaction contrast at 0: 1 / (sqrt(2 pi) 2 s)."""
    return float(stats.norm.pdf(0.0, loc=0.0, scale=interaction_prior_sd(cell_mean_sigma)))


# ------------------------------------------------------------------------------ model


def build_model(data: FactorialData, priors: dict[str, dict], options: FactorialOptions) -> pm.Model:
    """The PyMC model, named dims ``<A>``, ``<B>`` (+ ``animal``, ``cohort``), ``obs``, ``obs_censored``.

    The cell-mean prior's location and scale are ``pm.Data`` (``cell_mean_prior_mu``,
    ``cell_mean_prior_sigma``) so that refits with another prior scale reuse one compilation.
    """
    a_name, b_name = data.factors
    observed = np.flatnonzero(~data.censored)
    cens = np.flatnonzero(data.censored)
    coords: dict[str, list] = {a_name: list(data.levels_a), b_name: list(data.levels_b), "obs": observed.tolist()}
    if len(cens):
        coords["obs_censored"] = cens.tolist()
    if data.animal_effect:
        coords[ANIMAL] = list(data.animals)
    if data.cohort_kind != "none":
        coords[COHORT] = list(data.cohorts)
    with pm.Model(coords=coords) as model:
        prior_mu = pm.Data("cell_mean_prior_mu", float(priors["cell_mean"]["mu"]))
        prior_sigma = pm.Data("cell_mean_prior_sigma", float(priors["cell_mean"]["sigma"]))
        cell_mean = pm.Normal("cell_mean", mu=prior_mu, sigma=prior_sigma, dims=(a_name, b_name))
        grand = pm.Deterministic("grand_mean", cell_mean.mean())
        pm.Deterministic("main_effect_a", cell_mean.mean(axis=1) - grand, dims=a_name)
        pm.Deterministic("main_effect_b", cell_mean.mean(axis=0) - grand, dims=b_name)
        pm.Deterministic(
            "interaction_effect",
            cell_mean - cell_mean.mean(axis=1, keepdims=True) - cell_mean.mean(axis=0, keepdims=True) + grand,
            dims=(a_name, b_name),
        )
        if data.cohort_kind == "fixed":
            cohort = _prior("cohort_effect", priors["cohort_effect"], dims=COHORT)
        elif data.cohort_kind == "random":
            sigma_cohort = _prior("sigma_cohort", priors["sigma_cohort"])
            z = pm.Normal("cohort_z", 0.0, 1.0, dims=COHORT)
            cohort = pm.Deterministic("cohort_effect", sigma_cohort * z, dims=COHORT)
        else:
            cohort = None
        if data.animal_effect:
            expected = cell_mean[data.animal_a, data.animal_b]
            if cohort is not None:
                expected = expected + cohort[data.animal_cohort]
            sigma_animal = _prior("sigma_animal", priors["sigma_animal"])
            if data.centred:
                level = pm.Normal("animal_mean", mu=expected, sigma=sigma_animal, dims=ANIMAL)
                pm.Deterministic("animal_effect", level - expected, dims=ANIMAL)
            else:
                z = pm.Normal("animal_z", 0.0, 1.0, dims=ANIMAL)
                effect = pm.Deterministic("animal_effect", sigma_animal * z, dims=ANIMAL)
                level = expected + effect
            mu = level[data.obs_animal]
        else:
            mu = cell_mean[data.obs_a, data.obs_b]
            if cohort is not None:
                mu = mu + cohort[data.obs_cohort]
        sigma = _prior("sigma", priors["sigma"])
        nu = _prior("nu", priors["nu"]) if data.family == "student" else None

        def dist(m):
            if data.family == "student":
                return pm.StudentT.dist(nu=nu, mu=m, sigma=sigma)
            if data.family == "lognormal":
                return pm.LogNormal.dist(mu=m, sigma=sigma)
            return pm.Normal.dist(mu=m, sigma=sigma)

        # Observed and censored rows are separate terms: a censored Student-t costs an
        # incomplete beta function (and its gradient) per row.
        if len(observed):
            m = mu[observed]
            # pm.Data: a compiled model takes new data of the same shape (calibration, planning).
            obs_values = pm.Data("y_data", data.value[observed], dims="obs")
            if data.family == "student":
                pm.StudentT("y", nu=nu, mu=m, sigma=sigma, observed=obs_values, dims="obs")
            elif data.family == "lognormal":
                pm.LogNormal("y", mu=m, sigma=sigma, observed=obs_values, dims="obs")
            else:
                pm.Normal("y", mu=m, sigma=sigma, observed=obs_values, dims="obs")
        if len(cens):
            cut = data.value[cens]
            pm.Censored("y_censored", dist(mu[cens]), lower=None, upper=cut, observed=cut, dims="obs_censored")
    return model


def free_parameters(data: FactorialData) -> list[str]:
    """Names of the free parameters the diagnostics gate checks."""
    names = ["cell_mean", "sigma"]
    if data.family == "student":
        names.append("nu")
    if data.animal_effect:
        names += ["sigma_animal", "animal_mean" if data.centred else "animal_z"]
    if data.cohort_kind == "fixed":
        names.append("cohort_effect")
    elif data.cohort_kind == "random":
        names += ["sigma_cohort", "cohort_z"]
    return names


# ------------------------------------------------------------------------------ estimands


def cell_key(a: str, b: str) -> str:
    """Cell label ``"a|b"`` (results.json ``n_per_group`` keys)."""
    return f"{a}|{b}"


def contrast_draws(cell_mean: xr.DataArray, data: FactorialData) -> dict[str, xr.DataArray]:
    """Contrasts of the cell means on the model scale (differences; log ratios for lognormal).

    Returns ``simple_a`` (dims A = non-reference levels, B: a - a0 within b),
    ``simple_b`` (dims A, B = non-reference levels: b - b0 within a), ``interaction`` (dims
    A, B both non-reference: (a - a0 | b) - (a - a0 | b0)) and, only when the design names a
    blocker, ``blockade_pct`` (same dims): with B the blocker 100 (1 - (a - a0 | b) / (a - a0
    | b0)), the % of A's effect that b abolishes; with A the blocker 100 (1 - (b - b0 | a) /
    (b - b0 | a0)).
    """
    a_name, b_name = data.factors
    a0, b0 = data.reference
    a_other, b_other = list(data.levels_a[1:]), list(data.levels_b[1:])
    simple_a = cell_mean.sel({a_name: a_other}) - cell_mean.sel({a_name: a0}, drop=True)
    simple_b = cell_mean.sel({b_name: b_other}) - cell_mean.sel({b_name: b0}, drop=True)
    under_b = simple_a.sel({b_name: b_other})
    under_ref = simple_a.sel({b_name: b0}, drop=True)
    out = {"simple_a": simple_a, "simple_b": simple_b, "interaction": under_b - under_ref}
    if data.blocker == b_name:
        out["blockade_pct"] = 100.0 * (1.0 - under_b / under_ref)
    elif data.blocker == a_name:
        out["blockade_pct"] = 100.0 * (1.0 - simple_b.sel({a_name: a_other}) / simple_b.sel({a_name: a0}, drop=True))
    return out


def total_sd(posterior: xr.Dataset) -> xr.DataArray | None:
    """sqrt(sigma^2 + sigma_animal^2 + sigma_cohort^2) over the random effects present; None without."""
    parts = [posterior[n] for n in ("sigma_animal", "sigma_cohort") if n in posterior]
    if not parts:
        return None
    total = posterior["sigma"] ** 2
    for p in parts:
        total = total + p**2
    return np.sqrt(total)


def estimand_draws(posterior: xr.Dataset, data: FactorialData) -> dict[str, xr.DataArray]:
    """Posterior draws of every reported quantity, on the reporting scale.

    Normal / Student: ``cell`` (cell means), ``main_a``, ``main_b`` (sum-to-zero main
    effects), ``simple_a``, ``simple_b``, ``interaction`` (differences). Lognormal: ``cell``
    = exp(cell mean) (cell medians), main effects, simple effects and interaction as ratios,
    plus ``pct_change_a`` / ``pct_change_b`` = 100 (ratio - 1). Always: ``blockade_pct`` and
    Cohen's d (``d_simple_a``, ``d_simple_b``, ``d_interaction``: model-scale contrast /
    sigma; ``dtot_*`` on the total SD when there are random effects).
    """
    a_name, b_name = data.factors
    mu = posterior["cell_mean"]
    con = contrast_draws(mu, data)
    main_a = centre(mu.mean(b_name), [a_name])
    main_b = centre(mu.mean(a_name), [b_name])
    out: dict[str, xr.DataArray] = {}
    tr = np.exp if data.family == "lognormal" else (lambda x: x)
    out["cell"] = tr(mu)
    out["main_a"] = tr(main_a)
    out["main_b"] = tr(main_b)
    for key in ("simple_a", "simple_b", "interaction"):
        out[key] = tr(con[key])
    if data.family == "lognormal":
        out["pct_change_a"] = 100.0 * (np.exp(con["simple_a"]) - 1.0)
        out["pct_change_b"] = 100.0 * (np.exp(con["simple_b"]) - 1.0)
    if "blockade_pct" in con:
        out["blockade_pct"] = con["blockade_pct"]
    sigma = posterior["sigma"]
    for key in ("simple_a", "simple_b", "interaction"):
        out[f"d_{key}"] = con[key] / sigma
    tot = total_sd(posterior)
    if tot is not None:
        for key in ("simple_a", "simple_b", "interaction"):
            out[f"dtot_{key}"] = con[key] / tot
    return out


def gated_estimands(posterior: xr.Dataset, data: FactorialData) -> dict[str, xr.DataArray]:
    """The reported contrasts, each flattened to one dimension of "a|b" labels, for the gate.

    (Simple effects of A and of B carry different levels on the same factor dimensions,
    which one Dataset cannot hold side by side.)
    """
    a_name, b_name = data.factors
    con = contrast_draws(posterior["cell_mean"], data)
    out = {}
    for key, da in {"cell_mean": posterior["cell_mean"], **con}.items():
        da = da.transpose("chain", "draw", a_name, b_name)
        labels = [cell_key(a, b) for a in da[a_name].values for b in da[b_name].values]
        out[key] = xr.DataArray(
            da.values.reshape(da.sizes["chain"], da.sizes["draw"], -1), dims=("chain", "draw", f"{key}_cell"),
            coords={"chain": da["chain"].values, "draw": da["draw"].values, f"{key}_cell": labels},
        )
    return out


def _rope(options: FactorialOptions, kind: str) -> tuple[float, float] | None:
    """ROPE on the reporting scale: kind "diff", "ratio" or "pct"."""
    if options.rope is None:
        return None
    r = float(options.rope)
    if kind == "diff":
        return (-r, r)
    if kind == "ratio":
        return (1.0 / (1.0 + r / 100.0), 1.0 + r / 100.0)
    return (100.0 * (1.0 / (1.0 + r / 100.0) - 1.0), r)


def estimates_table(draws: dict[str, xr.DataArray], data: FactorialData, options: FactorialOptions) -> pd.DataFrame:
    """One row per estimand element, columns `ESTIMATE_COLUMNS` (frequentist columns empty)."""
    a_name, b_name = data.factors
    a0, b0 = data.reference
    log = data.family == "lognormal"
    eff_scale = "ratio" if log else "difference"
    null_eff = 1.0 if log else 0.0
    rope_eff = _rope(options, "ratio" if log else "diff")
    kw = {"ci_prob": options.ci_prob, "ci_kind": options.ci_kind}
    frames = []

    def add(da, name, scale, null, rope, meta, headline=False):
        tab = describe(da, rope=rope, null=null, **kw)
        metas = [meta(r) for r in tab.to_dict("records")]
        tab = tab.assign(
            name=name, scale=scale, headline=headline,
            label=[m["label"] for m in metas], group=[m.get("group") for m in metas],
            reference=[m.get("reference") for m in metas], cell=[m.get("cell") for m in metas],
        )
        frames.append(tab)

    add(draws["cell"], "cell_median" if log else "cell_mean", "median (exp of log-scale mean)" if log else "outcome",
        0.0, None, lambda r: {"label": f"{r[a_name]}, {r[b_name]}", "cell": cell_key(r[a_name], r[b_name])})
    add(draws["main_a"], "main_effect", "ratio to grand median" if log else "deviation from grand mean",
        null_eff, rope_eff, lambda r: {"label": f"main effect of {a_name}: {r[a_name]} (sum-to-zero)",
                                       "group": a_name, "cell": str(r[a_name])})
    add(draws["main_b"], "main_effect", "ratio to grand median" if log else "deviation from grand mean",
        null_eff, rope_eff, lambda r: {"label": f"main effect of {b_name}: {r[b_name]} (sum-to-zero)",
                                       "group": b_name, "cell": str(r[b_name])})
    meta_a = lambda r: {"label": f"{r[a_name]} vs {a0} within {r[b_name]}", "group": a_name,  # noqa: E731
                        "cell": cell_key(r[a_name], r[b_name]), "reference": cell_key(a0, r[b_name])}
    meta_b = lambda r: {"label": f"{r[b_name]} vs {b0} within {r[a_name]}", "group": b_name,  # noqa: E731
                        "cell": cell_key(r[a_name], r[b_name]), "reference": cell_key(r[a_name], b0)}
    meta_i = lambda r: {"label": f"({r[a_name]} vs {a0}) under {r[b_name]} minus under {b0}",  # noqa: E731
                        "group": f"{a_name}:{b_name}", "cell": cell_key(r[a_name], r[b_name]),
                        "reference": cell_key(a0, b0)}
    add(draws["simple_a"], "simple_effect", eff_scale, null_eff, rope_eff, meta_a, headline=True)
    add(draws["simple_b"], "simple_effect", eff_scale, null_eff, rope_eff, meta_b)
    add(draws["interaction"], "interaction", "ratio of ratios" if log else "difference of differences",
        null_eff, rope_eff, meta_i, headline=True)
    if "blockade_pct" in draws:
        # group: "treated:blocker" (results.blockade_base reads which simple effect it divides by)
        if data.blocker == b_name:
            def meta_blk(r):
                return {"label": f"% of the {r[a_name]} vs {a0} effect abolished by {r[b_name]} (vs {b0})",
                        "group": f"{a_name}:{b_name}", "cell": cell_key(r[a_name], r[b_name]),
                        "reference": cell_key(a0, b0)}
        else:
            def meta_blk(r):
                return {"label": f"% of the {r[b_name]} vs {b0} effect abolished by {r[a_name]} (vs {a0})",
                        "group": f"{b_name}:{a_name}", "cell": cell_key(r[a_name], r[b_name]),
                        "reference": cell_key(a0, b0)}
        add(draws["blockade_pct"], "blockade_pct", "percent (P relative to 50 %)" + (", log scale" if log else ""),
            50.0, None, meta_blk, headline=True)
    if log:
        add(draws["pct_change_a"], "pct_change", "percent change", 0.0, _rope(options, "pct"), meta_a)
        add(draws["pct_change_b"], "pct_change", "percent change", 0.0, _rope(options, "pct"), meta_b)
    on_log = ", log scale" if log else ""
    for prefix, name, sd_text in (("d", "cohens_d", "residual SD" + on_log), ("dtot", "cohens_d_total", "total SD" + on_log)):
        if f"{prefix}_simple_a" not in draws:
            continue
        for key, meta in (("simple_a", meta_a), ("simple_b", meta_b), ("interaction", meta_i)):
            add(draws[f"{prefix}_{key}"], name, sd_text, 0.0, None,
                lambda r, meta=meta, sd_text=sd_text: {**meta(r), "label": f"d ({sd_text}): {meta(r)['label']}"})
    table = pd.concat(frames, ignore_index=True)
    table["time"] = np.nan
    for col in ESTIMATE_COLUMNS:
        if col not in table.columns:
            table[col] = None if col in ("freq_method", "freq_survival") else np.nan
    for col in ("freq_method", "freq_survival"):
        table[col] = table[col].astype(object)
    return table[ESTIMATE_COLUMNS]


# ------------------------------------------------------------------------------ Bayes factor


def interaction_bayes_factors(cell_mean: xr.DataArray, data: FactorialData, cell_mean_sigma: float,
                              *, multiplier: float = 1.0) -> pd.DataFrame:
    """Savage-Dickey BF10 of every 2 x 2 interaction contrast (model scale) against 0."""
    inter = contrast_draws(cell_mean, data)["interaction"]
    a_name, b_name = data.factors
    a0, b0 = data.reference
    density = interaction_prior_density_at_zero(cell_mean_sigma)
    rows = []
    for a in data.levels_a[1:]:
        for b in data.levels_b[1:]:
            draws = inter.sel({a_name: a, b_name: b}).values
            bf = savage_dickey_bf10(draws, density)
            rows.append({
                "contrast": f"({a} vs {a0}) under {b} minus under {b0}",
                "cell": cell_key(a, b),
                "prior_multiplier": float(multiplier),
                "cell_mean_prior_sd": float(cell_mean_sigma),
                "interaction_prior_sd": interaction_prior_sd(cell_mean_sigma),
                **bf,
            })
    return pd.DataFrame(rows)


def bayes_factor_sensitivity(model: pm.Model, tree: xr.DataTree, data: FactorialData, priors: dict,
                             settings: SamplerSettings, *, multipliers: Sequence[float] = BF_PRIOR_MULTIPLIERS,
                             progress: bool = False) -> pd.DataFrame:
    """BF10 of the interaction at the cell-mean prior scale times each multiplier.

    Multiplier 1 uses the main fit's draws; the others refit the model compiled once with
    nutpie, swapping ``cell_mean_prior_sigma`` in with ``compiled.with_data``. Each row
    also carries its fit's divergences and the max R-hat of the cell means.
    """
    from bayes_igf1.compile import compile_model

    base = float(priors["cell_mean"]["sigma"])
    tables = []
    compiled = None
    for mult in multipliers:
        if mult == 1.0:
            post = tree["posterior"].to_dataset()
            tab = interaction_bayes_factors(post["cell_mean"], data, base, multiplier=1.0)
            main = diagnose(tree, var_names=["cell_mean"], settings=settings)
            tab["divergences"] = main.divergences
            tab["max_rhat"] = main.max_rhat
        else:
            if compiled is None:
                compiled = compile_model(model)
            refit = sample_compiled(
                compiled.with_data(cell_mean_prior_sigma=np.asarray(base * mult, dtype=float)),
                settings=settings, progress=progress,
            )
            diag = diagnose(refit, var_names=["cell_mean"], settings=settings)
            tab = interaction_bayes_factors(refit["posterior"]["cell_mean"], data, base * mult, multiplier=mult)
            tab["divergences"] = diag.divergences
            tab["max_rhat"] = diag.max_rhat
        tables.append(tab)
    return pd.concat(tables, ignore_index=True)


# ------------------------------------------------------------------------------ Bayesian ANOVA


def bayesian_anova(posterior: xr.Dataset, data: FactorialData) -> dict[str, dict[str, xr.DataArray]]:
    """Finite-population SD of each source (Gelman 2005) and the posterior partial eta squared.

    Sources (model scale): A, B, A:B (sum-to-zero decomposition of the cell means), cohort
    and animal when in the model, residual.

    ``sd``: Gelman's finite-population SD of each batch of effects (ddof = 1; the
    interaction's sum of squares over (I - 1)(J - 1)), a summary of its own.

    ``partial_eta_sq``: defined as the ANOVA defines it. The effect variance of a source is
    the mean over the I x J cells of its squared sum-to-zero effect (a population variance:
    a main effect of A counts once per cell, so var_A = mean over a of alpha_a^2); the error
    variance is the mean squared residual of the unit the ANOVA analyses (an animal: its
    mean row minus cell mean and cohort effect; a row when animals have one row), so that
    eta_p^2 = var_effect / (var_effect + var_error) mirrors SS_effect / (SS_effect +
    SS_error) = (SS_effect / N) / (SS_effect / N + SS_error / N). A cohort block's effect
    variance is the mean over the animals of their cohort's squared effect.
    """
    a_name, b_name = data.factors
    mu = posterior["cell_mean"]
    main_a = centre(mu.mean(b_name), [a_name])
    main_b = centre(mu.mean(a_name), [b_name])
    inter = centre(mu, [a_name, b_name])
    dof = (len(data.levels_a) - 1) * (len(data.levels_b) - 1)
    inter_name = f"{a_name}:{b_name}"
    sds = {
        a_name: finite_population_sd(main_a, [a_name]),
        b_name: finite_population_sd(main_b, [b_name]),
        inter_name: np.sqrt((inter**2).sum([a_name, b_name]) / dof),
    }
    effect_var = {
        a_name: (main_a**2).mean(a_name),
        b_name: (main_b**2).mean(b_name),
        inter_name: (inter**2).mean([a_name, b_name]),
    }
    if data.cohort_kind != "none":
        sds[COHORT] = finite_population_sd(posterior["cohort_effect"], [COHORT])
        # a block's effect variance: the mean over the animals of their cohort's squared effect
        effect_var[COHORT] = (posterior["cohort_effect"].isel(
            {COHORT: xr.DataArray(data.animal_cohort, dims="unit")}, drop=True) ** 2).mean("unit")
    if data.animal_effect:
        sds[ANIMAL] = finite_population_sd(posterior["animal_effect"], [ANIMAL])
    resid = xr.DataArray(data.y, dims="obs_all") - _fitted(posterior, data)
    sds["residual"] = finite_population_sd(resid, ["obs_all"])
    # The ANOVA's unit: per-animal mean residuals (the animal effect is part of them).
    unit_resid = resid.assign_coords(unit=("obs_all", data.obs_animal)).groupby("unit").mean()
    error_var = (unit_resid**2).mean("unit")
    eta = {k: v / (v + error_var) for k, v in effect_var.items()}
    return {"sd": sds, "partial_eta_sq": eta}


def _fitted(posterior: xr.Dataset, data: FactorialData) -> xr.DataArray:
    a_name, b_name = data.factors
    mu = posterior["cell_mean"].isel({a_name: xr.DataArray(data.obs_a, dims="obs_all"),
                                      b_name: xr.DataArray(data.obs_b, dims="obs_all")}, drop=True)
    if data.cohort_kind != "none":
        mu = mu + posterior["cohort_effect"].isel({COHORT: xr.DataArray(data.obs_cohort, dims="obs_all")}, drop=True)
    if data.animal_effect:
        mu = mu + posterior["animal_effect"].isel({ANIMAL: xr.DataArray(data.obs_animal, dims="obs_all")}, drop=True)
    return mu


def bayesian_anova_table(posterior: xr.Dataset, data: FactorialData, *, ci_prob: float, ci_kind: str) -> pd.DataFrame:
    """The Bayesian ANOVA table: one row per source, SD and partial eta squared with intervals."""
    parts = bayesian_anova(posterior, data)
    rows = []
    for source, sd in parts["sd"].items():
        d = describe(sd, ci_prob=ci_prob, ci_kind=ci_kind).iloc[0]
        row = {"source": source, "sd_median": d["median"], "sd_ci_low": d["ci_low"], "sd_ci_high": d["ci_high"],
               "eta_median": np.nan, "eta_ci_low": np.nan, "eta_ci_high": np.nan}
        if source in parts["partial_eta_sq"]:
            e = describe(parts["partial_eta_sq"][source], ci_prob=ci_prob, ci_kind=ci_kind).iloc[0]
            row.update(eta_median=e["median"], eta_ci_low=e["ci_low"], eta_ci_high=e["ci_high"])
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ frequentist twin

ANOVA_TABLE_COLUMNS = [
    "effect", "df_num", "df_den", "F", "p", "epsilon_gg", "p_gg", "epsilon_hf", "p_hf",
    "partial_eta_sq", "generalized_eta_sq", "SS", "SS_error",
]


def _freq_frame(data: FactorialData) -> pd.DataFrame:
    """``animal, <A>, <B>, value`` (+ ``cohort``) on the model scale (log for lognormal), one row per observation."""
    a_name, b_name = data.factors
    frame = pd.DataFrame({
        ANIMAL: np.asarray(data.animals, dtype=object)[data.obs_animal],
        a_name: pd.Categorical(np.asarray(data.levels_a, dtype=object)[data.obs_a], categories=list(data.levels_a)),
        b_name: pd.Categorical(np.asarray(data.levels_b, dtype=object)[data.obs_b], categories=list(data.levels_b)),
        VALUE: data.y,
    })
    if data.cohort_kind != "none":
        frame[COHORT] = np.asarray(data.cohorts, dtype=object)[data.obs_cohort]
    return frame


def animal_means(data: FactorialData) -> pd.DataFrame:
    """One row per animal: the mean of its rows on the model scale (afex ``fun_aggregate = mean``)."""
    a_name, b_name = data.factors
    f = _freq_frame(data)
    means = np.bincount(data.obs_animal, weights=data.y) / np.bincount(data.obs_animal)
    frame = pd.DataFrame({
        ANIMAL: list(data.animals),
        a_name: pd.Categorical(np.asarray(data.levels_a, dtype=object)[data.animal_a], categories=f[a_name].cat.categories),
        b_name: pd.Categorical(np.asarray(data.levels_b, dtype=object)[data.animal_b], categories=f[b_name].cat.categories),
        VALUE: means,
    })
    if data.cohort_kind != "none":
        frame[COHORT] = np.asarray(data.cohorts, dtype=object)[data.animal_cohort]
    return frame


def twin_block(data: FactorialData) -> str | None:
    """The cohort column when the frequentist twin adjusts for it, like the Bayesian model (else None).

    A fixed cohort block is always in the twin (``prepare`` refuses a confounded one); a
    random cohort enters the twin as an additive fixed block when that model is of full rank,
    else (e.g. litters nested in a factor) the twin has no cohort term and says so.
    """
    if data.cohort_kind == "none":
        return None
    if data.cohort_kind == "fixed" or not _cohort_confounding(data):
        return COHORT
    return None


def _cohort_confounding(data: FactorialData) -> str:
    """"" when ``y ~ cohort + A * B`` is of full rank over the animals, else why not (one sentence)."""
    return between.block_confounding(animal_means(data), factors=data.factors, block=COHORT)


def frequentist_twin(data: FactorialData, options: FactorialOptions) -> dict:
    """The analysis the lab would run, from `bayes_igf1.frequentist.between`.

    Type III (or II) ANOVA on one value per animal (per-animal means when animals have
    several rows), the REML mixed model on all rows when they do, Tukey over the cells,
    planned simple effects (Sidak p and intervals) with Hedges' g, the interaction contrast
    of every 2 x 2 sub-table against the reference levels from the full model's pooled
    error (emmeans), Shapiro-Wilk and Levene; for censored outcomes Kaplan-Meier medians,
    log-rank tests of the simple effects and a Cox model with interaction. Model scale
    (log values for lognormal); censored values enter the t-based analyses at the cut-off.

    Like for like: when the Bayesian model has a cohort term, the ANOVA and the contrasts
    adjust for the cohort as an additive fixed block (``car::Anova(lm(y ~ cohort + A * B),
    type = 3)``, emmeans on that model); the lab's plain A * B ANOVA, as the paper ran it,
    is kept beside it as ``extra["anova_plain"]``.
    """
    a_name, b_name = data.factors
    factors = [a_name, b_name]
    rows = _freq_frame(data)
    per_animal = animal_means(data)
    block = twin_block(data)
    out: dict = {"notes": []}
    anova = between.factorial_anova(rows, dv=VALUE, factors=factors, ss_type=options.ss_type, subject=ANIMAL,
                                    block=block)
    table = anova.table.copy()
    for col in ("epsilon_gg", "p_gg", "epsilon_hf", "p_hf"):
        table[col] = np.nan
    out["anova"] = table[ANOVA_TABLE_COLUMNS]
    extra: dict = {}
    if block is not None:
        note = anova.note + " The cohort is a block here as in the Bayesian model."
        plain = between.factorial_anova(rows, dv=VALUE, factors=factors, ss_type=options.ss_type, subject=ANIMAL)
        plain_table = plain.table.copy()
        for col in ("epsilon_gg", "p_gg", "epsilon_hf", "p_hf"):
            plain_table[col] = np.nan
        extra["anova_plain"] = plain_table[ANOVA_TABLE_COLUMNS]
    elif data.cohort_kind != "none":
        note = anova.note + (f" No cohort term: {_cohort_confounding(data)}; the Bayesian model's random cohort "
                             "effect has no fixed-block twin.")
    else:
        note = anova.note + f" Effects {a_name}, {b_name} and {a_name}:{b_name} only (no cohort in the design)."
    if data.family == "lognormal":
        note += " On the log of the outcome (family lognormal)."
    if data.censored.any():
        note += " Censored values enter at their cut-off: this ANOVA ignores the censoring."
    out["anova_data"] = {
        "n_animals": len(data.animals),
        "animals_dropped": [],
        "reason": "",
        "dv": f"log({VALUE})" if data.family == "lognormal" else VALUE,
        "aggregated": bool(anova.aggregated),
        "n_analysed": int(anova.n_analysed),
        "block": block,
        "note": note,
    }
    if data.animal_effect:
        try:
            mm = between.factorial_mixed_model(rows, dv=VALUE, factors=factors, subject=ANIMAL)
            out["mixed_model"] = {
                "fixed_effects": mm.fixed_effects.to_dict("records"),
                "sd_animal": mm.sd_animal,
                "sd_residual": mm.sd_residual,
                "method": mm.method,
                "reml_criterion": mm.reml_criterion,
                "n_obs": mm.n_obs,
                "n_animals": mm.n_animals,
                "formula": f"{VALUE} ~ {a_name} * {b_name} + (1 | {ANIMAL})",
            }
        except ConvergenceError as err:
            out["mixed_model"] = {"method": "REML", "error": str(err)}
            out["notes"].append(f"The REML mixed model did not converge: {err}")
    else:
        out["mixed_model"] = {
            "method": None,
            "note": "One observation per animal: no mixed model (the animal variance is the residual).",
        }
    kw = {"dv": VALUE, "factors": factors, "ci_prob": options.ci_prob, "block": block}
    extra["tukey"] = between.cell_posthoc(per_animal, **kw)
    simple = between.simple_effects(per_animal, **kw)
    extra["simple_effects"] = simple
    out["simple_effects"] = simple
    inter = between.interaction_contrasts(per_animal, **kw)
    inter.insert(0, "cell", [cell_key(a, b) for a, b in zip(inter["level_a"], inter["level_b"], strict=True)])
    extra["interaction_contrasts"] = inter
    out["interaction"] = inter
    extra["assumptions"] = between.assumption_checks(per_animal, dv=VALUE, factors=factors)
    cells = []
    for a in data.levels_a:
        for b in data.levels_b:
            v = per_animal.loc[(per_animal[a_name] == a) & (per_animal[b_name] == b), VALUE].to_numpy()
            n = len(v)
            se = float(np.std(v, ddof=1) / np.sqrt(n))
            half = float(stats.t.ppf(0.5 + options.ci_prob / 2, n - 1)) * se
            cells.append({"cell": cell_key(a, b), a_name: a, b_name: b, "n": n, "mean": float(np.mean(v)),
                          "se": se, "ci_low": float(np.mean(v)) - half, "ci_high": float(np.mean(v)) + half})
    extra["cell_means"] = pd.DataFrame(cells)
    out["cells"] = extra["cell_means"]
    if data.censored.any():
        if data.animal_effect:
            out["notes"].append("Kaplan-Meier / log-rank / Cox were not run: they need one censored time per animal.")
        else:
            surv = pd.DataFrame({
                a_name: rows[a_name], b_name: rows[b_name], "_time": data.value, "_event": ~data.censored,
            })
            try:
                cens = between.censored_tests(surv, time="_time", event="_event", factors=factors)
            except DesignError as err:
                out["notes"].append(f"Kaplan-Meier / log-rank / Cox were not run: {err}")
            else:
                for key in ("km_median", "logrank", "cox", "cox_interaction", "cox_main"):
                    if cens.get(key) is not None:
                        extra[key] = cens[key]
                extra["survival_note"] = cens["note"]
                extra["survival_ties"] = cens["ties"]
    out["extra"] = extra
    return out


def attach_frequentist(estimates: pd.DataFrame, twin: dict, data: FactorialData, options: FactorialOptions) -> pd.DataFrame:
    """Copy the matching frequentist figures into the ``freq_*`` columns (side by side).

    ``freq_se`` is the standard error on the scale the contrast is estimated on: the
    outcome's units, or the log scale for lognormal rows (ratios, % change), whose intervals
    are back-transformed. ``freq_ci_*`` are unadjusted intervals; ``freq_ci_*_adjusted`` are
    adjusted like ``freq_p_adjusted`` (Sidak over the planned family), so that an interval
    stands beside the p-value it agrees with.
    """
    est = estimates.copy()
    log = data.family == "lognormal"
    a_name, b_name = data.factors
    b0 = data.reference[1]
    scale_txt = " on log values, back-transformed to a ratio (SE on the log scale)" if log else ""
    cens_txt = "; censored values at the cut-off (ignores censoring)" if data.censored.any() else ""
    agg_txt = "; per-animal means" if data.animal_effect else ""
    block_txt = f"; adjusted for {COHORT} as a fixed block" if twin["anova_data"].get("block") else ""
    cols = ["freq_estimate", "freq_se", "freq_ci_low", "freq_ci_high", "freq_ci_low_adjusted",
            "freq_ci_high_adjusted", "freq_p", "freq_p_adjusted"]

    def put(mask, method, estimate, se, lo, hi, p=np.nan, p_adj=np.nan, lo_adj=np.nan, hi_adj=np.nan):
        idx = est.index[mask]
        if len(idx) != 1:
            return
        est.loc[idx[0], cols] = [estimate, se, lo, hi, lo_adj, hi_adj, p, p_adj]
        est.at[idx[0], "freq_method"] = method

    def back(x):
        return float(np.exp(x)) if log else float(x)

    def pct(x):
        return 100.0 * (np.exp(x) - 1.0)

    # Cell means: mean of the cell's (per-animal) values with a t interval on its own SD.
    for r in twin["cells"].to_dict("records"):
        method = ("geometric mean, t interval on log values (SE on the log scale)" if log
                  else "cell mean, t interval (cell's own SD)") + agg_txt + cens_txt
        put((est["name"].isin(["cell_mean", "cell_median"])) & (est["cell"] == r["cell"]), method,
            back(r["mean"]), r["se"], back(r["ci_low"]), back(r["ci_high"]))
    simple_lookup = {}
    for r in twin["simple_effects"].to_dict("records"):
        within_level = r["within"].split("=", 1)[1]
        cell = cell_key(r["level"], within_level) if r["effect"] == a_name else cell_key(within_level, r["level"])
        simple_lookup[(r["effect"], cell)] = r
    method_t = (f"t contrast of the A*B cell-means model{scale_txt}, Sidak over the planned family "
                "(adjusted p and interval)" + block_txt + agg_txt + cens_txt)
    for (factor, cell), r in simple_lookup.items():
        mask = (est["name"] == "simple_effect") & (est["group"] == factor) & (est["cell"] == cell)
        put(mask, method_t, back(r["estimate"]), r["se"], back(r["ci_low"]), back(r["ci_high"]), r["p"],
            r["p_adjusted"], back(r["ci_low_adjusted"]), back(r["ci_high_adjusted"]))
        if log:
            mask = (est["name"] == "pct_change") & (est["group"] == factor) & (est["cell"] == cell)
            put(mask, method_t.replace("a ratio", "a % change"), pct(r["estimate"]), r["se"], pct(r["ci_low"]),
                pct(r["ci_high"]), r["p"], r["p_adjusted"], pct(r["ci_low_adjusted"]), pct(r["ci_high_adjusted"]))
        mask = (est["name"] == "cohens_d") & (est["group"] == factor) & (est["cell"] == cell)
        put(mask, "Hedges' g of the two cells alone (their pooled SD), pingouin" + (", log values" if log else ""),
            r["hedges_g"], r["g_se"], r["g_ci_low"], r["g_ci_high"])
    inter = twin["interaction"]
    family = " Sidak over the sub-tables (adjusted p and interval)" if len(inter) > 1 else ""
    method_i = (f"t contrast (difference of differences) of the A*B cell-means model, pooled error{scale_txt}"
                + ("," + family if family else "") + block_txt + agg_txt + cens_txt)
    for r in inter.to_dict("records"):
        put((est["name"] == "interaction") & (est["cell"] == r["cell"]), method_i, back(r["estimate"]), r["se"],
            back(r["ci_low"]), back(r["ci_high"]), r["p"], r["p_adjusted"], back(r["ci_low_adjusted"]),
            back(r["ci_high_adjusted"]))
    _attach_survival(est, twin, data)
    # Blockade (with a blocker): plug-in ratio of the two simple effects, no interval.
    a0 = data.reference[0]
    for b in data.levels_b[1:] if data.blocker else ():
        for a in data.levels_a[1:]:
            if data.blocker == b_name:  # A's effect under b and under b0
                under_b = simple_lookup.get((a_name, cell_key(a, b)))
                under_0 = simple_lookup.get((a_name, cell_key(a, b0)))
            else:  # B's effect under a and under a0
                under_b = simple_lookup.get((b_name, cell_key(a, b)))
                under_0 = simple_lookup.get((b_name, cell_key(a0, b)))
            if under_b is None or under_0 is None or under_0["estimate"] == 0:
                continue
            value = 100.0 * (1.0 - under_b["estimate"] / under_0["estimate"])
            put((est["name"] == "blockade_pct") & (est["cell"] == cell_key(a, b)),
                "plug-in from the simple-effect estimates (no interval)" + (", log scale" if log else ""),
                value, np.nan, np.nan, np.nan)
    return est


def _attach_survival(est: pd.DataFrame, twin: dict, data: FactorialData) -> None:
    """The censoring-aware tests beside each estimate (``freq_survival``, results.json
    ``frequentist.survival``): Kaplan-Meier median of each cell, log-rank test of each simple
    effect (Sidak), the Cox interaction (efron) or why it was not fitted."""
    extra = twin.get("extra", {})
    if "logrank" not in extra:
        return
    a_name, b_name = data.factors

    def put(mask, value):
        for i in est.index[mask]:
            est.at[i, "freq_survival"] = jsonable(value)  # plain numbers, as results.json holds them

    for r in extra["km_median"].to_dict("records"):
        cell = cell_key(str(r[a_name]), str(r[b_name]))
        put(est["name"].isin(["cell_mean", "cell_median"]) & (est["cell"] == cell), {
            "test": "Kaplan-Meier", "km_median": r["median"] if r["median_reached"] else None,
            "median_reached": bool(r["median_reached"]), "median_label": r["median_label"],
            "n": int(r["n"]), "events": int(r["events"])})
    for r in extra["logrank"].to_dict("records"):
        wl = r["within"].split("=", 1)[1]
        cell = cell_key(r["level"], wl) if r["effect"] == a_name else cell_key(wl, r["level"])
        put(est["name"].isin(["simple_effect", "pct_change"]) & (est["group"] == r["effect"]) & (est["cell"] == cell), {
            "test": "log-rank", "chisq": r["chisq"], "df": r["df"], "p": r["p"], "p_adjusted": r["p_adjusted"],
            "adjustment": "Sidak over the planned simple effects"})
    cox = extra.get("cox")
    for i in est.index[est["name"] == "interaction"]:
        a, b = str(est.at[i, "cell"]).split("|", 1)
        if cox is not None:
            term = cox[cox["term"] == f"{a_name}{a}:{b_name}{b}"]
            if len(term):
                t = term.iloc[0]
                est.at[i, "freq_survival"] = jsonable({
                    "test": f"Cox interaction ({extra.get('survival_ties', 'efron')} ties)", "estimable": True,
                    "hazard_ratio": t["hazard_ratio"], "coef": t["coef"], "se": t["se"], "z": t["z"], "p": t["p"]})
        else:
            main = extra.get("cox_main")
            est.at[i, "freq_survival"] = jsonable({
                "test": "Cox interaction", "estimable": False,
                "reason": str(extra.get("survival_note", "")).removeprefix("No Cox model with the interaction: "),
                "main_effects": None if main is None else main[["term", "hazard_ratio", "se", "z", "p"]].to_dict("records"),
            })


# ------------------------------------------------------------------------------ text


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _prior_text(spec: dict) -> str:
    params = ", ".join(f"{k}={_fmt(float(v))}" for k, v in spec.items() if k != "dist")
    return f"{spec['dist']}({params})"


def model_text(data: FactorialData, priors: dict, options: FactorialOptions, outcome: str) -> str:
    """The model in words and formulas, each prior stated (methods section)."""
    a_name, b_name = data.factors
    I, J = len(data.levels_a), len(data.levels_b)
    words = [
        f"Bayesian {I} x {J} between-animal model of {outcome!r} with one mean per {a_name} x {b_name} cell "
        f"({data.n_obs} observations of {len(data.animals)} animals)."
    ]
    lik = {
        "normal": "y[i] ~ Normal(mu[i], sigma)",
        "student": "y[i] ~ StudentT(nu, mu[i], sigma)",
        "lognormal": "y[i] ~ LogNormal(mu[i], sigma)   (log y[i] ~ Normal(mu[i], sigma))",
    }[data.family]
    terms = [f"cell_mean[{a_name}[i], {b_name}[i]]"]
    if data.cohort_kind != "none":
        terms.append("cohort_effect[cohort[i]]")
    if data.animal_effect:
        terms.append("animal_effect[animal[i]]")
    lines = [lik, "mu[i] = " + " + ".join(terms)]
    lines.append(f"cell_mean[a, b] ~ {_prior_text(priors['cell_mean'])}   iid over the {I * J} cells")
    if data.cohort_kind == "fixed":
        lines.append(f"cohort_effect ~ {_prior_text(priors['cohort_effect'])}   (sum to zero: fixed block effect, "
                     f"{len(data.cohorts)} cohorts)")
    elif data.cohort_kind == "random":
        lines.append(f"cohort_effect[c] = sigma_cohort z[c], z[c] ~ Normal(0, 1), sigma_cohort ~ "
                     f"{_prior_text(priors['sigma_cohort'])}   (random effect, {len(data.cohorts)} cohorts)")
    if data.animal_effect:
        form = "centred" if data.centred else "non-centred"
        lines.append(f"animal_effect[j] ~ Normal(0, sigma_animal), sigma_animal ~ {_prior_text(priors['sigma_animal'])}"
                     f"   ({form})")
    lines.append(f"sigma ~ {_prior_text(priors['sigma'])}")
    if data.family == "student":
        lines.append(f"nu ~ {_prior_text(priors['nu'])}")
    if data.censored.any():
        lines.append("censored rows: P(Y > cut-off) = 1 - F(cut-off | mu[i], sigma)   (right-censored, pm.Censored)")
    s = float(priors["cell_mean"]["sigma"])
    words.append(
        "Weakly informative priors scaled to the data" + (" (log scale)" if data.family == "lognormal" else "")
        + (f", all scales multiplied by prior_scale = {options.prior_scale:g}" if options.prior_scale != 1 else "") + ":"
    )
    tail = [
        f"The cell means are also reported as sum-to-zero main effects of {a_name} and {b_name} and their interaction.",
        f"The interaction contrast of a 2 x 2 sub-table, mu[a,b] - mu[a0,b] - mu[a,b0] + mu[a0,b0], has the prior "
        f"Normal(0, 2 x {_fmt(s)}) = Normal(0, {_fmt(2 * s)}) implied by the iid Normal cell-mean prior; its Bayes "
        "factor is the Savage-Dickey density ratio at 0, recomputed with the cell-mean prior scale halved and doubled.",
    ]
    if data.family == "lognormal":
        tail.append("Cell means are on the log scale: cell medians exp(cell_mean) and effects as ratios are reported.")
    return "\n".join(words[:1] + [words[1]] + ["    " + ln for ln in lines] + tail)


def design_notes(data: FactorialData, options: FactorialOptions) -> list[str]:
    """Sentences on the modelling choices (cohort, animal effect, IDs, censoring, family)."""
    notes = []
    if data.animal_ids_made_up:
        notes.append("No animal column was given: each row was taken as one animal (IDs made up from the row number).")
    if data.animal_effect:
        form = ("centred" if data.centred else "non-centred") + (
            f" ({data.obs_per_animal:.1f} observations per animal on average; centred from {CENTRED_MIN_OBS})")
        notes.append(
            f"Animals have several observations ({data.n_obs} rows for {len(data.animals)} animals): the model has an "
            f"animal-level random intercept, {form}."
        )
    else:
        notes.append(
            "One observation per animal: the animal effect cannot be told apart from the residual, so the model has "
            "no animal random effect (the residual SD includes the between-animal variation)."
        )
    if data.cohort_kind == "fixed":
        notes.append(
            f"Cohort ({len(data.cohorts)} levels) entered as a fixed block effect (sum-to-zero, Normal prior): with "
            f"fewer than {COHORT_RANDOM_MIN} cohorts a random cohort effect is not estimable (a 3-level cohort random "
            "effect made every sampler diverge). Cell means are at the average cohort."
        )
    elif data.cohort_kind == "none" and COHORT in data.frame.columns:
        notes.append("The cohort column has a single level in the rows used: the model has no cohort term.")
    elif data.cohort_kind == "random":
        notes.append(
            f"Cohort ({len(data.cohorts)} levels) entered as a random effect (non-centred, HalfNormal prior on its SD); "
            "cell means are for the population of cohorts."
        )
    if data.censored.any():
        n = int(data.censored.sum())
        cuts = np.unique(data.value[data.censored])
        at = (f"at the cut-off ({cuts[0]:g})" if len(cuts) == 1 else
              f"each at its own censoring time ({cuts.min():g} to {cuts.max():g})")
        notes.append(
            f"{n} value(s) were right-censored {at}: they enter the likelihood through the probability of "
            "exceeding the censoring time, not dropped or replaced; the default priors are scaled from a "
            "censored-normal fit of the outcome, and the predictive checks censor each replicate at its "
            "animal's own time. The ANOVA and t-based tests treat censored values as observed (they ignore "
            "the censoring); Kaplan-Meier, log-rank and Cox treat them as censored."
        )
    if data.family == "lognormal":
        notes.append("Family lognormal: cell means on the log scale; cell medians exp(.) and effects as ratios "
                     "(and % change) are reported; Cohen's d and the % blockade are on the log scale.")
    if data.family == "student":
        notes.append("Family student: Cohen's d divides by the Student-t scale sigma (not an SD).")
    if data.random_effects:
        notes.append("cohens_d_total divides by sqrt(sigma^2 + "
                     + " + ".join(n for n, on in (("sigma_animal^2", data.animal_effect),
                                                  ("sigma_cohort^2", data.cohort_kind == "random")) if on)
                     + "); fixed cohort blocks are not part of the total SD.")
    if data.blocker:
        notes.append(f"% blockade: the share of the other factor's effect abolished by {data.blocker} (named as the "
                     "blocker); its posterior probabilities are relative to 50% (P(blockade > 50%)).")
    return notes


# ------------------------------------------------------------------------------ reading


def run_checks(tree: xr.DataTree, data: FactorialData) -> dict:
    """Posterior predictive p-values per cell, prior predictive range, PSIS-LOO, prior sensitivity.

    The plausible range of an outcome is 0 (when no value is negative; else the smallest
    value less the observed range) to the largest value plus the observed range. Checks of
    a lognormal outcome are on the log scale.
    """
    from bayes_igf1 import checks

    frame = data.frame.reset_index(drop=True)
    lo_v, hi_v = float(np.min(data.value)), float(np.max(data.value))
    span = hi_v - lo_v
    low = 0.0 if lo_v >= 0 else lo_v - span
    high = hi_v + span
    log = data.family == "lognormal"
    transform = np.log if log else None
    if log:
        low, high = np.log(max(low, 1e-9 * hi_v)), np.log(high)
    out: dict = {}
    if data.censored.any():
        # Replicates censored as the data were: each row at its own censoring time (a censored
        # row's observed time; for a row whose event was seen, the follow-up end, i.e. the
        # largest censoring time), and statistics that respect censoring on both sides.
        cut = checks.censoring_times(data.value, data.censored)
        rep = checks.replicates(tree, ("y", "y_censored"), len(data.value))
        groups = frame[list(data.factors)].astype(str).agg("|".join, axis=1).to_numpy()
        ppc = checks.censored_ppc(rep, data.value, data.censored, cut, groups)
        out["ppc"] = {"statistics": ppc.to_dict("records"), "scale": "outcome, censored as observed",
                      "n_extreme": int(((ppc["p"] < 0.025) | (ppc["p"] > 0.975)).sum())}
        count = (rep >= cut * (1 - 1e-9)).sum(axis=1)
        observed = int(data.censored.sum())
        out["censoring"] = {
            "cut_off": float(np.max(cut)), "per_row_censoring_times": bool(len(np.unique(cut)) > 1),
            "observed_censored": observed,
            "predicted_censored_median": float(np.median(count)),
            "predicted_censored_90": [float(q) for q in np.quantile(count, [0.05, 0.95])],
            "p": float(np.mean(count >= observed)),
        }
    elif "y" in tree["observed_data"].data_vars:
        ppc = checks.posterior_predictive_stats(tree, frame, by=list(data.factors), transform=transform)
        out["ppc"] = {"statistics": ppc.to_dict("records"), "scale": "log" if log else "identity",
                      "n_extreme": int(((ppc["p"] < 0.025) | (ppc["p"] > 0.975)).sum())}
    if "y" in tree["observed_data"].data_vars:
        out["prior_predictive"] = {
            **checks.prior_predictive_range(tree, low=low, high=high, transform=transform),
            "note": ("log scale; " if log else "") + "plausible range 0 (or the smallest value less the "
                    "observed range) to the largest value plus the observed range",
        }
    out["loo"] = checks.loo_check(tree, frame, var_names=("y", "y_censored"))
    sens = checks.prior_sensitivity(tree, gated_estimands(tree["posterior"].to_dataset(), data))
    out["sensitivity"] = {"table": sens.to_dict("records"),
                          "flagged": sens[sens["diagnosis"] != "ok"].to_dict("records"),
                          "method": "power-scaling (Kallioinen et al. 2024), arviz-stats psense, threshold 0.05"}
    return out


# ------------------------------------------------------------------------------ public entry


def analyse_factorial(
    source: str | Path | pd.DataFrame,
    *,
    outcome: str,
    factors: Sequence[str],
    animal: str | None = None,
    cohort: str | None = None,
    family: str = "normal",
    censored: str | None = None,
    event: str | None = None,
    censor_at: float | None = None,
    where: Sequence[str] = (),
    sheet: str | int | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    reference: Mapping[str, str] | None = None,
    rope: float | None = None,
    ss_type: int = 3,
    ci_prob: float = CI_PROB,
    ci_kind: str = CI_KIND,
    prior_scale: float = 1.0,
    blocker: str | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    priors: Mapping[str, Mapping] | None = None,
    bf_sensitivity: bool = True,
    retry: bool = True,
) -> AnalysisResult:
    """Fit the A x B model, compute its estimands and run the frequentist twin.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The sheet (long layout, one row per observation) or a DataFrame.
    outcome : str
        Outcome column.
    factors : sequence of two str
        Factor columns A and B (A's simple effects are the headline).
    animal, cohort : str, optional
        Animal ID and cohort columns. Without an animal column each row is one animal.
    family : {"normal", "student", "lognormal"}
    censored : str, optional
        Column flagging right-censored rows, 1 = censored (value = that row's censoring time).
    event : str, optional
        Column in the survival coding, 1 = the event happened, 0 = censored (instead of ``censored``).
    censor_at : float, optional
        Test cut-off: values at it are right-censored.
    where : sequence of str
        ``COLUMN=VALUE`` row filters.
    sheet : str or int, optional
        Excel sheet.
    decimal, thousands : str, optional
        The sheet's decimal and thousands separators (see `bayes_igf1.io.read_factorial`).
    reference : mapping of str to str, optional
        Factor -> reference level (default: named like a control, else the lowest number, else sorted).
    rope : float, optional
        Half-width of the ROPE (outcome units; % change for lognormal).
    ss_type : {3, 2}
        Sums of squares of the frequentist ANOVA.
    ci_prob, ci_kind : float, str
        Interval mass and kind ("hdi" or "eti").
    prior_scale : float
        Multiplies every prior scale.
    blocker : str, optional
        The factor that is an antagonist or neutralizing antibody (e.g. "antibody"): the %
        blockade of the other factor's effect is reported only when it is named.
    draws, tune, chains, seed : int
        NUTS settings (nutpie).
    progress : bool
        Show nutpie's progress bar.
    priors : mapping, optional
        User priors (name -> spec), merged over the data-scaled defaults.
    bf_sensitivity : bool
        Refit with the cell-mean prior scale x0.5 and x2 for the Bayes factor's sensitivity.
    retry : bool
        Refit once with more tuning when the diagnostics gate fails.

    Returns
    -------
    AnalysisResult
    """
    options = FactorialOptions(family=family, rope=rope, ss_type=ss_type, ci_prob=ci_prob, ci_kind=ci_kind,
                               prior_scale=prior_scale, blocker=blocker)
    factors = _check_factors(factors)
    for name, value, low in (("draws", draws, 10), ("tune", tune, 0), ("chains", chains, 2)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise DesignError(f"{name} must be a whole number >= {low}, not {value!r}. Fix: e.g. {name}=1000.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise DesignError(f"seed must be a non-negative whole number, not {seed!r}. Fix: seed={DEFAULT_SEED}.")
    if reference is not None and not isinstance(reference, Mapping):
        raise DesignError(
            f"reference must map each factor to its reference level, got {reference!r}. "
            'Fix: reference={"treatment": "saline", "antibody": "IgG"}.'
        )
    if priors is not None and not isinstance(priors, Mapping):
        raise DesignError("priors must be a dict of name -> {'dist': ..., parameters}. Fix: e.g. {'sigma': {'sigma': 20}}.")
    if isinstance(where, str):
        where = [where]
    sheet_obj = read_factorial(source, outcome=outcome, factors=factors, animal=animal, cohort=cohort,
                               censored=censored, event=event, censor_at=censor_at, sheet=sheet, where=where,
                               decimal=decimal, thousands=thousands,
                               positive=options.log, reference=dict(reference) if reference else None)
    data = prepare(sheet_obj.frame, factors, options, animal_ids_made_up=sheet_obj.animal_ids_made_up,
                   outcome=sheet_obj.columns.get("value"))
    resolved = resolve_priors(data, options, priors)
    model = build_model(data, resolved, options)
    settings = SamplerSettings(draws=int(draws), tune=int(tune), chains=int(chains), seed=int(seed))
    with warnings.catch_warnings():
        # The cell-mean prior's pm.Data are constants of the fit: the posterior predictive
        # rightly keeps the posterior draws of cell_mean (PyMC warns that they may have changed).
        warnings.filterwarnings("ignore", category=ImplicitFreezeWarning, message=r"(?s).*cell_mean_prior")
        tree, diag = fit(model, settings=settings, var_names=free_parameters(data), progress=progress, retry=retry,
                         derived=lambda post: gated_estimands(post, data))
    posterior = tree["posterior"].to_dataset()

    est = estimates_table(estimand_draws(posterior, data), data, options)
    twin = frequentist_twin(data, options)
    twin["anova_data"]["dv"] = f"log({outcome})" if options.log else str(outcome)  # the user's column, not 'value'
    est = attach_frequentist(est, twin, data, options)
    bayes_anova = bayesian_anova_table(posterior, data, ci_prob=options.ci_prob, ci_kind=options.ci_kind)
    if bf_sensitivity:
        bf = bayes_factor_sensitivity(model, tree, data, resolved, diag.settings, progress=progress)
    else:
        bf = interaction_bayes_factors(posterior["cell_mean"], data, float(resolved["cell_mean"]["sigma"]))
    notes = design_notes(data, options)
    notes.append(twin["anova_data"]["note"])
    notes.extend(twin["notes"])
    notes.extend(_bf_notes(bf))
    if not diag.passed:
        notes.insert(0, "FAILED diagnostics gate: " + "; ".join(diag.problems) + ". Do not report these estimates "
                     "before fixing the fit (more draws / tuning, or a simpler model).")
    a_name, b_name = factors
    settings_out = {
        "source": str(source) if not isinstance(source, pd.DataFrame) else "<DataFrame>",
        "outcome": outcome, "factors": list(factors), "animal": animal, "cohort": cohort, "family": family,
        "censored": censored, "event": event, "censor_at": censor_at, "where": list(where), "sheet": sheet,
        "decimal": decimal, "thousands": thousands,
        "reference": {a_name: data.levels_a[0], b_name: data.levels_b[0]},
        "rope": rope, "ss_type": ss_type, "ci_prob": ci_prob, "ci_kind": ci_kind, "prior_scale": prior_scale,
        "blocker": blocker,
        "draws": int(draws), "tune": int(tune), "chains": int(chains), "seed": int(seed),
        "priors": {k: dict(v) for k, v in (priors or {}).items()}, "bf_sensitivity": bool(bf_sensitivity),
        "retry": bool(retry),
        "model": {"animal_effect": data.animal_effect, "animal_centred": data.animal_effect and data.centred,
                  "cohort": data.cohort_kind},
    }
    return AnalysisResult(
        design=DESIGN,
        title=f"{outcome} by {a_name} x {b_name}",
        settings=settings_out,
        seed=int(seed),
        sheet=sheet_obj,
        priors=resolved,
        model_text=model_text(data, resolved, options, outcome),
        tree=tree,
        diagnostics=diag,
        estimates=est,
        bayes_anova=bayes_anova,
        anova=twin["anova"],
        anova_data=twin["anova_data"],
        mixed_model=twin["mixed_model"],
        frequentist_extra=twin["extra"],
        checks={**run_checks(tree, data), "bayes_factor": bf},
        notes=tuple(notes),
    )


def _bf_notes(bf: pd.DataFrame) -> list[str]:
    out = []
    for cell, grp in bf.groupby("cell", sort=False):
        main = grp.loc[grp["prior_multiplier"] == 1.0].iloc[0]
        others = grp.loc[grp["prior_multiplier"] != 1.0]
        sens = "; ".join(f"prior x{m:g}: {fmt_bf(v)}" for m, v in zip(others["prior_multiplier"], others["BF10"], strict=True))
        out.append(
            f"Savage-Dickey Bayes factor BF10 of the interaction {main['contrast']}: {fmt_bf(main['BF10'])}, "
            f"{bf_category(main['BF10'])} (interaction prior Normal(0, {main['interaction_prior_sd']:.4g}); "
            f"{main['method']})" + (f"; {sens}" if sens else "") + "."
        )
    return out


# ------------------------------------------------------------------------------ the design


class Factorial:
    """The A x B between-animal design: the `bayes_igf1.designs.base.Design` protocol."""

    name = DESIGN
    unit_word = "cell"

    def analyse(self, source, **options) -> AnalysisResult:
        return analyse_factorial(source, **options)

    def groups(self, result) -> list[str]:
        f = result.sheet.frame
        out = [""]
        for name in result.sheet.factors:
            out = [f"{a}|{b}" if a else b for a in out for b in (str(x) for x in f[name].cat.categories)]
        return out

    def row_groups(self, result) -> pd.Series:
        f = result.sheet.frame
        parts = [f[name].astype(str).reset_index(drop=True) for name in result.sheet.factors]
        out = parts[0]
        for p in parts[1:]:
            out = out + "|" + p
        return out

    def log_scale(self, result) -> bool:
        return result.settings.get("family") == "lognormal"

    def predictive_transform(self, result):
        # the tree holds the raw values; a lognormal outcome is modelled on their log
        def same(v):
            return np.asarray(v, dtype=float)

        if self.log_scale(result):
            return (lambda v: np.log(np.clip(np.asarray(v, dtype=float), 1e-300, None))), np.exp, True
        return same, same, False

    def data_sentences(self, result) -> list[str]:
        return []

    def why_bayesian(self, result) -> str:
        blockade = " and of the % blockade" if (result.estimates["name"] == "blockade_pct").any() else ""
        return (f"Why Bayesian: a hierarchical model gives the posterior of the interaction{blockade} "
                "directly, with intervals for ratios the ANOVA cannot give, handles censored values and unequal cell "
                "sizes, and gives direct posterior probabilities for directional claims.")

    def frequentist_methods(self, result) -> str:
        from bayes_igf1.report.format import TIMES

        extra = result.frequentist_extra or {}
        ad = result.anova_data or {}
        ss = int(result.settings.get("ss_type", 3))
        a, b = (list(result.sheet.factors) + ["A", "B"])[:2]
        text = (f"For comparison, the analysis a laboratory would run: a two-way between-animal ANOVA ({a} {TIMES} {b}; "
                f"type {'III sums of squares with sum-to-zero contrasts' if ss == 3 else 'II sums of squares'}, as "
                f"afex / car compute them) on {ad.get('dv', 'the outcome')}"
                + (" (per-animal means)" if ad.get("aggregated") else "")
                + (f", with {ad['block']} as a fixed block as in the Bayesian model" if ad.get("block") else "") + ".")
        parts = []
        if "tukey" in extra:
            parts.append("Tukey HSD over all cells")
        if "simple_effects" in extra:
            parts.append("planned simple effects of each factor within each level of the other (t contrasts of the "
                         "cell-means model, Sidak-adjusted p and intervals over the family) with Hedges' g")
        if "interaction_contrasts" in extra:
            parts.append("the interaction contrast (difference of differences, the full model's pooled error)")
        if "assumptions" in extra:
            parts.append("Shapiro-Wilk test of the residuals and the median-centred Levene test")
        if "logrank" in extra:
            ties = extra.get("survival_ties", "efron")
            cox = ("a Cox proportional-hazards model with the interaction" if "cox" in extra else
                   f"a main-effects Cox proportional-hazards model ({a} + {b}; the model with the interaction was "
                   "not estimable, see Results)" if "cox_main" in extra else "no Cox model (not estimable, see Results)")
            parts.append("for the censored outcome, leading the comparison as the analyses that respect censoring: "
                         f"Kaplan-Meier medians, log-rank tests of the simple effects (Sidak) and {cox} ({ties} ties); "
                         "the ANOVA and t contrasts above take censored values as observed at the cut-off")
        mm = result.mixed_model or {}
        if mm.get("method") and mm.get("formula"):
            parts.append(f"a {mm['method']} linear mixed model ({mm['formula']})")
        return text + (" Also: " + "; ".join(parts) + "." if parts else "")

    def anova_head(self, result) -> str:
        ad = result.anova_data or {}
        ss = int(result.settings.get("ss_type", 3))
        block = f"; {ad['block']} as a fixed block, as in the Bayesian model" if ad.get("block") else ""
        return (f"Two-way ANOVA on {ad.get('dv', 'the outcome')} ({ad.get('n_analysed', ad.get('n_animals', '?'))} "
                f"animals; type {'III' if ss == 3 else 'II'}{block})")

    def results_sentences(self, result) -> list[tuple[str, str]]:
        from bayes_igf1.report.text import factorial_sentences

        return factorial_sentences(result)

    def rope_unit(self, result) -> str:
        return ""

    def effect_name(self, source: str, result) -> str:
        factors = list(result.sheet.factors)
        letters = {"A": factors[0] if factors else "A", "B": factors[1] if len(factors) > 1 else "B"}
        return ":".join(letters[p] if p in letters and p not in factors else p for p in str(source).split(":"))

    def frequentist_scale_note(self, result) -> str:
        return ""

    def figures(self, result) -> dict:
        from bayes_igf1.report import figures as F

        ci = f"{round(100 * float(result.settings.get('ci_prob', 0.95)))}%"
        kind = str(result.settings.get("ci_kind", "hdi")).upper()
        fig, _ = F.factorial_figure(result)
        blockade = (result.estimates["name"] == "blockade_pct").any()
        return {"factorial": (fig, (
            f"(a) Mean ± SEM of each cell with every animal as a dot; diamonds: posterior median of the cell mean "
            f"with its {ci} {kind}. (b) Interaction plot of the posterior cell means. "
            + ("(c, d) Posterior densities of the interaction contrast and of the % blockade" if blockade
               else "(c) Posterior density of the interaction contrast")
            + f" (shaded: {ci} {kind}; grey band: ROPE when set)."))}

    def finding(self, result) -> str:
        from bayes_igf1.report.format import fmt_interval, fmt_num
        from bayes_igf1.results import blockade_base

        e = result.estimates
        col = str(result.sheet.columns.get("value", ""))
        seconds = " s" if col.endswith("_s") or col.endswith("(s)") else ""

        def est(r: dict) -> str:
            unit = f" ({r['scale']})" if str(r["scale"]).startswith("ratio") else seconds  # ratios, not seconds
            return f"{fmt_num(r['median'])}{unit} [{fmt_interval(r['ci_low'], r['ci_high'])}]"

        out = [f"{r['label']}: {est(r)}"
               for r in e[(e["name"] == "simple_effect") & e["headline"].astype(bool)].to_dict("records")]
        out += [f"interaction {est(r)}" for r in e[e["name"] == "interaction"].to_dict("records")]
        for r in e[e["name"] == "blockade_pct"].to_dict("records"):
            base = blockade_base(e, r)
            if base is not None and not base["interpretable"]:
                out.append("blockade not stated (the effect under the reference level is not credibly non-zero)")
                continue
            out.append(f"blockade {fmt_num(r['median'])}% [{fmt_interval(r['ci_low'], r['ci_high'])}%], "
                       f"P(blockade > 50%) = {r['prob_above']:.2f}")
        bf = result.checks.get("bayes_factor")
        if bf is not None and len(bf):
            main = bf[bf["prior_multiplier"] == 1.0].iloc[0]
            low, high = fmt_bf(bf["BF10"].min()), fmt_bf(bf["BF10"].max())
            bf10 = fmt_bf(main["BF10"])
            spread = (f" ({low} with the prior scale halved or doubled too)" if low == high
                      else f" ({low} to {high} with the prior scale halved or doubled)") if len(bf) > 1 else ""
            out.append(f"BF10 (interaction) {bf10 if bf10[0] in '<>' else '= ' + bf10}, {bf_category(main['BF10'])}"
                       + spread)
        return "; ".join(out) + "." if out else "see the report."

    # ---------------------------------------------------------------- plan and calibrate

    #: ``bayes-igf1 plan`` options only this design takes: (flag, argparse dest).
    plan_options = (("--cell-means", "cell_means"), ("--sd", "sd"), ("--factor", "factors"))

    def plan_from_args(self, args, **common):
        from bayes_igf1 import plan
        from bayes_igf1.errors import BayesIGF1Error

        if args.factors and len(args.factors) != 2:
            raise BayesIGF1Error(f"Give --factor twice (got {len(args.factors)}), e.g. --factor treatment --factor antibody.")
        return plan.plan_factorial(source=args.source, cell_means=args.cell_means, sd=args.sd, family=args.family,
                                   factors=args.factors or plan.DEFAULT_FACTORS, **common)

    def plan_source(self, source, notes: list[str]) -> dict:
        from bayes_igf1.plan import _source_factorial

        return _source_factorial(source, notes)

    def plan_simulate(self, spec, n: int, index: int, seed: int) -> tuple[pd.DataFrame, dict]:
        from bayes_igf1.plan import _simulate_factorial

        return _simulate_factorial(spec, n, index, seed)

    def plan_prepare(self, spec, frame: pd.DataFrame):
        options = FactorialOptions(family=spec.family, blocker=spec.factors[1])
        return prepare(frame, spec.factors, options), options

    def plan_model(self, spec, data, options) -> tuple[pm.Model, list[str]]:
        return build_model(data, spec.priors, options), free_parameters(data)

    def plan_observations(self, spec, frame: pd.DataFrame) -> np.ndarray:
        # the model's y_data holds the values as read (a lognormal likelihood takes their log itself)
        return frame["value"].to_numpy(dtype=float)

    def plan_frequentist(self, spec, frame: pd.DataFrame) -> dict[str, float]:
        from bayes_igf1.plan import _factorial_freq

        return _factorial_freq(spec, frame)

    def plan_targets(self, spec) -> list[str]:
        return [f"{a}|{b}" for a in spec.levels_a[1:] for b in spec.levels_b[1:]]

    def plan_rules(self, spec, post, data, truth: dict) -> list[dict]:
        from bayes_igf1.plan import _factorial_rules

        return _factorial_rules(spec, post, data, truth)

    def plan_rule_names(self, spec) -> list[tuple[str, str, str]]:
        from bayes_igf1.plan import _factorial_rule_names

        return _factorial_rule_names(spec)

    def calibration_model(self, data_dir):
        from bayes_igf1.calibrate import factorial_model

        return factorial_model(data_dir)
